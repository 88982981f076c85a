// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer entry for the untrusted-PDF path: structure, every object of every revision, and
// the signature/revision analysis. Build: cmake -DKOOPERDOC_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
// then ./pdf_reader_fuzz corpus-dir (seed it with ../shared/corpus/pyhanko/pdf).
// The only acceptable way out is a kooperdoc::Error with a "pdf." reason; anything else
// (a crash, a sanitizer report, another exception, a timeout, an out-of-memory) is a bug.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/PdfReader.h"
#include "kooperdoc/pdf/RevisionAnalysis.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kooperdoc;
    pdf::PdfLimits limits;
    limits.maxDecompressedBytes = 16u << 20; // keep libFuzzer's RSS limit out of reach
    limits.maxParsedValues = 200'000;
    // Below libFuzzer's -timeout: a spent budget is a verdict; only a loop the deadline checks
    // do not reach runs into libFuzzer's timeout and is reported.
    limits.maxDuration = std::chrono::seconds(2);
    try {
        const pdf::PdfReader reader(std::string(reinterpret_cast<const char*>(data), size), limits);
        for (std::size_t r = 0; r < reader.revisionCount(); ++r)
            for (const auto& e : reader.revisions()[r].entries) {
                if (e.kind == pdf::XrefEntry::Kind::kFree) continue;
                try {
                    reader.resolve({e.number, e.kind == pdf::XrefEntry::Kind::kInFile ? e.generation : 0}, r);
                } catch (const Error& err) {
                    if (err.reason().rfind("pdf.", 0) != 0) std::abort();
                }
            }
        (void)pdf::analyzeDocument(reader);
    } catch (const Error& err) {
        if (err.reason().rfind("pdf.", 0) != 0) std::abort();
    }
    return 0;
}
