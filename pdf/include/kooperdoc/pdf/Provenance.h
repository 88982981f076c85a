// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What the renderer wrote about a document's origin (/Kooperdoc… keys of the Info dictionary),
// read from the FIRST revision: a later incremental update could write any Info it likes.

#include <string>

#include "kooperdoc/pdf/PdfReader.h"

namespace kooperdoc::pdf {

struct StoredProvenance {
    std::string documentId, documentNumber, templateId, templateVersion, templateSha256, inputSha256, renderer;
    /// A Kooperdoc document: the id, template and version are present.
    bool kooperdoc() const { return !documentId.empty() && !templateId.empty() && !templateVersion.empty(); }
};

/// Empty fields for keys that are absent or not strings. Error{kInvalidArgument, "pdf.*"} when
/// the first revision's Info cannot be read.
StoredProvenance readProvenance(const PdfReader& reader);

}  // namespace kooperdoc::pdf
