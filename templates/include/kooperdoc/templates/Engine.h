// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Dynamic/Var.h>

#include "kooperdoc/core/DocumentModel.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Tenant.h"
#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::templates {

struct RenderOptions {
    /// Printed in the footer and the QR code. Empty: derived from the template and the input,
    /// so the same request always gets the same id (storage assigns real ids later).
    std::string documentId;
    /// Seconds since the epoch for the document's dates (SOURCE_DATE_EPOCH in the CLI).
    std::int64_t createdEpochSeconds = 0;
    /// Render only this section (e.g. one audience's part); empty renders everything.
    std::string section;
};

/// Every check a request passes before anything is rendered: the template's schema, then
/// the printable repertoire of every string. Returns all violations, never throws for bad data.
std::vector<Violation> validateInput(const Template& tmpl, const Poco::Dynamic::Var& input);

/// Validates, fills the template and parses the result into the document model.
/// Throws ValidationError with every violation when the input is bad; Error{kInternal,
/// "template.*"} when the template itself is defective.
doc::Document renderDocument(const Template& tmpl, const Poco::Dynamic::Var& input,
                             const TenantProfile& tenant, const RenderOptions& options);

/// The Mustache output (Kooperdoc markup) for a valid input; for template authors and tests.
std::string expandMarkup(const Template& tmpl, const Poco::Dynamic::Var& input, const TenantProfile& tenant);

/// "KD-XXXX-XXXX-XXXX-XXXX" in Crockford base32 from the template reference and input hash.
std::string deriveDocumentId(const Template& tmpl, const std::string& inputSha256);

}  // namespace kooperdoc::templates
