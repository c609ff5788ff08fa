// call_loop: THREADS threads each call tick() CALLS times (half through caller_a, half through
// caller_b) once $SNAG_TRIGGER exists, then park. For breakpoint, trace and bench tests: the
// truth names tick's address; "$SNAG_READY.done" gets "tid a_calls b_calls" lines when all finish.
// Usage: call_loop [THREADS [CALLS]]   (CALLS 0: call forever, never done)
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"

#define MAX_THREADS 64

static long g_calls;
static int g_threads;
static const char* g_trigger;
static volatile long g_ticks[MAX_THREADS];
static long g_a[MAX_THREADS], g_b[MAX_THREADS];
static int g_tids[MAX_THREADS];
static pthread_barrier_t g_done;

__attribute__((noinline)) void tick(volatile long* counter) { ++*counter; }
__attribute__((noinline)) void caller_a(volatile long* counter) { tick(counter); }
__attribute__((noinline)) void caller_b(volatile long* counter) { tick(counter); }

static void wait_for_trigger(void) {
    struct timespec ms = {0, 1000000};
    while (g_trigger && access(g_trigger, F_OK) != 0) nanosleep(&ms, NULL);
}

static void* worker(void* arg) {
    long index = (long)arg;
    g_tids[index] = gettid();
    wait_for_trigger();
    for (long i = 0; g_calls == 0 || i < g_calls; ++i) {
        if (i % 2 == 0) {
            caller_a(&g_ticks[index]);
            g_a[index]++;
        } else {
            caller_b(&g_ticks[index]);
            g_b[index]++;
        }
    }
    pthread_barrier_wait(&g_done);
    for (;;) pause();
    return NULL;
}

int main(int argc, char** argv) {
    g_threads = argc > 1 ? atoi(argv[1]) : 1;
    g_calls = argc > 2 ? atol(argv[2]) : 1000;
    if (g_threads < 1 || g_threads > MAX_THREADS) return 2;
    g_trigger = getenv("SNAG_TRIGGER");
    pthread_barrier_init(&g_done, NULL, (unsigned)g_threads + 1);
    pthread_t threads[MAX_THREADS];
    for (long i = 0; i < g_threads; ++i) pthread_create(&threads[i], NULL, worker, (void*)i);
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < g_threads; ++i)
        while (g_tids[i] == 0) nanosleep(&ms, NULL);
    const char* truth = getenv("SNAG_TRUTH");
    const char* ready = getenv("SNAG_READY");
    char text[4096];
    if (truth) {
        snprintf(text, sizeof text, "{\"pid\": %d, \"threads\": null, \"tick\": %lu, \"calls\": %ld, \"workers\": %d}\n",
                 getpid(), (unsigned long)(void*)tick, g_calls, g_threads);
        write_atomically(truth, text);
    }
    if (ready) write_atomically(ready, "ready\n");
    if (g_calls == 0) for (;;) pause();
    pthread_barrier_wait(&g_done);
    if (ready) {
        size_t n = 0;
        for (int i = 0; i < g_threads; ++i)
            n += (size_t)snprintf(text + n, sizeof text - n, "%d %ld %ld\n", g_tids[i], g_a[i], g_b[i]);
        char done[4096];
        snprintf(done, sizeof done, "%s.done", ready);
        write_atomically(done, text);
    }
    for (;;) pause();
}
