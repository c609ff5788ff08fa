// The triage store on SQLite: schema versions, dumps stored once, buckets counted.
#include <doctest/doctest.h>

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "triage/store.hpp"

namespace {

using namespace snag::triage;

struct TempDb {
    std::string dir, path;
    TempDb() {
        char tmpl[] = "/tmp/snag-store-XXXXXX";
        dir = mkdtemp(tmpl);
        path = dir + "/nested/triage.db";
    }
    ~TempDb() { std::filesystem::remove_all(dir); }
};

DumpFacts dump(const std::string& path, const std::string& hash, int64_t at, const std::string& host) {
    DumpFacts d;
    d.path = path;
    d.size = 4096;
    d.mtime_ns = at * 1'000'000'000;
    d.notes_hash = hash;
    d.host = host;
    d.exe = "/usr/bin/python3.11";
    d.build_id = "0123456789abcdef0123";
    d.python = "3.11.2";
    d.dumped_at = at;
    return d;
}

BucketKey key(const std::string& k) { return BucketKey{k, "python-deadlock", "python-deadlock | a | b", "[]"}; }

}  // namespace

TEST_CASE("triage store: a new file gets the schema, a reopened one keeps its rows") {
    TempDb tmp;
    {
        auto store = Store::open(tmp.path);
        REQUIRE(store);
        CHECK((*store)->schema_version() == 1);
        auto id = (*store)->add_dump(dump("/c/1", "h1", 100, "web1"), {}, key("k1"));
        REQUIRE(id);
        CHECK(id->has_value());
    }
    auto again = Store::open(tmp.path);
    REQUIRE(again);
    CHECK((*again)->schema_version() == 1);
    auto counts = (*again)->counts();
    REQUIRE(counts);
    CHECK(counts->dumps == 1);
    CHECK(counts->buckets == 1);
}

TEST_CASE("triage store: a dump is found by its file and by its content, and stored once") {
    TempDb tmp;
    auto store = std::move(*Store::open(tmp.path));
    REQUIRE(store->add_dump(dump("/c/1", "h1", 100, "web1"), {}, key("k1")));
    CHECK(store->find_by_file("/c/1", 4096, 100'000'000'000)->has_value());
    CHECK_FALSE(store->find_by_file("/c/1", 4097, 100'000'000'000)->has_value());
    CHECK_FALSE(store->find_by_file("/c/1", 4096, 101'000'000'000)->has_value());
    CHECK(store->find_by_identity("h1")->has_value());
    CHECK_FALSE(store->find_by_identity("h2")->has_value());
    CHECK_FALSE(store->find_by_identity("")->has_value());
    // The same content under another name (a copied core): not stored, not counted.
    auto copy = store->add_dump(dump("/elsewhere/1", "h1", 100, "web1"), {}, key("k1"));
    REQUIRE(copy);
    CHECK_FALSE(copy->has_value());
    CHECK(store->buckets()->at(0).count == 1);
}

TEST_CASE("triage store: buckets count dumps, keep first and last seen, hosts and builds") {
    TempDb tmp;
    auto store = std::move(*Store::open(tmp.path));
    FindingFacts f{"python-deadlock", "error", "t", "m", "k1", "sig", "{}", "[]"};
    REQUIRE(store->add_dump(dump("/c/1", "h1", 200, "web1"), {f}, key("k1")));
    auto older = dump("/c/2", "h2", 100, "web2");
    older.python = "3.12.1";
    REQUIRE(store->add_dump(older, {f}, key("k1")));
    REQUIRE(store->add_dump(dump("/c/3", "h3", 300, "web1"), {}, key("k2")));
    auto unreadable = dump("/c/4", "", 50, "web1");
    unreadable.state = "unreadable";
    unreadable.reason = "not an ELF file";
    REQUIRE(store->add_dump(unreadable, {}, std::nullopt));
    // Two unreadable dumps without an identity are both kept.
    REQUIRE(store->add_dump(dump("/c/5", "", 60, "web1"), {}, std::nullopt)->has_value());

    auto buckets = store->buckets();
    REQUIRE(buckets);
    REQUIRE(buckets->size() == 2);
    const auto& top = buckets->at(0);
    CHECK(top.key == "k1");
    CHECK(top.count == 2);
    CHECK(top.first_seen == 100);
    CHECK(top.last_seen == 200);
    CHECK(top.example_path == "/c/1");
    CHECK(top.severity == "error");
    CHECK(top.hosts == std::vector<std::string>{"web1", "web2"});
    CHECK(top.builds == std::vector<std::string>{"python3.11@0123456789ab (Python 3.11.2)",
                                                 "python3.11@0123456789ab (Python 3.12.1)"});
    CHECK(buckets->at(1).count == 1);
    auto counts = store->counts();
    CHECK(counts->dumps == 5);
    CHECK(counts->unreadable == 1);
    auto bad = store->unreadable();
    REQUIRE(bad->size() == 1);
    CHECK(bad->at(0).second == "not an ELF file");
}

TEST_CASE("triage store: a file that is not a store, and a newer schema, are refused with a sentence") {
    TempDb tmp;
    std::filesystem::create_directories(tmp.dir + "/nested");
    {
        std::ofstream junk(tmp.path);
        junk << std::string(8192, 'x');
    }
    auto junk = Store::open(tmp.path);
    REQUIRE_FALSE(junk);
    CHECK(junk.error().message.find(tmp.path) != std::string::npos);
    std::filesystem::remove(tmp.path);
    {
        auto db = open_sqlite(tmp.path);
        REQUIRE(db);
        REQUIRE((*db)->query("CREATE TABLE snag_schema (version INTEGER NOT NULL)"));
        REQUIRE((*db)->query("INSERT INTO snag_schema VALUES (99)"));
    }
    auto newer = Store::open(tmp.path);
    REQUIRE_FALSE(newer);
    CHECK(newer.error().message.find("newer than this snag knows") != std::string::npos);
    // No server there: one sentence naming the store, the password left out.
    auto nowhere = Store::open("postgresql://snag:secret@127.0.0.1:1/x?connect_timeout=2");
    REQUIRE_FALSE(nowhere);
    CHECK(nowhere.error().message.find("cannot connect to the triage store postgresql://snag:***@127.0.0.1:1/x") !=
          std::string::npos);
    CHECK(nowhere.error().message.find("secret") == std::string::npos);
}

TEST_CASE("triage store: a claimed dump is skipped by other workers until its claim goes stale") {
    TempDb tmp;
    auto store = std::move(*Store::open(tmp.path));
    auto first = store->claim(dump("/c/1", "h1", 100, "web1"));
    REQUIRE(first);
    REQUIRE(first->has_value());
    // Another worker (another host) meanwhile: the path, or a copy's identity, is taken.
    CHECK_FALSE(store->claim(dump("/c/1", "h1", 100, "web2"))->has_value());
    CHECK_FALSE(store->claim(dump("/copy/1", "h1", 100, "web2"))->has_value());
    CHECK(store->find_by_file("/c/1", 4096, 100'000'000'000)->has_value());
    CHECK(store->counts()->claimed == 1);
    // Its worker died: once the claim is older than stale_before, it is absent and taken over.
    int64_t later = std::time(nullptr) + 10;
    CHECK_FALSE(store->find_by_file("/c/1", 4096, 100'000'000'000, later)->has_value());
    auto again = store->claim(dump("/c/1", "h1", 100, "web2"), later);
    REQUIRE(again);
    REQUIRE(again->has_value());
    CHECK(**again == **first);
    auto done = store->complete(**again, dump("/c/1", "h1", 100, "web2"), {}, key("k1"));
    REQUIRE(done);
    CHECK(*done);
    // The first worker's late result is not stored twice.
    CHECK_FALSE(*store->complete(**first, dump("/c/1", "h1", 100, "web1"), {}, key("k1")));
    CHECK(store->buckets()->at(0).count == 1);
    CHECK(store->counts()->claimed == 0);
}
