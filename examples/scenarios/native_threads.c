// Native threads parked in known functions, for `snag bt` against gdb and eu-stack.
// spin_forever spins, wait_for_mutex blocks in pthread_mutex_lock on a mutex main holds,
// sleeper sits in nanosleep, recurse goes 50 frames deep and pauses; main joins.
// With SNAG_TICKS set, a fifth thread "ticker" (tick_forever) prints "tick N" lines every
// millisecond, so a test can check that attaching and detaching never disturbs the output.
// Readiness: once every parked thread is inside its blocking syscall (read from
// /proc/self/task/TID/syscall), it writes $SNAG_TRUTH (tids and functions) and "ready\n" to
// $SNAG_READY, both atomically (temp file + rename).
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"

enum { RECURSION_DEPTH = 50, MAX_PARKED = 5 };

struct parked {
  const char *name;      // thread name (pthread_setname_np), also in the truth file
  const char *function;  // the scenario function the thread stays in
  long syscall_nr;       // the syscall it blocks in, -1 for the spinner
  volatile pid_t tid;
};

static struct parked threads[MAX_PARKED] = {
    {"spinner", "spin_forever", -1, 0},
    {"mutex-waiter", "wait_for_mutex", SYS_futex, 0},
    {"sleeper", "sleeper", SYS_nanosleep, 0},
    {"recurser", "recurse", SYS_pause, 0},
    {"ticker", "tick_forever", -1, 0},
};
static int parked_count = MAX_PARKED - 1;  // the ticker only with SNAG_TICKS

static pthread_mutex_t held_by_main = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long spins;
static volatile int keep_parked = 1;  // never cleared; keeps the compiler from assuming no return

static void announce(int index) {
  pthread_setname_np(pthread_self(), threads[index].name);
  threads[index].tid = (pid_t)syscall(SYS_gettid);
}

__attribute__((noinline)) static void spin_forever(void) {
  for (;;)
    spins++;
}

__attribute__((noinline)) static void wait_for_mutex(void) {
  pthread_mutex_lock(&held_by_main);  // main never unlocks: blocks forever
  pthread_mutex_unlock(&held_by_main);
}

__attribute__((noinline)) static void sleeper(void) {
  for (;;) {
    struct timespec ts = {3600, 0};
    nanosleep(&ts, NULL);
  }
}

__attribute__((noinline)) static int recurse(int depth) {
  if (depth == 0) {
    while (keep_parked)
      pause();
    return 0;
  }
  return recurse(depth - 1) + 1;  // not a tail call: every level keeps its frame
}

__attribute__((noinline)) static void tick_forever(void) {
  char line[64];
  for (unsigned long n = 0;; n++) {
    int len = snprintf(line, sizeof line, "tick %lu\n", n);
    for (int done = 0; done < len;) {  // a short or interrupted write must not lose a byte
      ssize_t w = write(STDOUT_FILENO, line + done, (size_t)(len - done));
      if (w > 0)
        done += (int)w;
      else if (errno != EINTR)
        return;
    }
    struct timespec ts = {0, 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
}

static void *spinner_main(void *arg) {
  (void)arg;
  announce(0);
  spin_forever();
  return NULL;
}

static void *mutex_main(void *arg) {
  (void)arg;
  announce(1);
  wait_for_mutex();
  return NULL;
}

static void *sleeper_main(void *arg) {
  (void)arg;
  announce(2);
  sleeper();
  return NULL;
}

static void *recurser_main(void *arg) {
  (void)arg;
  announce(3);
  recurse(RECURSION_DEPTH);
  return NULL;
}

static void *ticker_main(void *arg) {
  (void)arg;
  announce(4);
  tick_forever();
  return NULL;
}

// The thread is inside the blocking syscall it will stay in (first field of .../syscall).
static int in_syscall(pid_t tid, long nr) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  long seen = -2;
  if (fgets(buf, sizeof buf, f))
    seen = strtol(buf, NULL, 10);
  fclose(f);
  return seen == nr || (nr == SYS_nanosleep && seen == SYS_clock_nanosleep);
}

static int all_parked(void) {
  for (int i = 0; i < parked_count; i++) {
    if (threads[i].tid == 0)
      return 0;
    if (threads[i].syscall_nr >= 0 && !in_syscall(threads[i].tid, threads[i].syscall_nr))
      return 0;
  }
  return spins > 0;
}

static void write_truth(const char *path) {
  char text[4096];
  int n = snprintf(text, sizeof text, "{\"pid\": %d, \"threads\": [\n", (int)getpid());
  n += snprintf(text + n, sizeof text - n,
                " {\"tid\": %d, \"name\": \"native_threads\", \"function\": \"main\"}",
                (int)getpid());
  for (int i = 0; i < parked_count; i++)
    n += snprintf(text + n, sizeof text - n,
                  ",\n {\"tid\": %d, \"name\": \"%s\", \"function\": \"%s\"}", (int)threads[i].tid,
                  threads[i].name, threads[i].function);
  snprintf(text + n, sizeof text - n, "\n], \"recursion_depth\": %d}\n", RECURSION_DEPTH);
  write_atomically(path, text);
}

int main(void) {
  void *(*bodies[MAX_PARKED])(void *) = {spinner_main, mutex_main, sleeper_main, recurser_main,
                                          ticker_main};
  pthread_t ids[MAX_PARKED];
  if (getenv("SNAG_TICKS"))
    parked_count = MAX_PARKED;
  pthread_mutex_lock(&held_by_main);
  for (int i = 0; i < parked_count; i++)
    if (pthread_create(&ids[i], NULL, bodies[i], NULL) != 0) {
      fprintf(stderr, "native_threads: pthread_create failed\n");
      return 3;
    }
  for (int tries = 0; !all_parked(); tries++) {
    if (tries > 10000) {  // 10 s
      fprintf(stderr, "native_threads: threads never parked\n");
      return 3;
    }
    usleep(1000);
  }
  const char *truth = getenv("SNAG_TRUTH");
  if (truth)
    write_truth(truth);
  const char *ready = getenv("SNAG_READY");
  if (ready)
    write_atomically(ready, "ready\n");
  for (int i = 0; i < parked_count; i++)
    pthread_join(ids[i], NULL);
  return 0;
}
