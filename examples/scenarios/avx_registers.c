// avx_registers: the main thread loads known values into ymm0-ymm3 and ymm15 (int32 lanes,
// floats, doubles with -0/inf/nan, repeated bytes, int64 lanes), then blocks in raw pause(2) system
// calls that touch no vector register, so live reads, gcore and snag dump all see exactly these values.
// A second thread writes $SNAG_READY once the values are loaded, then sleeps.
// Built with -mavx; tests check /proc/cpuinfo for avx before running it.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "scenario.h"

static volatile int g_loaded;

static void* reporter(void* arg) {
    (void)arg;
    while (!g_loaded) usleep(1000);
    const char* ready = getenv("SNAG_READY");
    if (ready) write_atomically(ready, "ready\n");
    for (;;) pause();
    return NULL;
}

int main(void) {
    static const int32_t ints[8] = {1, 2, 3, 4, 5, 6, 7, -8};
    static const float floats[8] = {1.5f, -2.25f, 0.1f, 3.0f, 0.0f, 0.0f, 0.0f, 1e10f};
    static double doubles[4] = {1.0 / 3, -0.0, 0, 0};
    static uint8_t bytes[32];
    static const int64_t longs[4] = {-1, 0x0123456789abcdefLL, 0, INT64_MIN};
    doubles[2] = 1.0 / doubles[3];   // inf
    doubles[3] = doubles[3] / doubles[3] * -1;  // nan
    for (int i = 0; i < 32; ++i) bytes[i] = i < 12 ? 7 : (uint8_t)(i * 9);
    pthread_t t;
    pthread_create(&t, NULL, reporter, NULL);
    __asm__ volatile(
        "vmovdqu %0, %%ymm0\n\t"
        "vmovups %1, %%ymm1\n\t"
        "vmovupd %2, %%ymm2\n\t"
        "vmovdqu %3, %%ymm3\n\t"
        "vmovdqu %4, %%ymm15\n\t"
        "movl $1, %5\n\t"
        "1: movl $34, %%eax\n\t"  // pause(2) by hand: blocked at one pc, no libc code in between
        "syscall\n\t"
        "jmp 1b"
        :
        : "m"(ints), "m"(floats), "m"(doubles), "m"(bytes), "m"(longs), "m"(g_loaded)
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm15", "rax", "rcx", "r11", "memory");
    return 0;
}
