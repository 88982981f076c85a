// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/storage/DocumentStore.h"

#include <algorithm>
#include <set>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::storage {
namespace {

// Wrapped keys are stored as hex text (both backends read it alike).
std::string hex(const std::string& bytes) {
    return toHex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::string unhex(const std::string& text) {
    if (text.size() % 2 != 0) throw Error(ErrorCode::kDataLoss, "storage.key_damaged", "a stored key is not hex");
    std::string out(text.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto nibble = [&](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            throw Error(ErrorCode::kDataLoss, "storage.key_damaged", "a stored key is not hex");
        };
        out[i] = static_cast<char>(nibble(text[2 * i]) * 16 + nibble(text[2 * i + 1]));
    }
    return out;
}

std::string keyBytes(const Key256& key) { return std::string(reinterpret_cast<const char*>(key.data()), key.size()); }

Key256 keyFrom(const std::string& bytes) {
    if (bytes.size() != 32) throw Error(ErrorCode::kDataLoss, "storage.key_damaged", "a document key has the wrong size");
    Key256 key{};
    std::copy(bytes.begin(), bytes.end(), key.begin());
    return key;
}

std::string subjectOwner(const std::string& tenantId, const std::string& subjectId) {
    return "subject:" + tenantId + ":" + subjectId;
}
std::string tenantOwner(const std::string& tenantId) { return "tenant:" + tenantId; }
/// A document key wrapped under a holder's key is bound to the document and the holder.
std::string documentKeyContext(const std::string& documentId, const std::string& holder) {
    return "document-key:" + documentId + ":" + holder;
}
/// A blob is bound to its document, so swapping two files on disk fails to decrypt.
std::string blobContext(const std::string& documentId, const std::string& blobId) {
    return "blob:" + documentId + ":" + blobId;
}

}  // namespace

DocumentStore::DocumentStore(std::unique_ptr<Repository> repository, BlobStore blobs, MasterKey masterKey)
    : repository_(std::move(repository)), blobs_(std::move(blobs)), masterKey_(masterKey) {
    repository_->checkMasterKey(masterKey_.fingerprint());
    blobs_.removeLeftovers();
}

void DocumentStore::putTenant(const std::string& tenantId, const std::string& profileJson, std::int64_t now) {
    TenantRecord tenant;
    tenant.id = tenantId;
    tenant.profileJson = profileJson;
    tenant.wrappedKey = hex(masterKey_.wrap(randomKey(), tenantOwner(tenantId)));
    tenant.createdAt = now;
    repository_->putTenant(tenant);
}

std::string DocumentStore::wrapWebhookSecret(const std::string& tenantId, const std::string& webhookId,
                                             const std::string& secret) {
    return hex(sealBytes(tenantKey(tenantId), secret, "webhook-secret:" + tenantId + ":" + webhookId));
}

std::string DocumentStore::unwrapWebhookSecret(const std::string& tenantId, const std::string& webhookId,
                                               const std::string& wrappedSecret) {
    return openBytes(tenantKey(tenantId), unhex(wrappedSecret), "webhook-secret:" + tenantId + ":" + webhookId);
}

Key256 DocumentStore::tenantKey(const std::string& tenantId) {
    const auto tenant = repository_->tenant(tenantId);
    if (!tenant) throw Error(ErrorCode::kNotFound, "storage.tenant_unknown", "no tenant " + tenantId);
    return masterKey_.unwrap(unhex(tenant->wrappedKey), tenantOwner(tenantId));
}

InsertResult DocumentStore::store(const StoreRequest& request) {
    const Key256 tenantKeyValue = tenantKey(request.tenantId);

    // The people first: each is found or created through the keyed index, in its own
    // transaction; an unused new subject (the document insert then fails) holds nothing personal.
    std::vector<std::pair<std::string, std::string>> subjects;
    std::vector<WrappedDocumentKey> keys;
    const Key256 dataKey = randomKey();
    std::set<std::string> seen;
    for (const auto& person : request.subjects) {
        std::vector<std::string> hmacs;
        const std::string pesel = normalizePesel(person.pesel);
        if (!person.pesel.empty() && pesel.empty()) {
            throw Error(ErrorCode::kInvalidArgument, "storage.pesel_invalid", "a PESEL has 11 digits");
        }
        if (!pesel.empty()) hmacs.push_back(masterKey_.indexHmac(request.tenantId, "pesel", pesel));
        const std::string name = normalizeName(person.fullName);
        if (!name.empty()) hmacs.push_back(masterKey_.indexHmac(request.tenantId, "name", name));
        if (hmacs.empty()) throw Error(ErrorCode::kInvalidArgument, "storage.subject_unnamed", "a data subject needs a PESEL or a name");
        // A name alone must not merge two people called the same: only a PESEL finds an existing
        // subject; a subject without PESEL is found by name only when no PESEL is known at all.
        std::vector<std::string> lookup = pesel.empty() ? hmacs : std::vector<std::string>{hmacs.front()};
        const std::string newId = randomId();
        const SubjectRecord subject =
            repository_->findOrCreateSubject(request.tenantId, lookup, newId, hex(masterKey_.wrap(randomKey(), subjectOwner(request.tenantId, newId))),
                                             request.now);
        if (lookup.size() < hmacs.size()) {
            // Index the name too, under the subject the PESEL found.
            repository_->findOrCreateSubject(request.tenantId, hmacs, subject.id, *subject.wrappedKey, request.now);
        }
        if (!seen.insert(subject.id).second) continue;
        subjects.emplace_back(subject.id, person.role);
        const Key256 subjectKey = masterKey_.unwrap(unhex(*subject.wrappedKey), subjectOwner(request.tenantId, subject.id));
        const std::string holder = "subject:" + subject.id;
        keys.push_back({holder, hex(sealBytes(subjectKey, keyBytes(dataKey), documentKeyContext(request.documentId, holder)))});
    }
    if (request.archivalDuty || subjects.empty()) {
        const std::string holder = "tenant:" + request.tenantId;
        keys.push_back({holder, hex(sealBytes(tenantKeyValue, keyBytes(dataKey), documentKeyContext(request.documentId, holder)))});
    }

    NewDocument document;
    DocumentRecord& d = document.document;
    d.id = request.documentId;
    d.tenantId = request.tenantId;
    d.number = request.number;
    d.templateId = request.templateId;
    d.templateVersion = request.templateVersion;
    d.templateSha256 = request.templateSha256;
    d.retentionClass = request.retentionClass;
    d.legalBasis = request.legalBasis;
    d.archivalDuty = request.archivalDuty;
    d.caseRef = request.caseRef;
    d.status = request.status;
    d.idempotencyKey = request.idempotencyKey;
    d.requestSha256 = request.requestSha256;
    d.createdAt = request.now;
    d.supersedes = request.supersedes;
    d.relation = request.relation;
    document.subjects = subjects;
    document.keys = keys;
    RevisionRecord& revision = document.firstRevision;
    revision.kind = "issued";
    revision.blobId = randomId();
    revision.sha256 = sha256Hex(request.pdf);
    revision.size = static_cast<std::int64_t>(request.pdf.size());
    revision.createdAt = request.now;

    // Durable blob first, then the row that names it.
    blobs_.put(revision.blobId, sealBytes(dataKey, request.pdf, blobContext(d.id, revision.blobId)));
    InsertResult result;
    try {
        result = repository_->insertDocument(document);
    } catch (...) {
        blobs_.remove(revision.blobId);
        throw;
    }
    if (result.replayed) blobs_.remove(revision.blobId);
    return result;
}

InsertResult DocumentStore::supersede(const std::string& documentId, StoreRequest request, const std::string& relation) {
    if (relation != "corrected_version" && relation != "annex") {
        throw Error(ErrorCode::kInvalidArgument, "storage.relation_invalid", "a rectification is a corrected_version or an annex");
    }
    const auto earlier = repository_->document(request.tenantId, documentId);
    if (!earlier) throw Error(ErrorCode::kNotFound, "storage.document_unknown", "no document " + documentId + " in this tenant");
    if (earlier->status == DocumentStatus::kErased) {
        throw Error(ErrorCode::kFailedPrecondition, "storage.document_erased", "document " + documentId + " was erased");
    }
    if (!request.caseRef.empty() && request.caseRef != earlier->caseRef) {
        throw Error(ErrorCode::kInvalidArgument, "storage.case_mismatch", "a rectification belongs to the case of the document it corrects");
    }
    request.caseRef = earlier->caseRef;
    request.supersedes = documentId;
    request.relation = relation;
    return store(request);
}

Key256 DocumentStore::documentKey(const std::string& tenantId, const std::string& documentId) {
    for (const auto& key : repository_->documentKeys(documentId)) {
        try {
            if (key.holder.rfind("tenant:", 0) == 0) {
                if (key.holder != "tenant:" + tenantId) continue;
                return keyFrom(openBytes(tenantKey(tenantId), unhex(key.wrappedKey), documentKeyContext(documentId, key.holder)));
            }
            const std::string subjectId = key.holder.substr(std::string("subject:").size());
            const auto subject = repository_->subject(tenantId, subjectId);
            if (!subject || !subject->wrappedKey) continue;
            const Key256 subjectKey = masterKey_.unwrap(unhex(*subject->wrappedKey), subjectOwner(tenantId, subjectId));
            return keyFrom(openBytes(subjectKey, unhex(key.wrappedKey), documentKeyContext(documentId, key.holder)));
        } catch (const Error& e) {
            if (e.code() != ErrorCode::kDataLoss) throw;
        }
    }
    throw Error(ErrorCode::kDataLoss, "storage.decrypt_failed", "no key opens document " + documentId + " any more");
}

int DocumentStore::addRevision(const std::string& tenantId, const std::string& documentId, int expectedNewest,
                               const std::string& pdf, const std::string& kind, DocumentStatus status, std::int64_t now) {
    const auto document = repository_->document(tenantId, documentId);
    if (!document) throw Error(ErrorCode::kNotFound, "storage.document_unknown", "no document " + documentId + " in this tenant");
    const Key256 dataKey = documentKey(tenantId, documentId);
    RevisionRecord revision;
    revision.kind = kind;
    revision.blobId = randomId();
    revision.sha256 = sha256Hex(pdf);
    revision.size = static_cast<std::int64_t>(pdf.size());
    revision.createdAt = now;
    blobs_.put(revision.blobId, sealBytes(dataKey, pdf, blobContext(documentId, revision.blobId)));
    try {
        return repository_->addRevision(tenantId, documentId, expectedNewest, revision, status);
    } catch (...) {
        blobs_.remove(revision.blobId);
        throw;
    }
}

std::string DocumentStore::read(const std::string& tenantId, const std::string& documentId, int revision, bool allowRestricted) {
    const auto document = repository_->document(tenantId, documentId);
    if (!document) throw Error(ErrorCode::kNotFound, "storage.document_unknown", "no document " + documentId + " in this tenant");
    if (document->status == DocumentStatus::kErased) {
        throw Error(ErrorCode::kFailedPrecondition, "storage.document_erased", "document " + documentId + " was erased");
    }
    if (document->restricted && !allowRestricted) {
        throw Error(ErrorCode::kFailedPrecondition, "storage.restricted",
                    "document " + documentId + " is restricted (art. 18 GDPR): kept for the archive only");
    }
    const auto revisions = repository_->revisions(documentId);
    if (revisions.empty()) throw Error(ErrorCode::kDataLoss, "storage.revision_missing", "document " + documentId + " has no revision");
    const RevisionRecord* chosen = &revisions.back();
    if (revision != 0) {
        const auto it = std::find_if(revisions.begin(), revisions.end(), [&](const RevisionRecord& r) { return r.number == revision; });
        if (it == revisions.end()) {
            throw Error(ErrorCode::kNotFound, "storage.revision_unknown", "document " + documentId + " has no revision " + std::to_string(revision));
        }
        chosen = &*it;
    }
    const std::string pdf = openBytes(documentKey(tenantId, documentId), blobs_.get(chosen->blobId), blobContext(documentId, chosen->blobId));
    if (sha256Hex(pdf) != chosen->sha256) {
        throw Error(ErrorCode::kDataLoss, "storage.digest_mismatch", "revision " + std::to_string(chosen->number) + " of " + documentId + " is damaged");
    }
    return pdf;
}

std::vector<std::string> DocumentStore::findSubjects(const std::string& tenantId, const std::string& peselOrName) {
    const std::string pesel = normalizePesel(peselOrName);
    const std::string hmac = !pesel.empty() ? masterKey_.indexHmac(tenantId, "pesel", pesel)
                                            : masterKey_.indexHmac(tenantId, "name", normalizeName(peselOrName));
    return repository_->subjectsByIndex(tenantId, hmac);
}

std::vector<ErasureOutcome> DocumentStore::eraseSubject(const std::string& tenantId, const std::string& subjectId, std::int64_t now) {
    if (!repository_->subject(tenantId, subjectId)) {
        throw Error(ErrorCode::kNotFound, "storage.subject_unknown", "no data subject " + subjectId + " in this tenant");
    }
    std::vector<ErasureOutcome> outcomes;
    for (const auto& document : repository_->documentsOfSubject(tenantId, subjectId)) {
        if (document.status == DocumentStatus::kErased) continue;
        outcomes.push_back(settle(tenantId, document, subjectId, now));
    }
    repository_->eraseSubject(tenantId, subjectId, now);
    repository_->purgeFreedPages();
    return outcomes;
}

ErasureOutcome DocumentStore::settle(const std::string& tenantId, const DocumentRecord& document, const std::string& subjectId,
                                     std::int64_t now) {
    ErasureOutcome outcome;
    outcome.documentId = document.id;
    const auto holds = repository_->activeHolds(tenantId, document.id);
    std::vector<std::string> others;
    for (const auto& other : repository_->subjectsOfDocument(document.id)) {
        const auto record = repository_->subject(tenantId, other);
        if (other != subjectId && record && !record->erasedAt) others.push_back(other);
    }
    if (!holds.empty()) {
        outcome.ground = "legal_hold";
        outcome.detail = holds.front().reason;
    } else if (document.archivalDuty) {
        outcome.ground = "archival_duty (GDPR art. 17(3)(b))";
        repository_->setRestricted(tenantId, document.id, true);
    } else if (!others.empty()) {
        // Still about someone else: their key keeps it readable.
        outcome.ground = "other_subjects";
        outcome.detail = std::to_string(others.size()) + " other data subject(s)";
    } else {
        eraseDocument(tenantId, document.id, now);
        outcome.erased = true;
    }
    return outcome;
}

std::vector<ErasureOutcome> DocumentStore::withdrawConsent(const std::string& tenantId, const std::string& subjectId,
                                                           std::int64_t now) {
    if (!repository_->subject(tenantId, subjectId)) {
        throw Error(ErrorCode::kNotFound, "storage.subject_unknown", "no data subject " + subjectId + " in this tenant");
    }
    repository_->withdrawConsents(tenantId, subjectId, now);
    std::vector<ErasureOutcome> outcomes;
    for (const auto& document : repository_->documentsOfSubject(tenantId, subjectId)) {
        if (document.status == DocumentStatus::kErased) continue;
        if (document.legalBasis != "consent") {
            outcomes.push_back({document.id, false, "not_consent_based", document.legalBasis});
            continue;
        }
        outcomes.push_back(settle(tenantId, document, subjectId, now));
    }
    repository_->purgeFreedPages();
    return outcomes;
}

void DocumentStore::eraseDocument(const std::string& tenantId, const std::string& documentId, std::int64_t now) {
    // Keys and rows first (once committed, the blobs are unreadable ciphertext), then the files.
    for (const auto& blobId : repository_->eraseDocument(tenantId, documentId, now)) blobs_.remove(blobId);
}

std::size_t DocumentStore::sweepOrphanBlobs(std::chrono::seconds minimumAge) {
    // Listed before the rows are read: a blob written after the listing is not looked at, and
    // one written before it is old enough, or its row is committed, or its writer failed.
    const auto candidates = blobs_.list();
    const auto referencedList = repository_->referencedBlobs();
    const std::set<std::string> referenced(referencedList.begin(), referencedList.end());
    std::size_t removed = 0;
    for (const auto& id : candidates) {
        if (referenced.count(id) == 0 && blobs_.age(id) >= minimumAge) {
            blobs_.remove(id);
            ++removed;
        }
    }
    return removed;
}

}  // namespace kooperdoc::storage
