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

void MemoryAuditStore::putCheckpoint(std::uint64_t size, const std::string& note) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [existing, text] : checkpoints_) {
        if (existing == size) return;
    }
    checkpoints_.emplace_back(size, note);
    std::sort(checkpoints_.begin(), checkpoints_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

std::vector<std::string> MemoryAuditStore::checkpoints() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> notes;
    for (const auto& [size, note] : checkpoints_) notes.push_back(note);
    return notes;
}

// ------------------------------------------------------------------ AuditLog

AuditLog::AuditLog(AuditStore& store, CheckpointSigner signer, std::uint64_t checkpointEvery)
    : store_(store), signer_(std::move(signer)), checkpointEvery_(std::max<std::uint64_t>(1, checkpointEvery)) {}

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
    if ((index + 1) % checkpointEvery_ == 0) checkpoint();
    return index;
}

std::vector<Sha256> AuditLog::leafHashes(std::uint64_t size) {
    std::vector<Sha256> leaves;
    leaves.reserve(size);
    for (const auto& entry : store_.entries(0, size)) leaves.push_back(leafHash(entry.canonical));
    if (leaves.size() != size) throw Error(ErrorCode::kDataLoss, "audit.entries_missing", "the audit log lost entries");
    return leaves;
}

Checkpoint AuditLog::checkpoint() {
    // One at a time, so two threads never sign two different roots for one size.
    std::lock_guard<std::mutex> lock(checkpointMutex_);
    const std::uint64_t size = store_.size();
    const Checkpoint checkpoint = signer_.sign(size, rootOf(leafHashes(size)));
    store_.putCheckpoint(size, checkpoint.note);
    return checkpoint;
}

InclusionReceipt AuditLog::prove(std::uint64_t index) {
    const auto entries = store_.entries(index, index + 1);
    if (entries.empty()) throw Error(ErrorCode::kNotFound, "audit.entry_unknown", "no audit entry " + std::to_string(index));
    std::optional<Checkpoint> covering;
    const std::string pem = signer_.publicKeyPem();
    for (const auto& note : store_.checkpoints()) {
        auto parsed = verifyCheckpoint(note, signer_.origin(), pem);
        if (parsed && parsed->size > index) {
            covering = std::move(parsed);
        }
    }
    if (!covering) covering = checkpoint();
    InclusionReceipt receipt;
    receipt.entry = entries.front();
    receipt.proof = inclusionProof(leafHashes(covering->size), index, covering->size);
    receipt.checkpointNote = covering->note;
    return receipt;
}

std::vector<InclusionReceipt> AuditLog::proveDocument(const std::string& documentId) {
    const Checkpoint latest = checkpoint();
    const auto leaves = leafHashes(latest.size);
    std::vector<InclusionReceipt> receipts;
    for (const auto& entry : store_.entries(0, latest.size)) {
        if (parseEntry(entry.canonical).document != documentId) continue;
        receipts.push_back({entry, inclusionProof(leaves, entry.index, latest.size), latest.note});
    }
    return receipts;
}

// ------------------------------------------------------------------ verification

LogVerification verifyLog(AuditStore& store, const std::string& origin, const std::string& publicKeyPem,
                          const std::optional<std::string>& trustedNote) {
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
    for (const auto& note : store.checkpoints()) {
        std::string whyNot;
        const auto checkpoint = verifyCheckpoint(note, origin, publicKeyPem, &whyNot);
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
