// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kooperdoc/core/DocumentModel.h"

namespace kooperdoc::pdf {

extern const char* const kRendererVersion;

enum class PdfaConformance : std::uint8_t {
    kPdfA3b = 0,  ///< the default: PDF 1.7, so later revisions may attach the audit trail
    kPdfA1b = 1,  ///< PDF 1.4, for checking the same document with PDFBox Preflight (A-1b only)
};

/// A file embedded as a PDF/A-3 associated file (ISO 19005-3, 6.8): reachable from the
/// catalog's /Names /EmbeddedFiles and /AF, with its /AFRelationship and MIME /Subtype.
struct Attachment {
    std::string name;          ///< ASCII file name, e.g. "kooperdoc-audit.json"
    std::string mimeType;      ///< e.g. "application/json"
    std::string description;   ///< UTF-8, shown by viewers
    std::string relationship = "Supplement";
    std::string bytes;         ///< stored unfiltered, so the file is the bytes, byte for byte
};

struct RenderSettings {
    PdfaConformance conformance = PdfaConformance::kPdfA3b;
    /// PDF/A-3b only (PDF/A-1 forbids embedded files): Error{kInvalidArgument,
    /// "pdf.attachment_not_allowed"} otherwise.
    std::vector<Attachment> attachments;
};

/// Where a signature block was drawn, in PDF user space (points, origin bottom-left), so the
/// signing module can put a signature field over it.
struct SignaturePlacement {
    std::string field;
    std::string role;
    std::string caption;
    std::string name;
    int page = 0;  ///< 0-based
    double x = 0, y = 0, width = 0, height = 0;
};

struct RenderedPdf {
    std::string bytes;
    int pageCount = 0;
    std::vector<SignaturePlacement> signatures;
};

/// Renders the document as an A4 PDF/A with embedded DejaVu Sans, a footer on every page
/// ("Strona X z Y", the document number, a QR code with the document id and input hash), and
/// the provenance (template id, version, hash, renderer version, input hash) in the document
/// information and XMP metadata. Deterministic: the same document gives the same bytes.
/// Throws Error{kInternal, "pdf.*"} only on internal faults (a missing font file).
RenderedPdf renderPdf(const doc::Document& document, const RenderSettings& settings = {});

}  // namespace kooperdoc::pdf
