// SPDX-License-Identifier: AGPL-3.0-or-later
#include "SqlAuditStore.h"

namespace kooperdoc::storage {

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

void SqlAuditStore::putCheckpoint(std::uint64_t size, const std::string& note) {
    db_.inTransaction([&](sql::Transaction& tx) {
        tx.execute("INSERT INTO audit_checkpoints (size, note) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                   {static_cast<std::int64_t>(size), note});
    });
}

std::vector<std::string> SqlAuditStore::checkpoints() {
    std::vector<std::string> notes;
    db_.inTransaction([&](sql::Transaction& tx) {
        for (const auto& row : tx.query("SELECT note FROM audit_checkpoints ORDER BY size")) notes.push_back(sql::asText(row[0]));
    });
    return notes;
}

}  // namespace kooperdoc::storage
