// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Sql.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>

#include <chrono>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::storage::sql {
namespace {

using namespace Poco::Data::Keywords;

void registerConnectors() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::PostgreSQL::Connector::registerConnector();
    });
}

/// Whether the failure is the server's or the network's (retrying later may work) rather
/// than this statement's: decides kUnavailable versus kInternal.
[[noreturn]] void translate(const Poco::Exception& e, const std::string& what) {
    const std::string text = e.displayText();
    const bool busy = text.find("locked") != std::string::npos || text.find("busy") != std::string::npos;
    const bool connection = text.find("connect") != std::string::npos || text.find("server closed") != std::string::npos ||
                            text.find("terminating") != std::string::npos;
    const bool full = text.find("full") != std::string::npos || text.find("No space") != std::string::npos ||
                      text.find("disk I/O") != std::string::npos || text.find("readonly") != std::string::npos;
    if (busy || connection || full) {
        throw Error(ErrorCode::kUnavailable, "storage.unavailable", what + ": " + text);
    }
    throw Error(ErrorCode::kInternal, "storage.sql", what + ": " + text);
}

}  // namespace

Rows Transaction::query(const std::string& sqlText, const Params& params) {
    try {
        Poco::Data::Statement statement(session_);
        statement << sqlText;
        for (const auto& param : params) {
            if (std::holds_alternative<std::string>(param)) {
                statement.addBind(bind(std::get<std::string>(param)));
            } else if (std::holds_alternative<std::int64_t>(param)) {
                statement.addBind(bind(static_cast<Poco::Int64>(std::get<std::int64_t>(param))));
            } else {
                statement.addBind(bind(Poco::Nullable<std::string>()));
            }
        }
        statement.execute();
        Rows rows;
        if (statement.columnsExtracted() == 0) return rows;
        Poco::Data::RecordSet records(statement);
        const std::size_t columns = records.columnCount();
        for (std::size_t r = 0; r < records.rowCount(); ++r) {
            Row row;
            row.reserve(columns);
            for (std::size_t c = 0; c < columns; ++c) {
                if (records.isNull(c, r)) {
                    row.emplace_back(std::nullopt);
                } else {
                    row.emplace_back(records.value(c, r).convert<std::string>());
                }
            }
            rows.push_back(std::move(row));
        }
        return rows;
    } catch (const Error&) {
        throw;
    } catch (const Poco::Exception& e) {
        translate(e, "SQL failed");
    }
}

std::optional<Row> Transaction::single(const std::string& sqlText, const Params& params) {
    Rows rows = query(sqlText, params);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

Database::Database(DatabaseConfig config) : config_(std::move(config)) {
    registerConnectors();
    // Fail at start-up, not at the first request, when the database is unreachable.
    release(acquire(), true);
}

Database::~Database() = default;

std::unique_ptr<Poco::Data::Session> Database::connect() {
    try {
        if (postgres()) {
            auto session = std::make_unique<Poco::Data::Session>("PostgreSQL", config_.postgresConnection);
            *session << "SET client_min_messages TO WARNING", now;
            return session;
        }
        auto session = std::make_unique<Poco::Data::Session>("SQLite", config_.sqlitePath);
        // Per connection: durability on every commit, freed pages overwritten (erased data must
        // not linger in the file), foreign keys enforced, writers wait instead of failing.
        *session << "PRAGMA journal_mode=WAL", now;
        *session << "PRAGMA synchronous=FULL", now;
        *session << "PRAGMA secure_delete=ON", now;
        *session << "PRAGMA foreign_keys=ON", now;
        *session << "PRAGMA busy_timeout=15000", now;
        return session;
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::kUnavailable, "storage.unavailable", "cannot open " + config_.describe() + ": " + e.displayText());
    }
}

std::unique_ptr<Poco::Data::Session> Database::acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::size_t limit = std::max<std::size_t>(1, config_.maxConnections);
    if (!available_.wait_for(lock, std::chrono::seconds(30), [&] { return !idle_.empty() || open_ < limit; })) {
        throw Error(ErrorCode::kUnavailable, "storage.pool_exhausted", "no database connection became free in 30 s");
    }
    if (!idle_.empty()) {
        auto session = std::move(idle_.back());
        idle_.pop_back();
        return session;
    }
    ++open_;
    lock.unlock();
    try {
        return connect();
    } catch (...) {
        std::lock_guard<std::mutex> relock(mutex_);
        --open_;
        available_.notify_one();
        throw;
    }
}

void Database::release(std::unique_ptr<Poco::Data::Session> session, bool healthy) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (healthy && session && session->isConnected()) {
        idle_.push_back(std::move(session));
    } else {
        --open_;
    }
    available_.notify_one();
}

void Database::inTransaction(const std::function<void(Transaction&)>& work) {
    auto session = acquire();
    bool begun = false;
    // After a failure the connection goes back to the pool only if ROLLBACK worked.
    const auto rollBackAndRelease = [&] {
        bool healthy = false;
        if (begun) {
            try {
                *session << "ROLLBACK", now;
                healthy = true;
            } catch (...) {
            }
        }
        release(std::move(session), healthy);
    };
    try {
        *session << (postgres() ? "BEGIN" : "BEGIN IMMEDIATE"), now;
        begun = true;
        Transaction transaction(*session);
        work(transaction);
        *session << "COMMIT", now;
        release(std::move(session), true);
    } catch (const Poco::Exception& e) {
        rollBackAndRelease();
        translate(e, "transaction failed");
    } catch (...) {
        rollBackAndRelease();
        throw;
    }
}

void Database::executeAlone(const std::string& sqlText) {
    auto session = acquire();
    try {
        Transaction(*session).execute(sqlText);
    } catch (...) {
        release(std::move(session), true);
        throw;
    }
    release(std::move(session), true);
}

std::int64_t asInt(const std::optional<std::string>& cell) {
    if (!cell) return 0;
    return std::stoll(*cell);
}

std::optional<std::int64_t> asOptionalInt(const std::optional<std::string>& cell) {
    if (!cell) return std::nullopt;
    return std::stoll(*cell);
}

std::string asText(const std::optional<std::string>& cell) {
    return cell.value_or(std::string{});
}

}  // namespace kooperdoc::storage::sql
