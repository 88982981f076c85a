// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The verification report for people, in Polish (issue 4, point 7): an HTML page and a PDF/A
// drawn by our own renderer. Both come from one doc::Document (buildReportDocument), so they hold
// the same text; the JSON (toJson, docs/verification-report.md) stays the machine-readable form.

#include <cstdint>
#include <string>
#include <string_view>

#include "kooperdoc/core/DocumentModel.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::verify {

/// Version of the report's layout and wording; the PDF's provenance carries it as templateVersion.
extern const char* const kReportFormatVersion;
/// The PDF's provenance templateId.
extern const char* const kReportTemplateId;

/// The Polish label of a stable English code: an indication ("TOTAL-PASSED"), a sub-indication
/// ("HASH_FAILURE"), a revocation status ("not_checked"), a coverage ("ENTIRE_FILE") or a
/// modification level ("FORM_FILLING"). Unknown codes come back unchanged.
std::string polishLabel(std::string_view code);

/// The one-line overall verdict in Polish, e.g. "Wszystkie podpisy są prawidłowe".
std::string polishVerdict(const VerificationReport& report);

/// The report as a document: title, summary, one table per signature, document-level findings.
/// Provenance: templateId "raport-weryfikacji", templateVersion kReportFormatVersion, inputSha256
/// the verified file's SHA-256, so the footer's QR code ties the report to that file.
doc::Document buildReportDocument(const VerificationReport& report, std::string_view fileName,
                                  std::int64_t createdEpochSeconds);

/// A self-contained HTML5 page (lang="pl", UTF-8, inline CSS, no scripts, no external resources);
/// every value from the file is HTML-escaped. Deterministic.
std::string renderReportHtml(const VerificationReport& report, std::string_view fileName);

/// The same report as a section for a page of the web UI (no document, head or style of its own).
std::string renderReportHtmlFragment(const VerificationReport& report, std::string_view fileName);

/// The same content as PDF/A-3b (pdf::renderPdf). Deterministic for a fixed createdEpochSeconds.
std::string renderReportPdf(const VerificationReport& report, std::string_view fileName,
                            std::int64_t createdEpochSeconds);

} // namespace kooperdoc::verify
