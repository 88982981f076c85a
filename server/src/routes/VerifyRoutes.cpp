// SPDX-License-Identifier: AGPL-3.0-or-later
// POST /v1/verify: any PDF, judged like `kooperdoc verify` against the server's trust anchors
// (kooperdoc.verify.trust). A verdict is a value: a broken file is a 200 with FORMAT_FAILURE.
#include "../Api.h"
#include "../Http.h"

#include "kooperdoc/verify/ReportRendering.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::server {

void addVerifyRoutes(Router& router, const Api& api) {
    router.add("POST", "/v1/verify", roles({Role::kAuditor}), [&api](RequestContext& ctx) {
        http::requireMediaType(ctx.request, {"application/pdf"});
        const auto bytes = http::readBody(ctx.request, api.limits.maxBodyBytes);
        const auto report = verify::verifyPdf(bytes, api.verifyOptions);
        const auto ok = Poco::Net::HTTPResponse::HTTP_OK;
        if (http::accepts(ctx.request, "application/pdf")) {
            http::sendBytes(ctx.response, ok, verify::renderReportPdf(report, "upload.pdf", api.clock()), "application/pdf");
        } else if (http::accepts(ctx.request, "text/html")) {
            http::sendBytes(ctx.response, ok, verify::renderReportHtml(report, "upload.pdf"), "text/html; charset=utf-8");
        } else {
            http::sendBytes(ctx.response, ok, verify::toJson(report), "application/json; charset=utf-8");
        }
    });
}

}  // namespace kooperdoc::server
