// The triage batch runner: jobs in worker processes, a crashing or hanging one ends alone.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "triage/batch.hpp"

TEST_CASE("triage batch: every job's output, exit status, crash and timeout are reported, N at a time") {
    std::map<size_t, snag::triage::JobResult> results;
    snag::triage::run_batch(
        5, {2, 2.0},
        [](size_t i) {
            std::printf("job %zu\n", i);
            std::fprintf(stderr, "snag: note %zu\n", i);
            if (i == 1) {
                signal(SIGSEGV, SIG_DFL);   // not doctest's or ASan's handler: die as a crash does
                raise(SIGSEGV);
            }
            if (i == 2) pause();   // never ends: the timeout kills it
            return i == 3 ? 2 : 0;
        },
        [&](snag::triage::JobResult&& r) { results[r.index] = std::move(r); });
    REQUIRE(results.size() == 5);
    CHECK(results[0].exit_code == 0);
    CHECK(results[0].out == "job 0\n");
    CHECK(results[0].err == "snag: note 0\n");
    CHECK(results[1].signal == SIGSEGV);
    CHECK(results[2].timed_out);
    CHECK(results[2].signal == SIGKILL);
    CHECK(results[3].exit_code == 2);
    CHECK(results[4].out == "job 4\n");
    CHECK(results[4].seconds < 2.0);
}
