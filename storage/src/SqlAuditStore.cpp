// SPDX-License-Identifier: AGPL-3.0-or-later
#include "SqlAuditStore.h"

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::storage {
namespace {

/// Binary values are hex text in this schema (Schema.cpp); no token is NULL, not "".
sql::Param tokenParam(const std::string& token) {
    if (token.empty()) return sql::Null{};
    return toHex(reinterpret_cast<const std::uint8_t*>(token.data()), token.size());
}

std::string tokenOf(const std::optional<std::string>& cell) {
    if (!cell) return {};
    const std::string& hex = *cell;
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string bytes;
    bytes.reserve(hex.size() / 2);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        const int high = nibble(hex[i]), low = nibble(hex[i + 1]);
        if (high < 0 || low < 0) break;
        bytes.push_back(static_cast<char>(high * 16 + low));
    }
    if (bytes.size() * 2 != hex.size()) {
        throw Error(ErrorCode::kDataLoss, "audit.timestamp_unreadable", "a stored checkpoint timestamp is not hex");
    }
    return bytes;
}

audit::StoredCheckpoint checkpointOf(const sql::Row& row) {
    return {static_cast<std::uint64_t>(sql::asInt(row[0])), sql::asText(row[1]), tokenOf(row[2])};
}

}  // namespace

std::uint64_t SqlAuditStore::append(const EntryMaker& makeEntry) {
    std::uint64_t index = 0;
    db_.inTransaction([&](sql::Transaction& tx) {
        if (db_.postgres()) tx.execute("SELECT pg_advisory_xact_lock(727275)");
        index = static_cast<std::uint64_t>(sql::asInt(tx.single("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_entries")->at(0)));
        std::string previous;
        if (index > 0) {
            previous = sql::asText(tx.single("SELECT entry FROM audit_entries WHERE idx = $1",
                                             {static_cast<std::int64_t>(index - 1)})->at(0));
        }
        tx.execute("INSERT INTO audit_entries (idx, entry) VALUES ($1, $2)",
                   {static_cast<std::int64_t>(index), makeEntry(index, previous)});
    });
    return index;
}

std::uint64_t SqlAuditStore::size() {
    std::uint64_t size = 0;
    db_.inTransaction([&](sql::Transaction& tx) {
        size = static_cast<std::uint64_t>(sql::asInt(tx.single("SELECT COUNT(*) FROM audit_entries")->at(0)));
    });
    return size;
}

std::vector<audit::AuditEntry> SqlAuditStore::entries(std::uint64_t begin, std::uint64_t end) {
    std::vector<audit::AuditEntry> out;
    db_.inTransaction([&](sql::Transaction& tx) {
        // Stored order, not assumed order: a row whose idx was edited shows up where it sits.
        for (const auto& row : tx.query("SELECT idx, entry FROM audit_entries ORDER BY idx LIMIT $1 OFFSET $2",
                                        {static_cast<std::int64_t>(end - std::min(begin, end)), static_cast<std::int64_t>(begin)})) {
            out.push_back({static_cast<std::uint64_t>(sql::asInt(row[0])), sql::asText(row[1])});
        }
    });
    return out;
}

void SqlAuditStore::putCheckpoint(std::uint64_t size, const std::string& note, const std::string& timestampToken) {
    db_.inTransaction([&](sql::Transaction& tx) {
        tx.execute("INSERT INTO audit_checkpoints (size, note, timestamp_token) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                   {static_cast<std::int64_t>(size), note, tokenParam(timestampToken)});
    });
}

std::vector<audit::StoredCheckpoint> SqlAuditStore::storedCheckpoints() {
    std::vector<audit::StoredCheckpoint> out;
    db_.inTransaction([&](sql::Transaction& tx) {
        for (const auto& row : tx.query("SELECT size, note, timestamp_token FROM audit_checkpoints ORDER BY size")) {
            out.push_back(checkpointOf(row));
        }
    });
    return out;
}

std::optional<audit::StoredCheckpoint> SqlAuditStore::newestCheckpoint() {
    std::optional<audit::StoredCheckpoint> out;
    db_.inTransaction([&](sql::Transaction& tx) {
        if (const auto row = tx.single("SELECT size, note, timestamp_token FROM audit_checkpoints ORDER BY size DESC LIMIT 1")) {
            out = checkpointOf(*row);
        }
    });
    return out;
}

bool SqlAuditStore::addCheckpointTimestamp(std::uint64_t size, const std::string& timestampToken) {
    if (timestampToken.empty()) return false;
    bool added = false;
    db_.inTransaction([&](sql::Transaction& tx) {
        // Read and written in one transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row lock
        // of FOR UPDATE), so of two processes adding a token only the first one's stays.
        const auto row = tx.single(std::string("SELECT timestamp_token FROM audit_checkpoints WHERE size = $1") +
                                       (db_.postgres() ? " FOR UPDATE" : ""),
                                   {static_cast<std::int64_t>(size)});
        if (!row || row->at(0)) return;
        tx.execute("UPDATE audit_checkpoints SET timestamp_token = $1 WHERE size = $2",
                   {tokenParam(timestampToken), static_cast<std::int64_t>(size)});
        added = true;
    });
    return added;
}

}  // namespace kooperdoc::storage
