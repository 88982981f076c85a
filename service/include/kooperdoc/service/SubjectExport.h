// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A person's right of access (GDPR art. 15) as one ZIP: `kooperdoc subject export` and
// GET /v1/subjects/{id}/export build it here, so both hand out the same archive.

#include <cstdint>
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>

#include "kooperdoc/storage/DocumentStore.h"

namespace kooperdoc::service {

/// "2026-11-23T15:37:17Z".
std::string isoTime(std::int64_t epoch);

/// A stored document's record as document lists, the API and the export manifest show it.
Poco::JSON::Object::Ptr documentJson(const storage::DocumentRecord& document);

/// A retention report row's members as `kooperdoc retention report --json` and GET
/// /v1/retention/report show them ("document_id", "template_id", "rule", "category", "action",
/// "trigger_at", "ends_at", "due"), set on \p o, whose key order the caller chose. "blocked_by" is
/// the caller's to add: the API writes null when nothing blocks, the CLI leaves it out.
void setRetentionStatus(Poco::JSON::Object& o, const storage::RetentionStatus& status);

/// "archival_duty (GDPR art. 17(3)(b))" → "archival_duty": an erasure ground as the audit log
/// takes it (codes only).
std::string erasureGroundCode(const std::string& ground);

struct SubjectExport {
    std::string zip;  ///< manifest.json and every readable revision of every document about the person
    std::size_t documents = 0;
};

/// Error{kNotFound, "storage.subject_unknown"} for a subject not in \p tenantId. Restricted
/// documents are included: the right of access reaches them too.
SubjectExport exportSubject(storage::DocumentStore& store, const std::string& tenantId, const std::string& subjectId, std::int64_t now);

}  // namespace kooperdoc::service
