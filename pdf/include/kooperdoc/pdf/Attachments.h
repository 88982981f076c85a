// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The files embedded in a PDF, read with our own PdfReader (an auditor's file is untrusted
// input: never PoDoFo). Used for the audit trail a "Karta audytu" PDF carries (docs/audit.md).

#include <string>
#include <vector>

#include "kooperdoc/pdf/PdfReader.h"

namespace kooperdoc::pdf {

struct EmbeddedFile {
    std::string name;          ///< the name tree's key
    std::string relationship;  ///< /AFRelationship of the file specification ("" when absent)
    bool associated = false;   ///< listed in the catalog's /AF (PDF/A-3 associated file)
    std::string bytes;         ///< decoded
};

/// The catalog's /Names /EmbeddedFiles tree as of the last revision, in tree order. Bounded like
/// every read (depth, count, decompressed size); Error{kInvalidArgument, "pdf.*"} on malformed
/// input the reader refuses.
std::vector<EmbeddedFile> readEmbeddedFiles(const PdfReader& reader);

}  // namespace kooperdoc::pdf
