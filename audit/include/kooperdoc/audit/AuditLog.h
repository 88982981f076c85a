// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The audit trail (issue 6): an append-only list of events whose leaves form an RFC 6962
// Merkle tree, pinned by signed checkpoints. An entry holds ids, roles, event types and hashes —
// never a name, a PESEL or an address — so erasing a person erases nothing from the log and the
// log keeps verifying. Where entries live is an AuditStore: storage/ implements it on SQLite
// and PostgreSQL; MemoryAuditStore serves tests and tools.

#include <atomic>
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

/// A checkpoint's RFC 3161 timestamp is over SHA-256 of the whole signed note, signature line
/// included: the token then proves that this signature existed at its time, not only the root.
/// audit/ depends on core alone and cannot speak CMS, so the timestamp authority comes in as a
/// plain function (server/ wraps signing's TSA): it returns the DER TimeStampToken over \p
/// imprint and throws when it has none to give.
using CheckpointTimestamper = std::function<std::string(const Sha256& imprint)>;

/// Checks a stored DER TimeStampToken against the imprint it should cover (CMS is done outside
/// audit/, see verifyLog). true when it holds; otherwise false with the reason in \p whyNot.
using CheckpointTimestampVerifier =
    std::function<bool(const std::string& tokenDer, const Sha256& imprint, std::string* whyNot)>;

/// What a checkpoint's timestamp token covers.
inline Sha256 checkpointImprint(const std::string& note) { return sha256(note); }

struct StoredCheckpoint {
    std::uint64_t size = 0;
    std::string note;            ///< the signed note, byte for byte
    std::string timestampToken;  ///< DER TimeStampToken over checkpointImprint(note); "" when none
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
    /// Stores the checkpoint with its token ("" when the TSA gave none) unless one of this size
    /// exists already; the stored one is then kept as it is.
    virtual void putCheckpoint(std::uint64_t size, const std::string& note, const std::string& timestampToken) = 0;
    /// Every stored checkpoint with its token, in size order.
    virtual std::vector<StoredCheckpoint> storedCheckpoints() = 0;
    /// The stored checkpoint of the largest size, if any.
    virtual std::optional<StoredCheckpoint> newestCheckpoint() = 0;
    /// Gives the checkpoint of \p size the token it lacks (the TSA was down when it was signed).
    /// false, changing nothing, when there is no such checkpoint or it has a token already: a
    /// token once stored is never replaced.
    virtual bool addCheckpointTimestamp(std::uint64_t size, const std::string& timestampToken) = 0;

    /// Every stored checkpoint note, in size order.
    std::vector<std::string> checkpoints();
};

class MemoryAuditStore final : public AuditStore {
public:
    std::uint64_t append(const EntryMaker& makeEntry) override;
    std::uint64_t size() override;
    std::vector<AuditEntry> entries(std::uint64_t begin, std::uint64_t end) override;
    void putCheckpoint(std::uint64_t size, const std::string& note, const std::string& timestampToken) override;
    std::vector<StoredCheckpoint> storedCheckpoints() override;
    std::optional<StoredCheckpoint> newestCheckpoint() override;
    bool addCheckpointTimestamp(std::uint64_t size, const std::string& timestampToken) override;
    /// For tamper tests: the raw rows.
    std::vector<AuditEntry>& rows() { return entries_; }
    std::vector<StoredCheckpoint>& checkpointRows() { return checkpoints_; }

private:
    std::mutex mutex_;
    std::vector<AuditEntry> entries_;
    std::vector<StoredCheckpoint> checkpoints_;
};

/// An entry with what proves it: its inclusion proof up to a signed checkpoint.
struct InclusionReceipt {
    AuditEntry entry;
    std::vector<Sha256> proof;
    std::string checkpointNote;
    /// DER TimeStampToken over checkpointImprint(checkpointNote); "" when the checkpoint has none.
    std::string checkpointTimestamp;
};

/// The result of checking a whole log: ok, or the first problem with the index it concerns.
struct LogVerification {
    bool ok = false;
    std::uint64_t entries = 0, checkpoints = 0;
    /// Checkpoints that carry a timestamp token (checked when a verifier was given).
    std::uint64_t timestampedCheckpoints = 0;
    /// Stable code: "audit.entry_index", "audit.checkpoint_signature",
    /// "audit.checkpoint_timestamp_invalid", …
    std::string problem;
    std::string detail;
    std::optional<std::uint64_t> firstBadIndex;
};

/// What timestampMissing() did.
struct TimestampBackfill {
    std::size_t added = 0;    ///< checkpoints that got their token now
    std::size_t missing = 0;  ///< checkpoints still without one
    std::string failure;      ///< why the TSA gave no token ("" when it did not fail)
};

class AuditLog {
public:
    /// \p checkpointEvery: a checkpoint after every that many entries (and on demand).
    /// \p timestamper: when set, every checkpoint is timestamped as it is signed; when it fails
    /// the checkpoint is stored without a token (timestampMissing() adds it later) and nothing
    /// else fails: an unreachable TSA never costs an entry.
    AuditLog(AuditStore& store, CheckpointSigner signer, std::uint64_t checkpointEvery = 64,
             CheckpointTimestamper timestamper = {});

    /// Appends the event; returns its index. Error{kInvalidArgument, "audit.personal_data"} for
    /// values that look like a name or a PESEL, "audit.event_type" for an unknown type.
    std::uint64_t record(const AuditEvent& event);
    /// Signs and stores a checkpoint of the log as it is now (unless one of this size exists).
    Checkpoint checkpoint();
    /// A checkpoint when entries were appended since the newest stored one; nullopt otherwise.
    std::optional<Checkpoint> checkpointIfGrown();
    /// Asks the TSA for the tokens stored checkpoints lack, oldest first, at most \p limit of
    /// them; stops at the first failure (a TSA that is down is not asked again and again).
    TimestampBackfill timestampMissing(std::size_t limit);

    /// The entry at \p index with its proof to the newest checkpoint that covers it (made now if
    /// none does). Error{kNotFound, "audit.entry_unknown"}.
    InclusionReceipt prove(std::uint64_t index);
    /// Every entry naming \p documentId, each with its receipt (for the trail inside the PDF).
    std::vector<InclusionReceipt> proveDocument(const std::string& documentId);

    const CheckpointSigner& signer() const { return signer_; }

    /// Told of every entry after it is stored (webhooks: server/Webhooks.h). Whatever it throws
    /// is swallowed and counted: a notification must never cost the trail an entry, nor the
    /// caller an error for an entry that is stored. Empty: none.
    using Observer = std::function<void(const AuditEvent& event, std::uint64_t index)>;
    void setObserver(Observer observer);
    /// How many times the observer threw.
    std::uint64_t observerFailures() const { return observerFailures_.load(); }

private:
    /// checkpoint() with checkpointMutex_ held; \p timestampToken receives the stored token.
    Checkpoint checkpointLocked(std::string& timestampToken);
    std::string timestampOrNothing(const std::string& note, std::string* failure = nullptr);
    void notifyObserver(const AuditEvent& event, std::uint64_t index);
    /// The root of, and inclusion proofs in, the tree of the first \p size entries, from the
    /// leaf-hash cache.
    Sha256 rootAt(std::uint64_t size);
    std::vector<Sha256> inclusionProofAt(std::uint64_t index, std::uint64_t size);
    /// Extends leafCache_ to \p size entries; leafMutex_ must be held.
    void extendLeafCache(std::uint64_t size);

    AuditStore& store_;
    CheckpointSigner signer_;
    std::uint64_t checkpointEvery_;
    CheckpointTimestamper timestamper_;
    std::mutex checkpointMutex_;
    /// Leaf hashes of entries [0, leafCache_.size()): entries are append-only, so a checkpoint or
    /// a proof reads and hashes only the entries appended since the last one. verifyLog never
    /// uses it: a verification reads everything from the store.
    std::mutex leafMutex_;
    std::vector<Sha256> leafCache_;
    /// Shared, so setObserver() may replace it while another thread is calling the old one.
    std::mutex observerMutex_;
    std::shared_ptr<const Observer> observer_;
    std::atomic<std::uint64_t> observerFailures_{0};
};

/// Checks a whole log against its checkpoints with nothing but the audit public key: every
/// entry's index is its position, every checkpoint's signature verifies and its root equals the
/// root recomputed from the stored entries, sizes grow, and every checkpoint is consistent with
/// the next. \p trustedNote: a checkpoint held outside (an auditor's copy) the log must extend —
/// this is what catches deleting the newest entries together with their checkpoints.
/// \p timestampVerifier: when given, every stored timestamp token must cover its checkpoint's
/// note ("audit.checkpoint_timestamp_invalid"); a checkpoint without a token is no problem.
/// The CMS check is a hook rather than done by the caller after the fact so that the tokens are
/// judged in the same pass, and with the same "first problem wins" order, as the notes they
/// cover — while audit/ itself stays free of CMS (it depends on core only).
LogVerification verifyLog(AuditStore& store, const std::string& origin, const std::string& publicKeyPem,
                          const std::optional<std::string>& trustedNote = std::nullopt,
                          const CheckpointTimestampVerifier& timestampVerifier = {});

/// Offline check of one receipt (the JSON inside a PDF carries these): the checkpoint verifies
/// and the entry's leaf is included in it.
bool verifyReceipt(const InclusionReceipt& receipt, const std::string& origin, const std::string& publicKeyPem,
                   std::string* whyNot = nullptr);

}  // namespace kooperdoc::audit
