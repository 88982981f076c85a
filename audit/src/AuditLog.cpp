// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/audit/AuditLog.h"

#include <Poco/JSON/Object.h>

#include <algorithm>
#include <cctype>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::audit {

const char* const kEventTypes[] = {
    "document.created",   "document.rendered",        "document.sealed",         "document.downloaded",
    "document.signed",    "document.upload_accepted", "document.upload_rejected", "document.verified",
    "document.viewed",    "document.restricted",      "document.erased",         "consent.withdrawn",
    "hold.placed",        "hold.cleared",             "retention.proposed",      "retention.approved",
    "retention.rejected", "retention.executed",       "subject.exported",        "subject.erased",
    "config.changed",     "key.changed",              "user.login",              "user.login_failed",
    nullptr};

namespace {

bool knownType(const std::string& type) {
    for (const char* const* t = kEventTypes; *t != nullptr; ++t) {
        if (type == *t) return true;
    }
    return false;
}

/// Identifiers and codes only: printable ASCII without spaces, and no run of exactly eleven
/// digits (a PESEL). A name ("Jan Kowalski", "Łucja") cannot pass.
void requireIdentifier(const std::string& field, const std::string& value) {
    if (value.size() > 200) throw Error(ErrorCode::kInvalidArgument, "audit.personal_data", field + " is too long for an identifier");
    std::size_t digits = 0;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        const char c = i < value.size() ? value[i] : '\0';
        if (i < value.size() && (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)) {
            throw Error(ErrorCode::kInvalidArgument, "audit.personal_data",
                        field + " holds a space or a non-ASCII character: the audit log takes identifiers, never names");
        }
        if (c >= '0' && c <= '9') {
            ++digits;
        } else {
            if (digits == 11) {
                throw Error(ErrorCode::kInvalidArgument, "audit.personal_data", field + " holds an eleven-digit number (a PESEL?)");
            }
            digits = 0;
        }
    }
}

bool isSha256Hex(const std::string& value) {
    return value.size() == 64 && std::all_of(value.begin(), value.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)); });
}

std::string canonicalEntry(const AuditEvent& event, std::uint64_t index, const std::string& previousEntry) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("v", 1);
    o->set("index", static_cast<Poco::UInt64>(index));
    o->set("prev", previousEntry.empty() ? std::string() : toHex(leafHash(previousEntry)));
    o->set("time", static_cast<Poco::Int64>(event.time));
    o->set("tenant", event.tenantId);
    o->set("actor", event.actorId);
    o->set("role", event.actorRole);
    o->set("type", event.type);
    o->set("document", event.documentId);
    o->set("document_sha256", event.documentSha256);
    Poco::JSON::Object::Ptr details = new Poco::JSON::Object;
    for (const auto& [key, value] : event.details) details->set(key, value);
    o->set("details", details);
    return canonicalJson(Poco::Dynamic::Var(o));
}

struct ParsedEntry {
    std::uint64_t index = 0;
    std::string prev, document;
    bool ok = false;
};

ParsedEntry parseEntry(const std::string& canonical) {
    ParsedEntry parsed;
    try {
        const auto value = parseJson(canonical);
        const auto object = value.extract<Poco::JSON::Object::Ptr>();
        parsed.index = object->getValue<Poco::UInt64>("index");
        parsed.prev = object->getValue<std::string>("prev");
        parsed.document = object->getValue<std::string>("document");
        parsed.ok = true;
    } catch (const std::exception&) {
    }
    return parsed;
}

}  // namespace

// ------------------------------------------------------------------ MemoryAuditStore

std::uint64_t MemoryAuditStore::append(const EntryMaker& makeEntry) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::uint64_t index = entries_.size();
    entries_.push_back({index, makeEntry(index, entries_.empty() ? std::string() : entries_.back().canonical)});
    return index;
}

std::uint64_t MemoryAuditStore::size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

std::vector<AuditEntry> MemoryAuditStore::entries(std::uint64_t begin, std::uint64_t end) {
    std::lock_guard<std::mutex> lock(mutex_);
    end = std::min<std::uint64_t>(end, entries_.size());
    if (begin >= end) return {};
    return {entries_.begin() + static_cast<long>(begin), entries_.begin() + static_cast<long>(end)};
}

void MemoryAuditStore::putCheckpoint(std::uint64_t size, const std::string& note, const std::string& timestampToken) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& existing : checkpoints_) {
        if (existing.size == size) return;
    }
    checkpoints_.push_back({size, note, timestampToken});
    std::sort(checkpoints_.begin(), checkpoints_.end(), [](const auto& a, const auto& b) { return a.size < b.size; });
}

std::vector<StoredCheckpoint> MemoryAuditStore::storedCheckpoints() {
    std::lock_guard<std::mutex> lock(mutex_);
    return checkpoints_;
}

std::optional<StoredCheckpoint> MemoryAuditStore::newestCheckpoint() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (checkpoints_.empty()) return std::nullopt;
    return checkpoints_.back();
}

bool MemoryAuditStore::addCheckpointTimestamp(std::uint64_t size, const std::string& timestampToken) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& existing : checkpoints_) {
        if (existing.size != size) continue;
        if (!existing.timestampToken.empty()) return false;
        existing.timestampToken = timestampToken;
        return true;
    }
    return false;
}

std::vector<std::string> AuditStore::checkpoints() {
    std::vector<std::string> notes;
    for (auto& checkpoint : storedCheckpoints()) notes.push_back(std::move(checkpoint.note));
    return notes;
}

// ------------------------------------------------------------------ AuditLog

AuditLog::AuditLog(AuditStore& store, CheckpointSigner signer, std::uint64_t checkpointEvery, CheckpointTimestamper timestamper)
    : store_(store),
      signer_(std::move(signer)),
      checkpointEvery_(std::max<std::uint64_t>(1, checkpointEvery)),
      timestamper_(std::move(timestamper)) {}

std::uint64_t AuditLog::record(const AuditEvent& event) {
    if (!knownType(event.type)) throw Error(ErrorCode::kInvalidArgument, "audit.event_type", "unknown audit event type " + event.type);
    requireIdentifier("tenant", event.tenantId);
    requireIdentifier("actor", event.actorId);
    requireIdentifier("role", event.actorRole);
    requireIdentifier("document", event.documentId);
    if (!event.documentSha256.empty() && !isSha256Hex(event.documentSha256)) {
        throw Error(ErrorCode::kInvalidArgument, "audit.personal_data", "document_sha256 must be 64 lower-case hex digits");
    }
    for (const auto& [key, value] : event.details) {
        requireIdentifier("details key", key);
        requireIdentifier("details." + key, value);
    }
    const std::uint64_t index =
        store_.append([&](std::uint64_t i, const std::string& previous) { return canonicalEntry(event, i, previous); });
    notifyObserver(event, index);
    if ((index + 1) % checkpointEvery_ == 0) checkpoint();
    return index;
}

void AuditLog::setObserver(Observer observer) {
    auto shared = observer ? std::make_shared<const Observer>(std::move(observer)) : nullptr;
    std::lock_guard<std::mutex> lock(observerMutex_);
    observer_ = std::move(shared);
}

void AuditLog::notifyObserver(const AuditEvent& event, std::uint64_t index) {
    std::shared_ptr<const Observer> observer;
    {
        std::lock_guard<std::mutex> lock(observerMutex_);
        observer = observer_;
    }
    if (!observer) return;
    try {
        (*observer)(event, index);
    } catch (...) {
        ++observerFailures_;
    }
}

void AuditLog::extendLeafCache(std::uint64_t size) {
    const std::uint64_t cached = leafCache_.size();
    if (cached >= size) return;
    const auto added = store_.entries(cached, size);
    // Checked before anything is cached: a gap or a moved row must not become a leaf that every
    // later proof would build on.
    for (std::size_t i = 0; i < added.size(); ++i) {
        if (added[i].index != cached + i) {
            throw Error(ErrorCode::kDataLoss, "audit.entries_missing",
                        "the audit log has no entry " + std::to_string(cached + i) + " where it should be");
        }
    }
    if (added.size() != size - cached) throw Error(ErrorCode::kDataLoss, "audit.entries_missing", "the audit log lost entries");
    leafCache_.reserve(size);
    for (const auto& entry : added) leafCache_.push_back(leafHash(entry.canonical));
}

Sha256 AuditLog::rootAt(std::uint64_t size) {
    std::lock_guard<std::mutex> lock(leafMutex_);
    extendLeafCache(size);
    return rootOf(leafCache_, 0, size);
}

std::vector<Sha256> AuditLog::inclusionProofAt(std::uint64_t index, std::uint64_t size) {
    std::lock_guard<std::mutex> lock(leafMutex_);
    extendLeafCache(size);
    return inclusionProof(leafCache_, index, size);
}

std::string AuditLog::timestampOrNothing(const std::string& note, std::string* failure) {
    if (!timestamper_) return {};
    try {
        return timestamper_(checkpointImprint(note));
    } catch (const std::exception& e) {
        // The checkpoint is kept without a token: the TSA being down must not cost the entry
        // that triggered the checkpoint; timestampMissing() asks again later.
        if (failure != nullptr) *failure = e.what();
        return {};
    }
}

Checkpoint AuditLog::checkpointLocked(std::string& timestampToken) {
    const std::uint64_t size = store_.size();
    Checkpoint signedNow = signer_.sign(size, rootAt(size));
    // Ed25519 is deterministic: a log that has not grown gives the very note stored already, which
    // then needs no second token (only the one it lacks, if the TSA was down).
    if (const auto newest = store_.newestCheckpoint(); newest && newest->size == size && newest->note == signedNow.note) {
        timestampToken = newest->timestampToken;
        if (timestampToken.empty()) {
            timestampToken = timestampOrNothing(newest->note);
            if (!timestampToken.empty() && !store_.addCheckpointTimestamp(size, timestampToken)) {
                // Another process gave it a token meanwhile: that one is the stored one.
                if (const auto again = store_.newestCheckpoint(); again && again->size == size) timestampToken = again->timestampToken;
            }
        }
        return signedNow;
    }
    timestampToken = timestampOrNothing(signedNow.note);
    store_.putCheckpoint(size, signedNow.note, timestampToken);
    return signedNow;
}

Checkpoint AuditLog::checkpoint() {
    // One at a time, so two threads never sign two different roots for one size.
    std::lock_guard<std::mutex> lock(checkpointMutex_);
    std::string timestampToken;
    return checkpointLocked(timestampToken);
}

std::optional<Checkpoint> AuditLog::checkpointIfGrown() {
    {
        const auto newest = store_.newestCheckpoint();
        // An empty log without checkpoints has nothing to pin either.
        if (store_.size() <= (newest ? newest->size : 0)) return std::nullopt;
    }
    return checkpoint();
}

TimestampBackfill AuditLog::timestampMissing(std::size_t limit) {
    TimestampBackfill result;
    for (const auto& stored : store_.storedCheckpoints()) {
        if (!stored.timestampToken.empty()) continue;
        ++result.missing;
        if (!timestamper_ || !result.failure.empty() || result.added >= limit) continue;
        const std::string token = timestampOrNothing(stored.note, &result.failure);
        if (token.empty()) {
            if (result.failure.empty()) result.failure = "the timestamp authority returned no token";
            continue;
        }
        if (store_.addCheckpointTimestamp(stored.size, token)) {
            ++result.added;
            --result.missing;
        }
    }
    return result;
}

InclusionReceipt AuditLog::prove(std::uint64_t index) {
    const auto entries = store_.entries(index, index + 1);
    if (entries.empty()) throw Error(ErrorCode::kNotFound, "audit.entry_unknown", "no audit entry " + std::to_string(index));
    std::optional<Checkpoint> covering;
    std::string coveringToken;
    const std::string pem = signer_.publicKeyPem();
    for (auto& stored : store_.storedCheckpoints()) {
        auto parsed = verifyCheckpoint(stored.note, signer_.origin(), pem);
        if (parsed && parsed->size > index) {
            covering = std::move(parsed);
            coveringToken = std::move(stored.timestampToken);
        }
    }
    if (!covering) {
        std::lock_guard<std::mutex> lock(checkpointMutex_);
        covering = checkpointLocked(coveringToken);
    }
    InclusionReceipt receipt;
    receipt.entry = entries.front();
    receipt.proof = inclusionProofAt(index, covering->size);
    receipt.checkpointNote = covering->note;
    receipt.checkpointTimestamp = std::move(coveringToken);
    return receipt;
}

std::vector<InclusionReceipt> AuditLog::proveDocument(const std::string& documentId) {
    std::string timestampToken;
    Checkpoint latest;
    {
        std::lock_guard<std::mutex> lock(checkpointMutex_);
        latest = checkpointLocked(timestampToken);
    }
    std::vector<InclusionReceipt> receipts;
    for (const auto& entry : store_.entries(0, latest.size)) {
        if (parseEntry(entry.canonical).document != documentId) continue;
        receipts.push_back({entry, inclusionProofAt(entry.index, latest.size), latest.note, timestampToken});
    }
    return receipts;
}

// ------------------------------------------------------------------ verification

LogVerification verifyLog(AuditStore& store, const std::string& origin, const std::string& publicKeyPem,
                          const std::optional<std::string>& trustedNote, const CheckpointTimestampVerifier& timestampVerifier) {
    LogVerification result;
    const auto fail = [&](const char* problem, const std::string& detail, std::optional<std::uint64_t> index = std::nullopt) {
        result.ok = false;
        result.problem = problem;
        result.detail = detail;
        result.firstBadIndex = index;
        return result;
    };
    const auto entries = store.entries(0, store.size());
    result.entries = entries.size();
    std::vector<Sha256> leaves;
    leaves.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const ParsedEntry parsed = parseEntry(entries[i].canonical);
        if (!parsed.ok || entries[i].index != i || parsed.index != i) {
            return fail("audit.entry_index", "the entry at position " + std::to_string(i) + " is not entry " + std::to_string(i) +
                                                 " (deleted, inserted or moved)",
                        i);
        }
        const std::string expectedPrev = i == 0 ? std::string() : toHex(leaves.back());
        if (parsed.prev != expectedPrev) {
            return fail("audit.chain", "entry " + std::to_string(i) + " does not follow entry " + std::to_string(i - 1) +
                                           ": one of them was changed",
                        i - 1);
        }
        leaves.push_back(leafHash(entries[i].canonical));
    }
    std::uint64_t previousSize = 0;
    bool first = true;
    for (const auto& stored : store.storedCheckpoints()) {
        std::string whyNot;
        const auto checkpoint = verifyCheckpoint(stored.note, origin, publicKeyPem, &whyNot);
        if (!checkpoint) return fail("audit.checkpoint_signature", "checkpoint " + std::to_string(result.checkpoints) + ": " + whyNot);
        if (!first && checkpoint->size <= previousSize) {
            return fail("audit.checkpoint_order", "checkpoint sizes do not grow at " + std::to_string(checkpoint->size));
        }
        if (checkpoint->size > leaves.size()) {
            return fail("audit.truncated", "a checkpoint covers " + std::to_string(checkpoint->size) + " entries, the log holds " +
                                               std::to_string(leaves.size()),
                        leaves.size());
        }
        if (rootOf(leaves, 0, checkpoint->size) != checkpoint->root) {
            return fail("audit.checkpoint_root",
                        "the entries do not give the root signed for size " + std::to_string(checkpoint->size), previousSize);
        }
        if (!stored.timestampToken.empty()) {
            ++result.timestampedCheckpoints;
            if (timestampVerifier && !timestampVerifier(stored.timestampToken, checkpointImprint(stored.note), &whyNot)) {
                return fail("audit.checkpoint_timestamp_invalid",
                            "the timestamp of checkpoint " + std::to_string(checkpoint->size) + " does not cover it: " + whyNot);
            }
        }
        previousSize = checkpoint->size;
        first = false;
        ++result.checkpoints;
    }
    if (trustedNote) {
        std::string whyNot;
        const auto trusted = verifyCheckpoint(*trustedNote, origin, publicKeyPem, &whyNot);
        if (!trusted) return fail("audit.trusted_checkpoint", "the checkpoint held outside does not verify: " + whyNot);
        if (trusted->size > leaves.size()) {
            return fail("audit.truncated", "the log holds " + std::to_string(leaves.size()) + " entries, fewer than the " +
                                               std::to_string(trusted->size) + " an auditor saw",
                        leaves.size());
        }
        const auto proof = consistencyProof(leaves, trusted->size, leaves.size());
        if (!verifyConsistency(trusted->size, leaves.size(), trusted->root, rootOf(leaves), proof)) {
            return fail("audit.fork", "the log does not extend the checkpoint held outside (size " + std::to_string(trusted->size) + ")");
        }
    }
    result.ok = true;
    return result;
}

bool verifyReceipt(const InclusionReceipt& receipt, const std::string& origin, const std::string& publicKeyPem, std::string* whyNot) {
    const auto checkpoint = verifyCheckpoint(receipt.checkpointNote, origin, publicKeyPem, whyNot);
    if (!checkpoint) return false;
    if (!verifyInclusion(leafHash(receipt.entry.canonical), receipt.entry.index, checkpoint->size, receipt.proof, checkpoint->root)) {
        if (whyNot != nullptr) *whyNot = "the entry is not in the tree the checkpoint signs";
        return false;
    }
    if (parseEntry(receipt.entry.canonical).index != receipt.entry.index) {
        if (whyNot != nullptr) *whyNot = "the entry names another index than its proof";
        return false;
    }
    return true;
}

}  // namespace kooperdoc::audit
