// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "Sql.h"
#include "kooperdoc/audit/AuditLog.h"

namespace kooperdoc::storage {

/// The audit trail's entries and checkpoints in the same database as the documents (schema
/// version 3; checkpoint timestamp tokens, hex DER, since version 5). Indexes are dense under
/// concurrency: the next index is read and written in one transaction, which SQLite's BEGIN
/// IMMEDIATE and a PostgreSQL advisory lock serialise; the primary key refuses a second entry at
/// an index whatever happens.
class SqlAuditStore final : public audit::AuditStore {
public:
    explicit SqlAuditStore(sql::Database& db) : db_(db) {}
    std::uint64_t append(const EntryMaker& makeEntry) override;
    std::uint64_t size() override;
    std::vector<audit::AuditEntry> entries(std::uint64_t begin, std::uint64_t end) override;
    void putCheckpoint(std::uint64_t size, const std::string& note, const std::string& timestampToken) override;
    std::vector<audit::StoredCheckpoint> storedCheckpoints() override;
    std::optional<audit::StoredCheckpoint> newestCheckpoint() override;
    bool addCheckpointTimestamp(std::uint64_t size, const std::string& timestampToken) override;

private:
    sql::Database& db_;
};

}  // namespace kooperdoc::storage
