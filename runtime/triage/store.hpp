// The triage store: dumps, their findings and the buckets they fall in, behind one interface
// whatever the backend (docs/triage.md). No SQL lives outside runtime/triage/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "triage/database.hpp"

namespace snag::triage {

// One dump as triage saw it. state: "analysed", or "unreadable" with the reason.
struct DumpFacts {
    std::string path;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    std::string notes_hash;   // identity of the dump's content (dump_identity.hpp); "" when unknown
    std::string host, exe, build_id, python, signal;
    std::string build_ids_json = "[]";   // [{"module": path, "build_id": hex}]
    int64_t pid = 0;
    int64_t dumped_at = 0;    // unix seconds: when the process was dumped (the core's mtime)
    std::string state = "analysed", reason;
};

struct FindingFacts {
    std::string rule, severity, title, message;
    std::string bucket;          // the signature key (signature.hpp)
    std::string signature;       // the signature as people read it
    std::string evidence_json = "{}", frames_json = "[]";
};

// The bucket a dump falls in (its leading finding's signature) and a stack that shows it.
struct BucketKey {
    std::string key, rule, signature;
    std::string stack_json = "[]";
};

struct BucketRow {
    std::string key, rule, signature, severity;
    int64_t first_seen = 0, last_seen = 0, count = 0;
    int64_t example_dump = 0;
    std::string example_path, example_stack_json;
    std::vector<std::string> hosts, builds;
};

struct StoreCounts {
    int64_t dumps = 0, analysed = 0, unreadable = 0, buckets = 0, claimed = 0;
};

class Store {
public:
    // spec: a file path (SQLite) or postgresql://... (PostgreSQL). Creates the schema or migrates it to the current version.
    static Expected<std::unique_ptr<Store>> open(const std::string& spec);
    explicit Store(std::unique_ptr<Database> db) : db_(std::move(db)) {}

    // The id of a dump already stored (or being analysed) at this path with this size and mtime,
    // if any. A claim older than stale_before (unix seconds) counts as absent: its worker died.
    Expected<std::optional<int64_t>> find_by_file(const std::string& path, int64_t size, int64_t mtime_ns,
                                                  int64_t stale_before = 0);
    // The id of a dump with this content identity (a copy of a stored core), if any.
    Expected<std::optional<int64_t>> find_by_identity(const std::string& notes_hash, int64_t stale_before = 0);
    // Claims a dump for analysis: its row is written with state "claimed", so that workers of
    // other runs and hosts sharing the store skip it. nullopt: another worker has it (or had it:
    // stored); a claim older than stale_before is taken over.
    Expected<std::optional<int64_t>> claim(const DumpFacts& dump, int64_t stale_before = 0);
    // Stores the claimed dump's facts and findings and counts it in its bucket, all or nothing.
    // false when the claim was taken over meanwhile (the other worker stores it).
    Expected<bool> complete(int64_t id, const DumpFacts& dump, const std::vector<FindingFacts>& findings,
                            const std::optional<BucketKey>& bucket);
    // claim + complete. A dump whose identity is already stored is not stored twice: nullopt.
    Expected<std::optional<int64_t>> add_dump(const DumpFacts& dump, const std::vector<FindingFacts>& findings,
                                              const std::optional<BucketKey>& bucket);
    // Buckets, the most frequent first, with the hosts and builds they were seen on.
    Expected<std::vector<BucketRow>> buckets();
    Expected<StoreCounts> counts();
    // Unreadable dumps: (path, reason).
    Expected<std::vector<std::pair<std::string, std::string>>> unreadable();
    int schema_version() const { return version_; }
    std::string describe() const { return db_->describe(); }

private:
    Expected<void> migrate();
    Expected<void> transaction(const std::function<Expected<void>()>& body, bool migration = false);

    std::unique_ptr<Database> db_;
    int version_ = 0;
};

// Where the store is when --db is not given: $SNAG_TRIAGE_DB, else $XDG_DATA_HOME/snag/triage.db,
// else ~/.local/share/snag/triage.db.
std::string default_store_path();

}  // namespace snag::triage
