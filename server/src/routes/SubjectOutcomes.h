// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Erasure and consent-withdrawal outcomes as the API answers and records them.

#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "../Api.h"
#include "kooperdoc/storage/DocumentStore.h"

namespace kooperdoc::server {

/// {"subject_id", "documents": [{"document_id", "outcome": "erased"|"kept", "ground", "detail"}]}
Poco::JSON::Object::Ptr outcomesJson(const std::string& subjectId, const std::vector<storage::ErasureOutcome>& outcomes);

/// One \p type event per document: the subject's pseudonymous id and "erased" or "kept:<ground>".
void recordOutcomes(const Api& api, const RequestContext& ctx, const std::string& type, const std::string& subjectId,
                    const std::vector<storage::ErasureOutcome>& outcomes);

/// The person's data as application/zip (service::exportSubject), recorded as subject.exported.
void sendSubjectExport(const Api& api, RequestContext& ctx, const std::string& subjectId);

}  // namespace kooperdoc::server
