// SPDX-License-Identifier: AGPL-3.0-or-later
// The Polish human-readable verification report (issue 4, point 7): HTML and PDF/A, checked with
// qpdf and pdftotext, on verdicts from pyHanko's corpus and on a hostile hand-made report.
#include <catch2/catch.hpp>

#include <filesystem>

#include "Process.h"
#include "TestPaths.h"
#include "kooperdoc/verify/ReportRendering.h"

using namespace kooperdoc;
using namespace kooperdoc::verify;
using namespace kooperdoc::testing;

namespace {

std::string corpusRoot() {
    return sharedDir() + "/corpus/pyhanko";
}

/// Both files' verdicts are pinned by ../shared/corpus/pyhanko/manifest.json: the first passes,
/// the second is an incremental update that replaces a signed appearance (pyHanko: not docmdp_ok).
VerificationReport verifyCorpusFile(const std::string& file) {
    VerifyOptions options;
    options.trustAnchorsDer = certificatesFromPemOrDer(readFile(corpusRoot() + "/certs/testing-ca-root.pem"));
    options.validationTime = parseTime("2020-11-01T00:00:00Z");
    return verifyPdf(readFile(corpusRoot() + "/" + file), options);
}

VerificationReport hostileReport() {
    VerificationReport report;
    report.fileSize = 1234;
    report.fileSha256Hex = std::string(64, 'a');
    report.revisionCount = 2;
    report.validationTime = 1604188800;
    report.warnings.push_back("pdf.note: <b>&</b>");
    SignatureReport s;
    s.fieldName = "Sig<script>alert(1)</script>&Co";
    s.subFilter = "ETSI.CAdES.detached";
    CertificateSummary signer;
    signer.subject = "CN=Zażółć <script>x</script> & \"Gęślą\" 'jaźń'";
    signer.issuer = "CN=Evil CA <img src=http://example.com/x.png>";
    signer.serialHex = "01AB";
    signer.notBefore = 1577836800;
    signer.notAfter = 1735689600;
    s.signer = signer;
    s.indication = Indication::kTotalFailed;
    s.subIndication = SubIndication::kHashFailure;
    s.reason = "verify.hash_failure";
    s.messagePl = "Skrót nie zgadza się.";
    s.warnings.push_back("verify.no_revocation_data: <no CRL>");
    report.signatures.push_back(s);
    return report;
}

std::string tempPath(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "kooperdoc-report-test";
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

/// Every `<` in the page opens one of the tags we write; nothing loads anything.
void checkSelfContained(const std::string& html) {
    CHECK(html.rfind("<!DOCTYPE html>\n<html lang=\"pl\">", 0) == 0);
    CHECK(contains(html, "<meta charset=\"utf-8\">"));
    for (const char* forbidden : {"<script", "<img", "<link", "<iframe", "<object", "<embed", "src=\"", "href=", "url(",
                                  "@import", "onload="}) {
        INFO(forbidden);
        CHECK_FALSE(contains(html, forbidden));
    }
}

/// A page about an ordinary file names no web address at all.
void checkNoAddresses(const std::string& html) {
    CHECK_FALSE(contains(html, "http://"));
    CHECK_FALSE(contains(html, "https://"));
}

} // namespace

TEST_CASE("the report has a Polish label for every verifier code", "[report]") {
    for (auto i : {Indication::kTotalPassed, Indication::kTotalFailed, Indication::kIndeterminate}) {
        CHECK(polishLabel(toString(i)) != toString(i));
    }
    for (int i = 1; i <= static_cast<int>(SubIndication::kCryptoConstraintsFailureNoPoe); ++i) {
        const char* code = toString(static_cast<SubIndication>(i));
        INFO(code);
        CHECK(polishLabel(code) != code);
    }
    for (auto r : {RevocationStatus::kNotChecked, RevocationStatus::kGood, RevocationStatus::kRevoked,
                   RevocationStatus::kUnknown}) {
        CHECK(polishLabel(toString(r)) != toString(r));
    }
    for (int i = 0; i <= static_cast<int>(pdf::Coverage::kEntireFile); ++i) {
        const char* code = pdf::toString(static_cast<pdf::Coverage>(i));
        CHECK(polishLabel(code) != code);
    }
    for (int i = 0; i <= static_cast<int>(pdf::ModificationLevel::kOther); ++i) {
        const char* code = pdf::toString(static_cast<pdf::ModificationLevel>(i));
        CHECK(polishLabel(code) != code);
    }
    for (int i = 0; i <= static_cast<int>(Qualification::kQualifiedTimestamp); ++i) {
        const char* code = toString(static_cast<Qualification>(i));
        INFO(code);
        CHECK(polishLabel(code) != code);
    }
    CHECK(polishLabel("something.new") == "something.new");
}

TEST_CASE("the HTML report escapes every value from the file", "[report]") {
    const auto html = renderReportHtml(hostileReport(), "umowa <script>.pdf");
    checkSelfContained(html);
    CHECK(contains(html, "Sig&lt;script&gt;alert(1)&lt;/script&gt;&amp;Co"));
    CHECK(contains(html, "CN=Zażółć &lt;script&gt;x&lt;/script&gt; &amp; &quot;Gęślą&quot; &#39;jaźń&#39;"));
    CHECK(contains(html, "&lt;img src=http://example.com/x.png&gt;"));
    CHECK(contains(html, "umowa &lt;script&gt;.pdf"));
    CHECK(contains(html, "pdf.note: &lt;b&gt;&amp;&lt;/b&gt;"));
    CHECK(contains(html, "Co najmniej jeden podpis jest nieprawidłowy"));
    CHECK(contains(html, "HASH_FAILURE"));
    CHECK(contains(html, "class=\"verdict failed\""));
}

TEST_CASE("the HTML and PDF reports of corpus files carry the Polish verdicts", "[report]") {
    if (!std::filesystem::exists(corpusRoot() + "/manifest.json")) FAIL("pyHanko corpus not found at " + corpusRoot());
    const auto valid = verifyCorpusFile("pdf/pades-lta-dss-indirect-arrs-test.pdf");
    REQUIRE(valid.allPassed());
    const auto invalid = verifyCorpusFile("pdf/form-update-override-appearance-stream-sneaky.pdf");
    REQUIRE(invalid.readable());
    REQUIRE_FALSE(invalid.allPassed());

    const auto validHtml = renderReportHtml(valid, "pades-lta.pdf");
    checkSelfContained(validHtml);
    checkNoAddresses(validHtml);
    CHECK(contains(validHtml, "Wszystkie podpisy są prawidłowe"));
    CHECK(contains(validHtml, "pole „Sig1”"));
    CHECK(contains(validHtml, "PAdES B-LTA")); // its DSS holds OCSP responses only: B-LT by OCSP alone
    CHECK(contains(validHtml, "Znacznik czasu dokumentu 2"));
    CHECK(contains(validHtml, valid.fileSha256Hex));
    CHECK(contains(validHtml, "class=\"verdict passed\""));
    CHECK(contains(validHtml, "Kwalifikacja (eIDAS)"));
    CHECK(contains(validHtml, "to nie jest dokument wystawiony przez Kooperdoc"));

    const auto invalidHtml = renderReportHtml(invalid, "sneaky.pdf");
    checkSelfContained(invalidHtml);
    checkNoAddresses(invalidHtml);
    CHECK(contains(invalidHtml, polishVerdict(invalid)));
    CHECK(polishVerdict(invalid) != "Wszystkie podpisy są prawidłowe");
    CHECK(contains(invalidHtml, "zmiany niedozwolone"));

    constexpr std::int64_t created = 1700000000;
    const auto pdfBytes = renderReportPdf(valid, "pades-lta.pdf", created);
    CHECK(pdfBytes == renderReportPdf(valid, "pades-lta.pdf", created)); // deterministic
    const auto pdfFile = tempPath("valid-report.pdf");
    writeFile(pdfFile, pdfBytes);
    const auto check = runCommand("qpdf --check " + quote(pdfFile) + " 2>&1");
    INFO(check.output);
    CHECK(check.exitCode == 0);
    CHECK(contains(check.output, "No syntax or stream encoding errors"));
    const auto text = foldWhitespace(runCommand("pdftotext " + quote(pdfFile) + " -").output);
    INFO(text);
    CHECK(contains(text, "Raport weryfikacji podpisów"));
    CHECK(contains(text, "Wszystkie podpisy są prawidłowe"));
    CHECK(contains(text, "Podpis 1: pole „Sig1”"));
    CHECK(contains(text, "Łańcuch zaufania"));
    // The footer ties the report to the verified file.
    CHECK(contains(runCommand("pdfinfo -meta " + quote(pdfFile)).output, valid.fileSha256Hex));

    const auto invalidFile = tempPath("invalid-report.pdf");
    writeFile(invalidFile, renderReportPdf(invalid, "sneaky.pdf", created));
    CHECK(runCommand("qpdf --check " + quote(invalidFile) + " >/dev/null 2>&1").exitCode == 0);
    const auto invalidText = foldWhitespace(runCommand("pdftotext " + quote(invalidFile) + " -").output);
    CHECK(contains(invalidText, polishVerdict(invalid)));
    CHECK(contains(invalidText, "nieprawidłowy (TOTAL-FAILED / FORMAT_FAILURE)"));
}

TEST_CASE("an unreadable file and a hostile report render as PDF too", "[report]") {
    const auto unreadable = verifyPdf("garbage", {});
    REQUIRE_FALSE(unreadable.readable());
    const auto html = renderReportHtml(unreadable, "garbage.pdf");
    CHECK(contains(html, "Pliku nie można odczytać"));
    CHECK(contains(html, unreadable.formatReason));

    const auto file = tempPath("hostile-report.pdf");
    writeFile(file, renderReportPdf(hostileReport(), "umowa <script>.pdf", 0));
    CHECK(runCommand("qpdf --check " + quote(file) + " >/dev/null 2>&1").exitCode == 0);
    const auto text = foldWhitespace(runCommand("pdftotext " + quote(file) + " -").output);
    CHECK(contains(text, "Zażółć <script>x</script>"));
}
