// The PostgreSQL backend of the triage store (libpq): many hosts write to one server. The
// store's statements are the SQLite ones with `?` renumbered to $1..$n; values travel as text.
#include <libpq-fe.h>

#include "triage/database.hpp"

namespace snag::triage {
namespace {

// `?` outside quotes becomes $1, $2...
std::string numbered(std::string_view sql) {
    std::string out;
    int n = 0;
    bool quoted = false;
    for (char c : sql) {
        if (c == '\'') quoted = !quoted;
        if (c == '?' && !quoted) out += "$" + std::to_string(++n);
        else out += c;
    }
    return out;
}

// The connection string without its password, for messages.
std::string redacted(const std::string& conninfo) {
    auto at = conninfo.find('@');
    auto scheme = conninfo.find("://");
    if (at == std::string::npos || scheme == std::string::npos || at < scheme) return conninfo;
    auto colon = conninfo.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return conninfo;
    return conninfo.substr(0, colon) + ":***" + conninfo.substr(at);
}

class PostgresDatabase final : public Database {
public:
    PostgresDatabase(PGconn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}
    ~PostgresDatabase() override { PQfinish(conn_); }

    Expected<std::vector<SqlRow>> query(std::string_view sql, const std::vector<SqlValue>& params) override {
        std::vector<std::string> text(params.size());
        std::vector<const char*> values(params.size());
        for (size_t i = 0; i < params.size(); ++i) {
            if (std::holds_alternative<std::nullptr_t>(params[i])) continue;
            text[i] = as_text(params[i]);
            values[i] = text[i].c_str();
        }
        // Without parameters several statements may run at once (BEGIN; SELECT pg_advisory_xact_lock).
        PGresult* res = params.empty() ? PQexec(conn_, std::string(sql).c_str())
                                       : PQexecParams(conn_, numbered(sql).c_str(), static_cast<int>(params.size()),
                                                      nullptr, values.data(), nullptr, nullptr, 0);
        std::unique_ptr<PGresult, decltype(&PQclear)> owned(res, PQclear);
        auto status = PQresultStatus(res);
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
            return fail("triage store " + name_ + ": " + first_line(PQresultErrorMessage(res)));
        std::vector<SqlRow> rows;
        for (int r = 0; r < PQntuples(res); ++r) {
            SqlRow row;
            for (int c = 0; c < PQnfields(res); ++c) {
                if (PQgetisnull(res, r, c)) row.emplace_back(nullptr);
                else row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
            }
            rows.push_back(std::move(row));
        }
        return rows;
    }

    std::string serial_key() const override { return "BIGSERIAL PRIMARY KEY"; }
    std::string begin_write() const override { return "BEGIN"; }
    // One migrating process at a time across every host: a transaction-scoped advisory lock.
    std::string begin_migration() const override { return "BEGIN; SELECT pg_advisory_xact_lock(7368261)"; }
    std::string describe() const override { return "PostgreSQL database " + name_; }

private:
    static std::string first_line(const char* message) {
        std::string m = message ? message : "unknown error";
        auto nl = m.find('\n');
        return nl == std::string::npos ? m : m.substr(0, nl);
    }

    PGconn* conn_;
    std::string name_;
};

}  // namespace

Expected<std::unique_ptr<Database>> open_postgres(const std::string& conninfo) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (!conn) return fail("cannot connect to " + redacted(conninfo) + ": out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string why = PQerrorMessage(conn);
        PQfinish(conn);
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        for (char& c : why) if (c == '\n') c = ' ';
        return fail("cannot connect to the triage store " + redacted(conninfo) + ": " + why);
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    return std::unique_ptr<Database>(std::make_unique<PostgresDatabase>(conn, redacted(conninfo)));
}

}  // namespace snag::triage
