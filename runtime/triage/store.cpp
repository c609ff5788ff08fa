// The store's schema, its migrations and its statements. Each migration runs in a write
// transaction that first re-reads the version, so two processes opening a new store at once
// apply it once.
#include "triage/store.hpp"

#include <cstdlib>
#include <ctime>
#include <map>
#include <set>

namespace snag::triage {
namespace {

// Migration N brings the schema from version N-1 to N. {serial} is the backend's key type.
// Append new migrations; never edit a released one.
const char* const kMigrations[] = {
    // 1: dumps, findings, buckets.
    R"(CREATE TABLE dumps (
         id {serial},
         path TEXT NOT NULL, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL,
         notes_hash TEXT, host TEXT NOT NULL DEFAULT '', exe TEXT NOT NULL DEFAULT '',
         build_id TEXT NOT NULL DEFAULT '', build_ids TEXT NOT NULL DEFAULT '[]',
         python TEXT NOT NULL DEFAULT '', pid BIGINT NOT NULL DEFAULT 0, dumped_at BIGINT NOT NULL DEFAULT 0,
         signal TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
         bucket TEXT, analysed_at BIGINT NOT NULL DEFAULT 0,
         UNIQUE (path, size, mtime_ns), UNIQUE (notes_hash));
       CREATE INDEX dumps_bucket ON dumps (bucket);
       CREATE TABLE findings (
         id {serial}, dump_id BIGINT NOT NULL REFERENCES dumps (id) ON DELETE CASCADE,
         rule TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
         message TEXT NOT NULL DEFAULT '', bucket TEXT NOT NULL, signature TEXT NOT NULL DEFAULT '',
         evidence TEXT NOT NULL DEFAULT '{}', frames TEXT NOT NULL DEFAULT '[]');
       CREATE INDEX findings_dump ON findings (dump_id);
       CREATE INDEX findings_bucket ON findings (bucket);
       CREATE TABLE buckets (
         key TEXT PRIMARY KEY, rule TEXT NOT NULL, signature TEXT NOT NULL,
         first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, count BIGINT NOT NULL,
         example_dump BIGINT NOT NULL, example_stack TEXT NOT NULL DEFAULT '[]');
       CREATE INDEX buckets_count ON buckets (count))",
};
constexpr int kVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

std::string with_serial(std::string sql, const std::string& serial) {
    for (size_t at; (at = sql.find("{serial}")) != std::string::npos;) sql.replace(at, 8, serial);
    return sql;
}

// Statements of a migration, split at ';' (the migrations hold no string literal with one).
std::vector<std::string> statements(const std::string& sql) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t at = sql.find(';'); start < sql.size(); at = sql.find(';', start)) {
        std::string one = sql.substr(start, at == std::string::npos ? std::string::npos : at - start);
        if (one.find_first_not_of(" \n\t") != std::string::npos) out.push_back(one);
        if (at == std::string::npos) break;
        start = at + 1;
    }
    return out;
}

std::optional<int64_t> first_id(const std::vector<SqlRow>& rows) {
    if (rows.empty() || rows[0].empty() || is_null(rows[0][0])) return std::nullopt;
    return as_int(rows[0][0]);
}

}  // namespace

Expected<std::unique_ptr<Store>> Store::open(const std::string& spec) {
    bool server = spec.starts_with("postgresql://") || spec.starts_with("postgres://");
    auto db = server ? open_postgres(spec) : open_sqlite(spec);
    if (!db) return std::unexpected(db.error());
    auto store = std::make_unique<Store>(std::move(*db));
    if (auto done = store->migrate(); !done) return std::unexpected(done.error());
    return store;
}

Expected<void> Store::transaction(const std::function<Expected<void>()>& body, bool migration) {
    if (auto begun = db_->query(migration ? db_->begin_migration() : db_->begin_write()); !begun)
        return std::unexpected(begun.error());
    auto done = body();
    if (!done) {
        (void)db_->query("ROLLBACK");
        return done;
    }
    if (auto committed = db_->query("COMMIT"); !committed) {
        (void)db_->query("ROLLBACK");
        return std::unexpected(committed.error());
    }
    return {};
}

Expected<void> Store::migrate() {
    return transaction([&]() -> Expected<void> {
        auto made = db_->query("CREATE TABLE IF NOT EXISTS snag_schema (version INTEGER NOT NULL)");
        if (!made) return std::unexpected(made.error());
        auto rows = db_->query("SELECT max(version) FROM snag_schema");
        if (!rows) return std::unexpected(rows.error());
        version_ = static_cast<int>(first_id(*rows).value_or(0));
        if (version_ > kVersion)
            return fail(db_->describe() + " has schema version " + std::to_string(version_) +
                        ", newer than this snag knows (" + std::to_string(kVersion) + "): upgrade snag");
        for (; version_ < kVersion; ++version_) {
            for (const auto& sql : statements(with_serial(kMigrations[version_], db_->serial_key())))
                if (auto ran = db_->query(sql); !ran) return std::unexpected(ran.error());
            auto noted = db_->query("INSERT INTO snag_schema (version) VALUES (?)", {int64_t{version_ + 1}});
            if (!noted) return std::unexpected(noted.error());
        }
        return {};
    }, true);
}

Expected<std::optional<int64_t>> Store::find_by_file(const std::string& path, int64_t size, int64_t mtime_ns,
                                                     int64_t stale_before) {
    auto rows = db_->query("SELECT id FROM dumps WHERE path = ? AND size = ? AND mtime_ns = ? "
                           "AND NOT (state = 'claimed' AND analysed_at < ?)",
                           {path, size, mtime_ns, stale_before});
    if (!rows) return std::unexpected(rows.error());
    return first_id(*rows);
}

Expected<std::optional<int64_t>> Store::find_by_identity(const std::string& notes_hash, int64_t stale_before) {
    if (notes_hash.empty()) return std::optional<int64_t>{};
    auto rows = db_->query("SELECT id FROM dumps WHERE notes_hash = ? AND NOT (state = 'claimed' AND analysed_at < ?)",
                           {notes_hash, stale_before});
    if (!rows) return std::unexpected(rows.error());
    return first_id(*rows);
}

Expected<std::optional<int64_t>> Store::claim(const DumpFacts& d, int64_t stale_before) {
    SqlValue hash = d.notes_hash.empty() ? SqlValue{nullptr} : SqlValue{d.notes_hash};
    int64_t now = std::time(nullptr);
    // ON CONFLICT DO NOTHING: the unique keys decide which of several workers gets the dump.
    auto rows = db_->query("INSERT INTO dumps (path, size, mtime_ns, notes_hash, host, state, analysed_at) "
                           "VALUES (?, ?, ?, ?, ?, 'claimed', ?) ON CONFLICT DO NOTHING RETURNING id",
                           {d.path, d.size, d.mtime_ns, hash, d.host, now});
    if (!rows) return std::unexpected(rows.error());
    if (auto id = first_id(*rows)) return id;
    // A claim whose worker died long ago: the first to update it takes it over.
    auto stale = db_->query("UPDATE dumps SET analysed_at = ?, host = ? WHERE state = 'claimed' AND analysed_at < ? "
                            "AND ((path = ? AND size = ? AND mtime_ns = ?) OR notes_hash = ?) RETURNING id",
                            {now, d.host, stale_before, d.path, d.size, d.mtime_ns, hash});
    if (!stale) return std::unexpected(stale.error());
    return first_id(*stale);
}

Expected<bool> Store::complete(int64_t id, const DumpFacts& d, const std::vector<FindingFacts>& findings,
                               const std::optional<BucketKey>& bucket) {
    bool stored = false;
    auto done = transaction([&]() -> Expected<void> {
        SqlValue key = bucket ? SqlValue{bucket->key} : SqlValue{nullptr};
        auto rows = db_->query(
            "UPDATE dumps SET host = ?, exe = ?, build_id = ?, build_ids = ?, python = ?, pid = ?, dumped_at = ?, "
            "signal = ?, state = ?, reason = ?, bucket = ?, analysed_at = ? WHERE id = ? AND state = 'claimed' "
            "RETURNING id",
            {d.host, d.exe, d.build_id, d.build_ids_json, d.python, d.pid, d.dumped_at, d.signal, d.state, d.reason,
             key, static_cast<int64_t>(std::time(nullptr)), id});
        if (!rows) return std::unexpected(rows.error());
        if (!first_id(*rows)) return {};
        stored = true;
        for (const auto& f : findings) {
            auto in = db_->query(
                "INSERT INTO findings (dump_id, rule, severity, title, message, bucket, signature, evidence, frames) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {id, f.rule, f.severity, f.title, f.message, f.bucket, f.signature, f.evidence_json, f.frames_json});
            if (!in) return std::unexpected(in.error());
        }
        if (!bucket) return {};
        auto up = db_->query(
            "INSERT INTO buckets (key, rule, signature, first_seen, last_seen, count, example_dump, example_stack) "
            "VALUES (?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (key) DO UPDATE SET count = buckets.count + 1, "
            "first_seen = CASE WHEN excluded.first_seen < buckets.first_seen THEN excluded.first_seen "
            "ELSE buckets.first_seen END, "
            "last_seen = CASE WHEN excluded.last_seen > buckets.last_seen THEN excluded.last_seen "
            "ELSE buckets.last_seen END",
            {bucket->key, bucket->rule, bucket->signature, d.dumped_at, d.dumped_at, id, bucket->stack_json});
        if (!up) return std::unexpected(up.error());
        return {};
    });
    if (!done) return std::unexpected(done.error());
    return stored;
}

Expected<std::optional<int64_t>> Store::add_dump(const DumpFacts& d, const std::vector<FindingFacts>& findings,
                                                 const std::optional<BucketKey>& bucket) {
    auto id = claim(d);
    if (!id) return std::unexpected(id.error());
    if (!*id) return std::optional<int64_t>{};
    auto stored = complete(**id, d, findings, bucket);
    if (!stored) return std::unexpected(stored.error());
    return *stored ? *id : std::optional<int64_t>{};
}

Expected<std::vector<BucketRow>> Store::buckets() {
    auto rows = db_->query(
        "SELECT b.key, b.rule, b.signature, b.first_seen, b.last_seen, b.count, b.example_dump, "
        "coalesce(d.path, ''), b.example_stack, "
        "coalesce((SELECT f.severity FROM findings f WHERE f.dump_id = b.example_dump AND f.bucket = b.key LIMIT 1), '') "
        "FROM buckets b LEFT JOIN dumps d ON d.id = b.example_dump ORDER BY b.count DESC, b.last_seen DESC, b.key");
    if (!rows) return std::unexpected(rows.error());
    std::vector<BucketRow> out;
    std::map<std::string, size_t> at;
    for (const auto& r : *rows) {
        BucketRow b{as_text(r[0]), as_text(r[1]), as_text(r[2]), as_text(r[9]), as_int(r[3]), as_int(r[4]),
                    as_int(r[5]), as_int(r[6]), as_text(r[7]), as_text(r[8]), {}, {}};
        at[b.key] = out.size();
        out.push_back(std::move(b));
    }
    // Hosts and builds per bucket in one pass (not one query per bucket: stays fast on big stores).
    auto seen = db_->query("SELECT DISTINCT bucket, host, exe, build_id, python FROM dumps WHERE bucket IS NOT NULL "
                           "ORDER BY bucket, host, exe, build_id, python");
    if (!seen) return std::unexpected(seen.error());
    std::map<std::string, std::pair<std::set<std::string>, std::set<std::string>>> where;
    for (const auto& r : *seen) {
        auto& [hosts, builds] = where[as_text(r[0])];
        if (!as_text(r[1]).empty()) hosts.insert(as_text(r[1]));
        std::string exe = as_text(r[2]);
        std::string build = exe.substr(exe.rfind('/') + 1);
        if (!as_text(r[3]).empty()) build += "@" + as_text(r[3]).substr(0, 12);
        if (!as_text(r[4]).empty()) build += " (Python " + as_text(r[4]) + ")";
        if (!build.empty()) builds.insert(build);
    }
    for (auto& [key, sets] : where) {
        auto it = at.find(key);
        if (it == at.end()) continue;
        out[it->second].hosts.assign(sets.first.begin(), sets.first.end());
        out[it->second].builds.assign(sets.second.begin(), sets.second.end());
    }
    return out;
}

Expected<StoreCounts> Store::counts() {
    auto rows = db_->query("SELECT count(*), coalesce(sum(CASE WHEN state = 'analysed' THEN 1 ELSE 0 END), 0), "
                           "coalesce(sum(CASE WHEN state = 'unreadable' THEN 1 ELSE 0 END), 0), "
                           "(SELECT count(*) FROM buckets), "
                           "coalesce(sum(CASE WHEN state = 'claimed' THEN 1 ELSE 0 END), 0) FROM dumps");
    if (!rows) return std::unexpected(rows.error());
    const auto& r = rows->at(0);
    return StoreCounts{as_int(r[0]), as_int(r[1]), as_int(r[2]), as_int(r[3]), as_int(r[4])};
}

Expected<std::vector<std::pair<std::string, std::string>>> Store::unreadable() {
    auto rows = db_->query("SELECT path, reason FROM dumps WHERE state = 'unreadable' ORDER BY path");
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : *rows) out.emplace_back(as_text(r[0]), as_text(r[1]));
    return out;
}

std::string default_store_path() {
    if (const char* env = std::getenv("SNAG_TRIAGE_DB"); env && *env) return env;
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/snag/triage.db";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : "/root") + "/.local/share/snag/triage.db";
}

}  // namespace snag::triage
