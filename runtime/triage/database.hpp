// The SQL connection the triage store talks through. Every backend (SQLite, PostgreSQL)
// implements this one interface; the store's statements are written once, with `?`
// placeholders, in the SQL both understand (ON CONFLICT upserts, RETURNING).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/error.hpp"

namespace snag::triage {

using SqlValue = std::variant<std::nullptr_t, int64_t, std::string>;
using SqlRow = std::vector<SqlValue>;

class Database {
public:
    virtual ~Database() = default;
    // Runs one statement with its parameters bound in order; returns the rows it produced.
    virtual Expected<std::vector<SqlRow>> query(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
    // The column type of an auto-numbered primary key in this backend's dialect.
    virtual std::string serial_key() const = 0;
    // The statement that opens a write transaction (SQLite takes its write lock at once).
    virtual std::string begin_write() const = 0;
    // The statement(s) that open the transaction a schema migration runs in: one process at a time.
    virtual std::string begin_migration() const = 0;
    // What the store is, for messages ("SQLite database /var/lib/snag/triage.db").
    virtual std::string describe() const = 0;
};

// SQLite file at path (created with its directory when missing). Writers wait for each other.
Expected<std::unique_ptr<Database>> open_sqlite(const std::string& path);

// PostgreSQL server from a libpq connection string (postgresql://user@host:port/db).
Expected<std::unique_ptr<Database>> open_postgres(const std::string& conninfo);

// Typed reads of a row's columns (NULL reads as 0 or "").
int64_t as_int(const SqlValue& v);
std::string as_text(const SqlValue& v);
bool is_null(const SqlValue& v);

}  // namespace snag::triage
