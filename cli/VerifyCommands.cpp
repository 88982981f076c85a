// SPDX-License-Identifier: AGPL-3.0-or-later
#include "VerifyCommands.h"

#include "Commands.h"

#include <ctime>
#include <filesystem>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/trust/TrustedList.h"
#include "kooperdoc/verify/ReportRendering.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::cli {
namespace {

constexpr const char* kUsage =
    "kooperdoc verify FILE.pdf [--json] [--html OUT.html] [--pdf OUT.pdf] [--trust CA.pem]... [--at TIME]\n"
    "                 [--require-revocation] [--crl FILE]... [--ocsp FILE]... [--trusted-list TL.xml]... [--list-signer SIGNER.pem]...";

int verifyCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--trust", "--at", "--crl", "--ocsp", "--trusted-list", "--list-signer", "--html", "--pdf"}, {"--json", "--require-revocation"});
    a.expectPositionals(1, kUsage);
    const auto options = verifyOptionsOf(a);
    const std::string& path = a.positionals()[0];
    const auto report = verify::verifyPdf(readInput(path), options);
    const std::string fileName = std::filesystem::path(path).filename().string();
    if (const auto html = a.value("--html")) writeFileAtomically(*html, verify::renderReportHtml(report, fileName));
    if (const auto pdf = a.value("--pdf")) writeFileAtomically(*pdf, verify::renderReportPdf(report, fileName, creationTime()));
    printReport(ctx, report, a.flag("--json"));
    return report.allPassed() ? kExitOk : kExitFailed;
}

}  // namespace

verify::VerifyOptions verifyOptionsOf(const Arguments& a) {
    verify::VerifyOptions options;
    options.requireRevocation = a.flag("--require-revocation");
    if (const auto at = a.value("--at")) {
        options.validationTime = verify::parseTime(*at);
        if (!options.validationTime) throw UsageError("--at needs ISO 8601 UTC (2020-11-01T00:00:00Z) or epoch seconds");
    }
    // Unreadable trust material is a usage error: verifying against the wrong anchors silently
    // would give a wrong answer.
    try {
        for (const auto& path : a.values("--trust")) {
            for (auto& der : verify::certificatesFromPemOrDer(readInput(path))) options.trustAnchorsDer.push_back(std::move(der));
        }
        for (const auto& path : a.values("--crl")) {
            for (auto& der : verify::crlsFromPemOrDer(readInput(path))) options.extraCrlsDer.push_back(std::move(der));
        }
        for (const auto& path : a.values("--ocsp")) options.extraOcspResponsesDer.push_back(verify::ocspResponseFromDer(readInput(path)));
        // Every list is checked against every --list-signer, at the current time: a list that is
        // expired, unsigned or signed by someone else is refused, never used half-way.
        std::vector<std::string> listSigners;
        for (const auto& path : a.values("--list-signer")) {
            for (auto& der : verify::certificatesFromPemOrDer(readInput(path))) listSigners.push_back(std::move(der));
        }
        const auto lists = a.values("--trusted-list");
        if (!lists.empty() && listSigners.empty()) throw UsageError("--trusted-list needs --list-signer");
        const auto importedAt = static_cast<std::int64_t>(std::time(nullptr));
        for (const auto& path : lists) {
            options.trustedLists.push_back(trust::importTrustedList(readInput(path), listSigners, importedAt));
        }
    } catch (const Error& e) {
        throw UsageError(std::string(e.what()) + " [" + e.reason() + "]");
    }
    return options;
}

void printReport(Context& ctx, const verify::VerificationReport& report, bool json) {
    if (json) {
        ctx.out << verify::toJson(report);
    } else if (!report.readable()) {
        ctx.out << "FORMAT_FAILURE: " << report.formatDetail << " [" << report.formatReason << "]\n";
    } else {
        ctx.out << report.document.messageEn << "\n" << report.document.messagePl << "\n";
        if (report.signatures.empty()) ctx.out << "no signatures\n";
        for (const auto& s : report.signatures) {
            ctx.out << s.fieldName << " (" << (s.documentTimestamp ? "document timestamp" : "signature") << ", "
                    << s.subFilter << "): " << verify::toString(s.indication);
            if (s.subIndication != verify::SubIndication::kNone) ctx.out << " / " << verify::toString(s.subIndication);
            if (!s.padesLevel.empty()) ctx.out << ", PAdES " << s.padesLevel;
            if (s.passed()) ctx.out << ", " << verify::toString(s.qualification);
            ctx.out << "\n  " << s.messageEn << "\n  " << s.messagePl << "\n";
            if (s.signer) ctx.out << "  signer: " << s.signer->subject << " (serial " << s.signer->serialHex << ")\n";
            for (const auto& w : s.warnings) ctx.out << "  warning: " << w << "\n";
        }
    }
}

void addVerifyCommands(CommandTable& table) {
    table["verify"] = {"verify every signature of a PDF (ETSI EN 319 102-1 indications)",
                       std::string("usage: ") + kUsage +
                           "\n\n"
                           "Reports, per signature and document timestamp, integrity, cryptographic validity, the\n"
                           "chain to the --trust anchors (PEM or DER; nothing embedded is trusted), revocation from\n"
                           "the DSS (CRLs and OCSP responses), --crl and --ocsp (DER OCSPResponse) files, coverage and\n"
                           "later changes, the PAdES level, and an indication\n"
                           "TOTAL-PASSED / TOTAL-FAILED / INDETERMINATE. --at validates at another moment (ISO 8601\n"
                           "UTC or epoch seconds); --require-revocation turns missing revocation data from a warning\n"
                           "into INDETERMINATE / TRY_LATER. Exit 0 when there is at least one signature and every one\n"
                           "is TOTAL-PASSED, 1 otherwise (an unreadable file included), 2 on usage errors.\n"
                           "--trusted-list imports an EU trusted list (ETSI TS 119 612) whose XML signature must verify\n"
                           "with one of the --list-signer certificates (they apply to every list); its qualified CA\n"
                           "services become anchors and each signature states its qualification (qualified_esignature,\n"
                           "qualified_eseal, advanced). An invalid list is a usage error (exit 2, trustlist.* reason).\n"
                           "--html and --pdf also write the report for people, in Polish (HTML page, PDF/A-3b; the\n"
                           "PDF's creation time follows SOURCE_DATE_EPOCH when set).\n"
                           "JSON schema: docs/verification-report.md.\n",
                       verifyCommand};
}

}  // namespace kooperdoc::cli
