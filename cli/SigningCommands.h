// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <string>

#include "kooperdoc/pdf/Renderer.h"

namespace kooperdoc::cli {

/// Where the development identity lives unless --identity says otherwise.
inline const char* const kDefaultIdentityDir = ".kooperdoc/identity";

/// Adds the ready-to-sign fields over the rendered signature blocks, then seals the document
/// with the identity in `identityDir` (creating a development identity there on first use):
/// a DocMDP certification (P=2), PAdES B-B.
std::string sealRendered(const pdf::RenderedPdf& rendered, const std::string& identityDir, std::int64_t now,
                         std::ostream& notices);

/// Seals an existing PDF (no new fields).
std::string sealPdf(const std::string& pdf, const std::string& identityDir, std::int64_t now, std::ostream& notices);

}  // namespace kooperdoc::cli
