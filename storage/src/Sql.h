// SPDX-License-Identifier: AGPL-3.0-or-later
// The thin layer over Poco::Data both backends share: a pool of initialised connections,
// statements with positional `$n` parameters (PostgreSQL rejects `?`; SQLite binds `$n` by
// position too), rows as optional strings, and transactions that either commit or roll back.
// Poco exceptions end here: callers see kooperdoc::Error only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kooperdoc/storage/Repository.h"

namespace Poco::Data {
class Session;
}

namespace kooperdoc::storage::sql {

struct Null {};
using Param = std::variant<Null, std::string, std::int64_t>;
using Params = std::vector<Param>;
using Row = std::vector<std::optional<std::string>>;
using Rows = std::vector<Row>;

template <class T> Param optionalParam(const std::optional<T>& value) {
    return value ? Param(*value) : Param(Null{});
}

/// One connection inside a transaction.
class Transaction {
public:
    explicit Transaction(Poco::Data::Session& session) : session_(session) {}
    /// Runs a statement; returns the rows a SELECT yields (empty for anything else).
    Rows query(const std::string& sql, const Params& params = {});
    void execute(const std::string& sql, const Params& params = {}) { query(sql, params); }
    std::optional<Row> single(const std::string& sql, const Params& params = {});

private:
    Poco::Data::Session& session_;
};

class Database {
public:
    explicit Database(DatabaseConfig config);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    const DatabaseConfig& config() const { return config_; }
    bool postgres() const { return config_.backend == DatabaseConfig::Backend::kPostgres; }

    /// \p work runs inside BEGIN (SQLite: BEGIN IMMEDIATE, so writers queue instead of failing
    /// at COMMIT) … COMMIT; any exception rolls back and propagates as kooperdoc::Error.
    void inTransaction(const std::function<void(Transaction&)>& work);
    /// One statement outside any transaction (SQLite's wal_checkpoint cannot run inside one).
    void executeAlone(const std::string& sql);

private:
    struct Pooled;
    std::unique_ptr<Poco::Data::Session> connect();
    std::unique_ptr<Poco::Data::Session> acquire();
    void release(std::unique_ptr<Poco::Data::Session> session, bool healthy);

    DatabaseConfig config_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Poco::Data::Session>> idle_;
    std::size_t open_ = 0;
};

std::int64_t asInt(const std::optional<std::string>& cell);
std::optional<std::int64_t> asOptionalInt(const std::optional<std::string>& cell);
std::string asText(const std::optional<std::string>& cell);

}  // namespace kooperdoc::storage::sql
