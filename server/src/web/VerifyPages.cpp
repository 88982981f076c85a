// SPDX-License-Identifier: AGPL-3.0-or-later
// The auditor uploads any PDF — ours or not — and reads the verification report on the page,
// judged exactly like POST /v1/verify against the service's trust anchors. A verdict is a value:
// a broken file is a report that says so, not an error page.
#include "PageRoutes.h"
#include "Pages.h"

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/verify/ReportRendering.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::server::web {
namespace {

void verifyForm(RequestContext& ctx) { sendHtml(ctx, renderPage(ctx, "verify", "Weryfikacja podpisów", {})); }

void verifyUpload(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, api.limits.maxBodyBytes);
    if (!form.hasFile("plik")) throw Error(ErrorCode::kInvalidArgument, "upload.file_missing", "choose a PDF file");
    const auto& file = form.files.at("plik");
    const auto report = verify::verifyPdf(file.bytes, api.verifyOptions);
    mustache::data data;
    data.set("fileName", file.fileName);
    data.set("sha256", sha256Hex(file.bytes));
    data.set("report", verify::renderReportHtmlFragment(report, file.fileName));
    sendHtml(ctx, renderPage(ctx, "verify", "Raport weryfikacji", data));
}

}  // namespace

void addVerifyPages(Router& router, const Api& api) {
    router.add("GET", "/weryfikacja", roles({Role::kAuditor}), [](RequestContext& ctx) { verifyForm(ctx); });
    router.add("POST", "/weryfikacja", roles({Role::kAuditor}), [&api](RequestContext& ctx) { verifyUpload(api, ctx); });
}

}  // namespace kooperdoc::server::web
