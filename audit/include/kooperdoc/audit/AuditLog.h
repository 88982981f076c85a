// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The audit trail (issue 6): an append-only list of events whose leaves form an RFC 6962
// Merkle tree, pinned by signed checkpoints. An entry holds ids, roles, event types and hashes —
// never a name, a PESEL or an address — so erasing a person erases nothing from the log and the
// log keeps verifying. Where entries live is an AuditStore: storage/ implements it on SQLite
// and PostgreSQL; MemoryAuditStore serves tests and tools.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kooperdoc/audit/Checkpoint.h"
#include "kooperdoc/audit/Merkle.h"

namespace kooperdoc::audit {

/// What happened. Every value is an identifier or a code: record() refuses text that could be a
/// person's name (spaces, letters outside ASCII) or a PESEL (eleven digits).
struct AuditEvent {
    std::int64_t time = 0;
    std::string tenantId;
    std::string actorId;    ///< pseudonymous: a user id, "system", "intake:<client id>"
    std::string actorRole;  ///< "animator", "auditor", "dpo", "admin", "system", "intake"
    std::string type;       ///< one of kEventTypes
    std::string documentId;
    std::string documentSha256;
    std::map<std::string, std::string> details;
};

/// The event types the trail knows (issue 6, point 1).
extern const char* const kEventTypes[];

struct AuditEntry {
    std::uint64_t index = 0;
    /// The leaf: canonical JSON (RFC 8785) of the event, its index and "prev", the hex leaf hash of
    /// the entry before it — a hash chain beside the tree, which names the first changed entry.
    std::string canonical;
};

/// Where entries and checkpoints are kept. append() must give dense indexes under concurrency
/// and crashes: the entry \p makeEntry builds for index = current size (given the entry before
/// it, "" for the first) is stored in the same transaction that reads the size.
class AuditStore {
public:
    using EntryMaker = std::function<std::string(std::uint64_t index, const std::string& previousEntry)>;
    virtual ~AuditStore() = default;
    virtual std::uint64_t append(const EntryMaker& makeEntry) = 0;
    virtual std::uint64_t size() = 0;
    /// Entries [begin, end) in index order.
    virtual std::vector<AuditEntry> entries(std::uint64_t begin, std::uint64_t end) = 0;
    virtual void putCheckpoint(std::uint64_t size, const std::string& note) = 0;
    /// Every stored checkpoint note, in size order.
    virtual std::vector<std::string> checkpoints() = 0;
};

class MemoryAuditStore final : public AuditStore {
public:
    std::uint64_t append(const EntryMaker& makeEntry) override;
    std::uint64_t size() override;
    std::vector<AuditEntry> entries(std::uint64_t begin, std::uint64_t end) override;
    void putCheckpoint(std::uint64_t size, const std::string& note) override;
    std::vector<std::string> checkpoints() override;
    /// For tamper tests: the raw rows.
    std::vector<AuditEntry>& rows() { return entries_; }
    std::vector<std::pair<std::uint64_t, std::string>>& checkpointRows() { return checkpoints_; }

private:
    std::mutex mutex_;
    std::vector<AuditEntry> entries_;
    std::vector<std::pair<std::uint64_t, std::string>> checkpoints_;
};

/// An entry with what proves it: its inclusion proof up to a signed checkpoint.
struct InclusionReceipt {
    AuditEntry entry;
    std::vector<Sha256> proof;
    std::string checkpointNote;
};

/// The result of checking a whole log: ok, or the first problem with the index it concerns.
struct LogVerification {
    bool ok = false;
    std::uint64_t entries = 0, checkpoints = 0;
    std::string problem;                       ///< stable code: "audit.entry_index", "audit.checkpoint_signature", …
    std::string detail;
    std::optional<std::uint64_t> firstBadIndex;
};

class AuditLog {
public:
    /// \p checkpointEvery: a checkpoint after every that many entries (and on demand).
    AuditLog(AuditStore& store, CheckpointSigner signer, std::uint64_t checkpointEvery = 64);

    /// Appends the event; returns its index. Error{kInvalidArgument, "audit.personal_data"} for
    /// values that look like a name or a PESEL, "audit.event_type" for an unknown type.
    std::uint64_t record(const AuditEvent& event);
    /// Signs and stores a checkpoint of the log as it is now (unless one of this size exists).
    Checkpoint checkpoint();

    /// The entry at \p index with its proof to the newest checkpoint that covers it (made now if
    /// none does). Error{kNotFound, "audit.entry_unknown"}.
    InclusionReceipt prove(std::uint64_t index);
    /// Every entry naming \p documentId, each with its receipt (for the trail inside the PDF).
    std::vector<InclusionReceipt> proveDocument(const std::string& documentId);

    const CheckpointSigner& signer() const { return signer_; }

private:
    std::vector<Sha256> leafHashes(std::uint64_t size);
    AuditStore& store_;
    CheckpointSigner signer_;
    std::uint64_t checkpointEvery_;
    std::mutex checkpointMutex_;
};

/// Checks a whole log against its checkpoints with nothing but the audit public key: every
/// entry's index is its position, every checkpoint's signature verifies and its root equals the
/// root recomputed from the stored entries, sizes grow, and every checkpoint is consistent with
/// the next. \p trustedNote: a checkpoint held outside (an auditor's copy) the log must extend —
/// this is what catches deleting the newest entries together with their checkpoints.
LogVerification verifyLog(AuditStore& store, const std::string& origin, const std::string& publicKeyPem,
                          const std::optional<std::string>& trustedNote = std::nullopt);

/// Offline check of one receipt (the JSON inside a PDF carries these): the checkpoint verifies
/// and the entry's leaf is included in it.
bool verifyReceipt(const InclusionReceipt& receipt, const std::string& origin, const std::string& publicKeyPem,
                   std::string* whyNot = nullptr);

}  // namespace kooperdoc::audit
