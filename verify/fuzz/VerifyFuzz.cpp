// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer entry for the whole verify path an auditor's file takes: the reader, the revision
// analysis, CMS and timestamp checks, chain building, revocation, the document level, and the
// reports made of it (JSON, HTML, PDF/A), all with attacker-chosen strings in them.
//
// verifyPdf's contract is that a verdict is a value: no input makes it throw. So the only
// acceptable outcome is a report; an exception, a crash, a sanitizer report, a timeout or an
// out-of-memory is a bug.
//
// Build: cmake -DKOOPERDOC_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 -DKOOPERDOC_TESTS=OFF ...
// Run:   KOOPERDOC_FUZZ_TRUST_ANCHORS=../shared/corpus/pyhanko/certs/testing-ca-root.pem \
//          ./verify/verify_fuzz -rss_limit_mb=2048 -timeout=10 work-corpus seed-corpus
// With the trust anchors (optional) signatures of the pyHanko corpus chain and pass, so the
// fuzzer also reaches the code that runs after a chain is found. See docs/fuzzing.md.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/verify/ReportRendering.h"
#include "kooperdoc/verify/Verifier.h"

namespace {

using namespace kooperdoc;

verify::VerifyOptions makeOptions() {
    verify::VerifyOptions options;
    // A fixed validation time: the same input must give the same path on every run.
    options.validationTime = verify::parseTime("2020-11-01T00:00:00Z");
    if (const char* anchors = std::getenv("KOOPERDOC_FUZZ_TRUST_ANCHORS")) {
        std::ifstream in(anchors, std::ios::binary);
        const std::string pem{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        options.trustAnchorsDer = verify::certificatesFromPemOrDer(pem);
    }
    // Below libFuzzer's -rss_limit_mb and -timeout, so that hitting a limit is a verdict and
    // only a loop or an allocation the limits do not reach shows up as a failure.
    options.limits.maxDecompressedBytes = 16u << 20;
    options.limits.maxParsedValues = 200'000;
    options.limits.maxDuration = std::chrono::seconds(2);
    return options;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const verify::VerifyOptions options = makeOptions();
    const std::string_view pdf(reinterpret_cast<const char*>(data), size);
    try {
        const verify::VerificationReport report = verify::verifyPdf(pdf, options);
        (void)verify::toJson(report);
        (void)verify::renderReportHtml(report, "fuzz.pdf");
        // The PDF report lays out whatever the file named its fields; only worth its cost when
        // the file yielded something of its own to show.
        if (!report.signatures.empty() || !report.emptySignatureFields.empty() || report.document.kooperdoc)
            (void)verify::renderReportPdf(report, "fuzz.pdf", 1'600'000'000);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "verifyPdf or a report threw: %s\n", e.what());
        std::abort();
    }
    return 0;
}
