// debug_frame_only: main -> outer_c -> middle_b -> inner_a, parked in pause(). The file is
// compiled without unwind tables and without frame pointers (see CMakeLists.txt), so only
// .debug_frame describes these functions: .eh_frame has no entry for them and the rbp chain
// means nothing. An unwinder that reads .debug_frame shows the whole chain.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"

static volatile int g_stop;  // never set: the loop below must look like it can end

// Stack buffers move rsp by different amounts in each frame, and the work after each call
// keeps the calls from becoming tail calls.
__attribute__((noinline)) int inner_a(int depth) {
    volatile char pad[40];
    memset((char*)pad, depth, sizeof pad);
    const char* ready = getenv("SNAG_READY");
    if (ready) write_atomically(ready, "ready\n");
    while (!g_stop) pause();
    return pad[1];
}

__attribute__((noinline)) int middle_b(int depth) {
    volatile char pad[136];
    memset((char*)pad, depth, sizeof pad);
    return inner_a(depth + 1) + pad[3];
}

__attribute__((noinline)) int outer_c(int depth) {
    volatile char pad[72];
    memset((char*)pad, depth, sizeof pad);
    return middle_b(depth + 1) + pad[5];
}

int main(void) { return outer_c(1); }
