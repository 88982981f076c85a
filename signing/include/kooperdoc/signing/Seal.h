// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The service's seal over a freshly rendered document: one function, so `kooperdoc render
// --seal`, `kooperdoc store --seal` and POST /v1/documents produce the same certified revision.

#include <cstdint>
#include <string>

#include "kooperdoc/pdf/Renderer.h"
#include "kooperdoc/signing/Pades.h"
#include "kooperdoc/signing/PdfSignatureWriter.h"
#include "kooperdoc/signing/SigningIdentity.h"

namespace kooperdoc::signing {

/// The seal's signature: an invisible field "pieczec-kooperdoc" certifying the document
/// (DocMDP P=2), so the signatories' own fields can still be signed later.
SignatureOptions sealOptions(std::int64_t signingTime);

/// Adds ready-to-sign fields over the rendered signature blocks, then seals at \p level.
/// \p signingTime is the wall clock (never SOURCE_DATE_EPOCH; signing never reads the clock).
std::string sealRendered(const pdf::RenderedPdf& rendered, const SigningIdentity& identity, PadesLevel level,
                         const PadesContext& context, std::int64_t signingTime);

}  // namespace kooperdoc::signing
