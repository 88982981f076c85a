// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Issuing a document: the one path from a template and its data to a stored (and sealed) PDF,
// shared by `kooperdoc store` and POST /v1/documents so both validate, seal, store and record
// alike.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <Poco/Dynamic/Var.h>

#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Retention.h"
#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::service {

/// Who acts: pseudonymous ids only ("intake:ops-krakow", "cli"), never names.
struct Actor {
    std::string id;
    std::string role;
};

/// Adds a rendered PDF's signature fields and certifies it with the service's seal.
using Sealer = std::function<std::string(const pdf::RenderedPdf&)>;

struct IssueRequest {
    std::string tenantId;
    const templates::Template* tmpl = nullptr;
    Poco::Dynamic::Var input;
    std::string caseRef;
    /// A retry with the same key and the same request returns the first document; the same key
    /// with another request is Error{kAlreadyExists, "storage.idempotency_conflict"}.
    std::string idempotencyKey;
    bool seal = false;
    /// Rectification or annex: the document this one supersedes, and "corrected_version"|"annex".
    std::optional<std::string> supersedes;
    std::string relation;
    std::int64_t now = 0;
    /// The time printed in the document (SOURCE_DATE_EPOCH in reproducible tests); 0: now.
    std::int64_t createdAt = 0;
    Actor actor;
};

struct IssueResult {
    std::string documentId;
    bool replayed = false;
    std::size_t subjects = 0;
    std::string legalBasis;
    bool archivalDuty = false;
    std::string sha256;  ///< of the stored PDF
};

class DocumentIssuer {
public:
    /// \p sealer is needed only for requests with seal = true.
    DocumentIssuer(storage::DocumentStore& store, const storage::RetentionPolicies& retention, audit::AuditLog& log,
                   Sealer sealer = {});

    /// Validates, renders and stores. A sealed document's last page is its "Karta audytu" and
    /// kooperdoc-audit.json is attached before the seal, proving the document.rendered entry
    /// (template, version, SHA-256 of the input, printed in the footer): the seal certifies the
    /// trail, and the file alone shows who made it, when, from what. After the store commits,
    /// document.created (and document.sealed) name the stored bytes' SHA-256.
    /// ValidationError for invalid data; Error{kNotFound, "storage.tenant_unknown"}, ….
    IssueResult issue(const IssueRequest& request);

private:
    storage::DocumentStore& store_;
    const storage::RetentionPolicies& retention_;
    audit::AuditLog& log_;
    Sealer sealer_;
};

/// A new document id: random (it says nothing about the content), KD-XXXX-XXXX-XXXX-XXXX.
std::string newDocumentId();

}  // namespace kooperdoc::service
