// The SQLite backend of the triage store: one file, WAL journal so `snag buckets` reads while a
// `snag triage` or `snag collect` writes, and a busy timeout so concurrent writers queue.
#include <sqlite3.h>

#include <filesystem>

#include "triage/database.hpp"

namespace snag::triage {
namespace {

class SqliteDatabase final : public Database {
public:
    SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    ~SqliteDatabase() override { sqlite3_close_v2(db_); }

    Expected<std::vector<SqlRow>> query(std::string_view sql, const std::vector<SqlValue>& params) override {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK)
            return failure("prepare");
        std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> owned(stmt, sqlite3_finalize);
        for (size_t i = 0; i < params.size(); ++i) {
            int at = static_cast<int>(i + 1);
            const auto& p = params[i];
            if (std::holds_alternative<int64_t>(p)) sqlite3_bind_int64(stmt, at, std::get<int64_t>(p));
            else if (std::holds_alternative<std::string>(p)) {
                const auto& s = std::get<std::string>(p);
                sqlite3_bind_text(stmt, at, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
            } else sqlite3_bind_null(stmt, at);
        }
        std::vector<SqlRow> rows;
        for (;;) {
            int rc = sqlite3_step(stmt);
            if (rc == SQLITE_DONE) break;
            if (rc != SQLITE_ROW) return failure("run");
            SqlRow row;
            for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
                switch (sqlite3_column_type(stmt, c)) {
                case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c))); break;
                case SQLITE_NULL: row.emplace_back(nullptr); break;
                default: {
                    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
                    row.emplace_back(std::string(text ? text : "", sqlite3_column_bytes(stmt, c)));
                }
                }
            }
            rows.push_back(std::move(row));
        }
        return rows;
    }

    std::string serial_key() const override { return "INTEGER PRIMARY KEY"; }
    std::string begin_write() const override { return "BEGIN IMMEDIATE"; }
    std::string begin_migration() const override { return "BEGIN IMMEDIATE"; }
    std::string describe() const override { return "SQLite database " + path_; }

private:
    std::unexpected<Error> failure(const char* what) const {
        return fail("triage store " + path_ + ": cannot " + what + " a statement: " + sqlite3_errmsg(db_));
    }

    sqlite3* db_;
    std::string path_;
};

}  // namespace

Expected<std::unique_ptr<Database>> open_sqlite(const std::string& path) {
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string why = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close_v2(db);
        return fail("cannot open the triage store " + path + ": " + why);
    }
    sqlite3_busy_timeout(db, 30'000);
    std::unique_ptr<Database> out = std::make_unique<SqliteDatabase>(db, path);
    // A file that is not SQLite fails here, with SQLite's own words.
    if (auto wal = out->query("PRAGMA journal_mode=WAL"); !wal) return std::unexpected(wal.error());
    if (auto fk = out->query("PRAGMA foreign_keys=ON"); !fk) return std::unexpected(fk.error());
    return out;
}

int64_t as_int(const SqlValue& v) {
    if (std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
    if (std::holds_alternative<std::string>(v)) return std::strtoll(std::get<std::string>(v).c_str(), nullptr, 10);
    return 0;
}

std::string as_text(const SqlValue& v) {
    if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
    if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
    return "";
}

bool is_null(const SqlValue& v) { return std::holds_alternative<std::nullptr_t>(v); }

}  // namespace snag::triage
