// Snapshot targets over this process: the pages a RecordingTarget saw are copied in batches,
// reads past them are misses (a new snapshot needs them), unmapped pages are holes, and the
// copy keeps what memory held when it was made.
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "self_target.hpp"
#include "target/snapshot_target.hpp"

using namespace snag;

TEST_CASE("snapshot target: recorded pages are copied, others are misses, unmapped ones holes") {
    auto owned = std::make_unique<test::SelfTarget>();
    test::SelfTarget& self = *owned;
    // Three pages of our own, the middle one unmapped.
    auto* area = static_cast<uint8_t*>(::mmap(nullptr, 3 * kSnapshotPage, PROT_READ | PROT_WRITE,
                                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    REQUIRE(area != MAP_FAILED);
    uint64_t base = reinterpret_cast<uint64_t>(area);
    std::memset(area, 0x11, kSnapshotPage);
    std::memset(area + 2 * kSnapshotPage, 0x33, kSnapshotPage);
    REQUIRE(::munmap(area + kSnapshotPage, kSnapshotPage) == 0);

    RecordingTarget recording(self);
    uint8_t byte = 0;
    CHECK(recording.read(base + 10, &byte, 1) == 1);
    CHECK(recording.read(base + kSnapshotPage + 5, &byte, 1) == 0);  // unmapped
    CHECK(recording.pages() == std::set<uint64_t>{base, base + kSnapshotPage});

    SnapshotTarget snap(std::move(owned), getpid(), recording.pages());
    std::memset(area, 0x22, kSnapshotPage);  // the process moves on; the copy does not
    uint8_t got[2] = {};
    CHECK(snap.read(base + 10, got, 1) == 1);
    CHECK(got[0] == 0x11);
    CHECK(snap.read(base + kSnapshotPage + 5, got, 1) == 0);  // a hole, as live
    CHECK(snap.misses().empty());
    CHECK(snap.read(base + kSnapshotPage - 1, got, 2) == 1);  // stops where the hole starts
    CHECK(snap.read(base + 2 * kSnapshotPage, got, 1) == 0);  // never copied: a miss
    CHECK(snap.misses() == std::set<uint64_t>{base + 2 * kSnapshotPage});
    CHECK(snap.pages_copied() == 2);
    CHECK(snap.copy_syscalls() >= 1);
    ::munmap(area, kSnapshotPage);
    ::munmap(area + 2 * kSnapshotPage, kSnapshotPage);
}

TEST_CASE("snapshot target: a read across copied pages joins them") {
    auto owned = std::make_unique<test::SelfTarget>();
    test::SelfTarget& self = *owned;
    std::vector<uint8_t> buffer(3 * kSnapshotPage);
    for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<uint8_t>(i * 7);
    uint64_t at = reinterpret_cast<uint64_t>(buffer.data()) + 100;
    RecordingTarget recording(self);
    std::vector<uint8_t> live(2 * kSnapshotPage);
    REQUIRE(recording.read(at, live.data(), live.size()) == live.size());
    SnapshotTarget snap(std::move(owned), getpid(), recording.pages());
    std::vector<uint8_t> copied(live.size());
    CHECK(snap.read(at, copied.data(), copied.size()) == copied.size());
    CHECK(copied == live);
    CHECK(snap.misses().empty());
}
