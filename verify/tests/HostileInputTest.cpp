// SPDX-License-Identifier: AGPL-3.0-or-later
// Malformed and hostile files through the whole verify path (reliability.md §7 R01–R04): each
// one is answered quickly with a report, never a crash, a hang or an exception, and a file the
// verifier cannot read is FORMAT_FAILURE with a stable reason. The reader-level cases (one limit
// at a time) are in pdf/tests/PdfReaderTest.cpp; these go through verifyPdf and its defaults.
#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>

#include "TestPaths.h"
#include "kooperdoc/verify/Verifier.h"

using namespace kooperdoc;
using namespace kooperdoc::verify;

// gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define KOOPERDOC_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KOOPERDOC_UNDER_ASAN 1
#endif
#endif
#ifndef KOOPERDOC_UNDER_ASAN
#define KOOPERDOC_UNDER_ASAN 0
#endif

namespace {

std::string corpusRoot() { return testing::sharedDir() + "/corpus/pyhanko"; }
bool haveCorpus() { return std::filesystem::exists(corpusRoot() + "/manifest.json"); }
std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

VerifyOptions corpusOptions() {
    VerifyOptions options;
    options.trustAnchorsDer = certificatesFromPemOrDer(readFile(corpusRoot() + "/certs/testing-ca-root.pem"));
    options.validationTime = parseTime("2020-11-01T00:00:00Z");
    return options;
}

/// R01 asks for an answer within 10 s; the reader's own budget (PdfLimits::maxDuration) is 10 s
/// too, so a hostile file that needs it has found a loop the reader does not bound.
constexpr auto kAnswerWithin = std::chrono::seconds(10);

/// Verifies and checks what every answer must be: quick, a report, JSON that names the reason.
VerificationReport answer(const std::string& pdf, const VerifyOptions& options = {}) {
    const auto start = std::chrono::steady_clock::now();
    VerificationReport report;
    REQUIRE_NOTHROW(report = verifyPdf(pdf, options));
    CHECK(std::chrono::steady_clock::now() - start < kAnswerWithin);
    CHECK_FALSE(report.allPassed());
    const std::string json = toJson(report);
    if (!report.readable()) CHECK(json.find("FORMAT_FAILURE") != std::string::npos);
    return report;
}

const std::set<std::string>& documentedFormatReasons() {
    static const std::set<std::string> reasons{"pdf.malformed", "pdf.limit_exceeded", "pdf.unsupported"};
    return reasons;
}

/// A one-revision file with a classic xref table; objects are numbered from 1, object 1 is the
/// catalog.
std::string classicPdf(const std::vector<std::string>& objects, const std::string& trailerExtra = "") {
    std::string out = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
    std::vector<std::size_t> offsets;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        offsets.push_back(out.size());
        out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
    }
    const std::size_t xref = out.size();
    out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (const std::size_t offset : offsets) {
        char line[32];
        std::snprintf(line, sizeof line, "%010zu 00000 n \n", offset);
        out += line;
    }
    out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R " + trailerExtra +
           " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
}

/// An incremental update that rewrites objects of the last revision (a classic-table file).
std::string appendUpdate(const std::string& pdf, const std::vector<std::pair<int, std::string>>& objects) {
    const auto startxref = pdf.rfind("startxref");
    REQUIRE(startxref != std::string::npos);
    const auto previous = std::stoll(pdf.substr(startxref + 9));
    const std::string trailer = pdf.substr(pdf.rfind("trailer"), startxref - pdf.rfind("trailer"));
    std::smatch size;
    REQUIRE(std::regex_search(trailer, size, std::regex("/Size (\\d+)")));
    std::string out = pdf;
    std::string table;
    for (const auto& [number, body] : objects) {
        char entry[32];
        std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", out.size());
        table += std::to_string(number) + " 1\n" + entry;
        out += std::to_string(number) + " 0 obj\n" + body + "\nendobj\n";
    }
    const auto xref = out.size();
    out += "xref\n" + table + "trailer\n<< /Size " + size[1].str() + " /Root 1 0 R /Prev " + std::to_string(previous) +
           " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
}

/// A zlib stream of `mebibytes` MiB of zeros in about a thousandth of that. One MiB of zeros
/// deflated and ended by a full flush (byte-aligned, dictionary reset) compresses the same way
/// every time, so the block is repeated instead of deflating the whole bomb. The checksum at
/// the end is missing: a reader must stop long before it would get there.
std::string flateBomb(std::size_t mebibytes) {
    z_stream zs{};
    REQUIRE(deflateInit(&zs, Z_BEST_COMPRESSION) == Z_OK);
    const std::string zeros(1u << 20, '\0');
    const auto deflateZeros = [&] {
        std::string out(1u << 16, '\0');
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
        zs.avail_in = static_cast<uInt>(zeros.size());
        zs.next_out = reinterpret_cast<Bytef*>(out.data());
        zs.avail_out = static_cast<uInt>(out.size());
        REQUIRE(deflate(&zs, Z_FULL_FLUSH) == Z_OK);
        REQUIRE(zs.avail_in == 0);
        out.resize(out.size() - zs.avail_out);
        return out;
    };
    std::string bomb = deflateZeros(); // with the zlib header
    const std::string block = deflateZeros();
    deflateEnd(&zs);
    for (std::size_t i = 1; i < mebibytes; ++i)
        bomb += block;
    return bomb;
}

/// Peak resident memory of this process (each ctest case runs in its own process).
std::size_t peakRssBytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::size_t>(usage.ru_maxrss) * 1024;
}

} // namespace

TEST_CASE("R01: 100,000-deep nesting is FORMAT_FAILURE pdf.limit_exceeded, never a stack overflow", "[verify][hostile]") {
    std::string dictionaries;
    for (int i = 0; i < 100'000; ++i)
        dictionaries += "<< /A ";
    for (const std::string& deep : {std::string(100'000, '['), dictionaries}) {
        SECTION("in the catalog") {
            const auto report = answer(classicPdf({"<< /Type /Catalog /Deep " + deep + " >>"}));
            CHECK(report.formatReason == "pdf.limit_exceeded");
        }
        SECTION("in the trailer") {
            const auto report = answer(classicPdf({"<< /Type /Catalog >>"}, "/Deep " + deep));
            CHECK(report.formatReason == "pdf.limit_exceeded");
        }
    }
}

TEST_CASE("R01: page-tree and field-tree /Kids loops are answered, and fail a signature", "[verify][hostile]") {
    // CVE-2021-30471 (PoDoFo): a /Kids entry pointing back to an ancestor.
    SECTION("an unsigned document") {
        for (const std::string& kids : {std::string("[2 0 R]"), std::string("[3 0 R]")}) {
            const auto report = answer(classicPdf({"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
                                                   "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                                                   "<< /Type /Pages /Kids " + kids + " /Count 1 >>",
                                                   "<< /FT /Sig /T (loop) /Kids [4 0 R] >>"}));
            // Nothing to verify: readable, no signature, not passed.
            CHECK(report.signatures.empty());
        }
    }
    if (!haveCorpus()) FAIL("pyHanko corpus not found at " + corpusRoot());
    const std::string genuine = readFile(corpusRoot() + "/pdf/certified-with-indirect-refs-in-dir.pdf");
    REQUIRE(verifyPdf(genuine, corpusOptions()).allPassed());
    // Object 2 is the page tree root, 3 the page, 6 the AcroForm, 7 the signature field.
    for (const auto& update : std::vector<std::vector<std::pair<int, std::string>>>{
             {{2, "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"}},
             {{3, "<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>"}},
             {{6, "<< /Fields [6 0 R] >>"}},
             {{11, "<< /T (loop) /Kids [11 0 R] /Parent 11 0 R >>"}, {6, "<< /Fields [7 0 R 11 0 R] >>"}},
         }) {
        const auto report = answer(appendUpdate(genuine, update), corpusOptions());
        INFO(toJson(report));
        if (!report.readable()) {
            CHECK(documentedFormatReasons().count(report.formatReason) == 1);
        } else if (update.front().first == 6 && update.size() == 1) {
            // /Fields looping to the AcroForm drops the signature field from the field tree of
            // the last revision, where signatures are listed (as pyHanko lists them): the report
            // shows none. Never a pass; whether a signature of an earlier revision that vanished
            // should be reported is the signature-listing rule's question, not this loop's.
            CHECK(report.signatures.empty());
        } else {
            REQUIRE(report.signatures.size() == 1);
            CHECK(report.signatures[0].indication == Indication::kTotalFailed);
            CHECK(report.signatures[0].subIndication == SubIndication::kFormatFailure);
        }
    }
}

TEST_CASE("R01: /Prev xref loops are FORMAT_FAILURE pdf.malformed", "[verify][hostile]") {
    const std::string base = classicPdf({"<< /Type /Catalog >>"});
    const std::size_t firstXref = base.find("xref");
    SECTION("a section whose /Prev is itself") {
        std::string pdf = base;
        pdf.insert(pdf.find("/Size"), "/Prev " + std::to_string(firstXref) + " ");
        CHECK(answer(pdf).formatReason == "pdf.malformed");
    }
    SECTION("two sections pointing at each other (qpdf append-xref-loop.pdf)") {
        std::string pdf = appendUpdate(base, {{1, "<< /Type /Catalog /Version /1.7 >>"}});
        pdf.insert(pdf.find("/Size"), "/Prev " + std::to_string(pdf.rfind("xref")) + " ");
        CHECK(answer(pdf).formatReason == "pdf.malformed");
    }
}

TEST_CASE("R02: a flate bomb stops at maxDecompressedBytes with bounded memory", "[verify][hostile]") {
    // 1 GiB of zeros in about 1 MiB (R02 has 1 MiB to 4 GiB); the default budget is 64 MiB.
    const std::string bomb = flateBomb(1024);
    REQUIRE(bomb.size() < (2u << 20));
    CHECK(pdf::PdfLimits{}.maxDecompressedBytes == 64u << 20);
    SECTION("as the xref stream, inflated while the structure loads") {
        std::string pdf = "%PDF-1.7\n";
        const std::size_t at = pdf.size();
        pdf += "1 0 obj\n<< /Type /XRef /Size 2 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length " +
               std::to_string(bomb.size()) + " >>\nstream\n" + bomb + "\nendstream\nendobj\nstartxref\n" +
               std::to_string(at) + "\n%%EOF\n";
        CHECK(answer(pdf).formatReason == "pdf.limit_exceeded");
    }
    SECTION("as the object stream that holds the catalog, inflated by the analysis") {
        std::string pdf = "%PDF-1.7\n";
        const std::size_t objectStreamAt = pdf.size();
        pdf += "2 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length " + std::to_string(bomb.size()) +
               " >>\nstream\n" + bomb + "\nendstream\nendobj\n";
        const std::size_t xrefAt = pdf.size();
        // Rows of W [1 4 2], uncompressed: 0 free, 1 in object stream 2, 2 and 3 in the file.
        std::string rows;
        const auto row = [&](int type, std::uint32_t second, std::uint16_t third) {
            rows += static_cast<char>(type);
            for (int shift = 24; shift >= 0; shift -= 8)
                rows += static_cast<char>((second >> shift) & 0xFF);
            rows += static_cast<char>(third >> 8);
            rows += static_cast<char>(third & 0xFF);
        };
        row(0, 0, 65535);
        row(2, 2, 0);
        row(1, static_cast<std::uint32_t>(objectStreamAt), 0);
        row(1, static_cast<std::uint32_t>(xrefAt), 0);
        pdf += "3 0 obj\n<< /Type /XRef /Size 4 /W [1 4 2] /Root 1 0 R /Length " + std::to_string(rows.size()) +
               " >>\nstream\n" + rows + "\nendstream\nendobj\nstartxref\n" + std::to_string(xrefAt) + "\n%%EOF\n";
        CHECK(answer(pdf).formatReason == "pdf.limit_exceeded");
    }
    // The cap holds what one reader inflates, so the process never gets near the bomb's size.
    // (Not under AddressSanitizer, whose quarantine keeps freed memory resident on purpose.)
#if !KOOPERDOC_UNDER_ASAN
    CHECK(peakRssBytes() < (400u << 20));
#endif
}

TEST_CASE("R04: empty, PNG, half a PDF and one byte over maxFileSize are FORMAT_FAILURE", "[verify][hostile]") {
    CHECK(answer("").formatReason == "pdf.malformed");
    const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89", 33);
    CHECK(answer(png).formatReason == "pdf.malformed");
    if (!haveCorpus()) FAIL("pyHanko corpus not found at " + corpusRoot());
    // Half of a one-revision file: no startxref left at all.
    const std::string minimal = readFile(corpusRoot() + "/pdf/minimal.pdf");
    CHECK(answer(minimal.substr(0, minimal.size() / 2)).formatReason == "pdf.malformed");
    // Half of a multi-revision file can be an earlier revision that still reads: then its
    // signatures must not pass, since they cover bytes that are no longer there.
    const std::string lta = readFile(corpusRoot() + "/pdf/pades-lta-dss-indirect-arrs-test.pdf");
    const auto half = answer(lta.substr(0, lta.size() / 2), corpusOptions());
    if (!half.readable()) CHECK(documentedFormatReasons().count(half.formatReason) == 1);
    const std::string signed1 = readFile(corpusRoot() + "/pdf/sig-no-signed-attrs.pdf");

    CHECK(pdf::PdfLimits{}.maxFileSize == 256u << 20);
    VerifyOptions options = corpusOptions();
    options.limits.maxFileSize = signed1.size();
    CHECK(verifyPdf(signed1, options).readable());
    options.limits.maxFileSize = signed1.size() - 1;
    CHECK(answer(signed1, options).formatReason == "pdf.limit_exceeded");
}

TEST_CASE("a spent time budget is FORMAT_FAILURE pdf.limit_exceeded, not a hang", "[verify][hostile]") {
    if (!haveCorpus()) FAIL("pyHanko corpus not found at " + corpusRoot());
    const std::string pdf = readFile(corpusRoot() + "/pdf/pades-lta-dss-indirect-arrs-test-2.pdf");
    VerifyOptions options = corpusOptions();
    CHECK(pdf::PdfLimits{}.maxDuration == std::chrono::seconds(10));
    CHECK(verifyPdf(pdf, options).readable());
    // Deterministic: a zero budget is spent at the first check, whatever the machine's speed.
    options.limits.maxDuration = std::chrono::milliseconds(0);
    const auto report = answer(pdf, options);
    CHECK(report.formatReason == "pdf.limit_exceeded");
    CHECK(report.signatures.empty());
}

TEST_CASE("R03: mutated pyHanko corpus files are answered with a report, never a crash", "[verify][hostile][corpus]") {
    if (!haveCorpus()) FAIL("pyHanko corpus not found at " + corpusRoot());
    // qpdf's own test files are not in Debian's qpdf packages (checked: dpkg -L qpdf libqpdf-dev),
    // so the corpus is pyHanko's, mutated the ways fuzzers and broken writers mutate files.
    const VerifyOptions options = corpusOptions();
    std::mt19937 random(20260401); // deterministic: a failure reproduces
    const std::vector<std::pair<std::string, std::string>> replacements{
        {"obj", "obk"},       {"endobj", "endobk"}, {"xref", "xreg"},   {"trailer", "trailex"}, {"/Prev", "/Prex"},
        {"/Length", "/Lenxth"}, {" R", " Q"},      {"/Kids", "/Kidz"}, {"<<", "[["},         {"stream\n", "strean\n"},
    };
    std::size_t files = 0;
    std::size_t unreadable = 0;
    for (const auto& entry : std::filesystem::directory_iterator(corpusRoot() + "/pdf")) {
        if (entry.path().extension() != ".pdf") continue;
        ++files;
        const std::string original = readFile(entry.path().string());
        std::vector<std::string> mutants;
        for (const auto& [from, to] : replacements) {
            // The first, the last and a random occurrence: structure near both ends.
            std::vector<std::size_t> at;
            for (std::size_t p = original.find(from); p != std::string::npos; p = original.find(from, p + 1))
                at.push_back(p);
            if (at.empty()) continue;
            for (const std::size_t p : {at.front(), at.back(), at[random() % at.size()]}) {
                std::string mutant = original;
                mutant.replace(p, from.size(), to);
                mutants.push_back(std::move(mutant));
            }
        }
        mutants.push_back(original.substr(0, original.size() / 2));
        mutants.push_back(original + original);      // a second copy appended (Illustrator-style)
        mutants.push_back(original.substr(0, original.rfind("startxref")));
        for (int i = 0; i < 8; ++i) {
            std::string mutant = original;
            for (int flips = 0; flips < 1 + i; ++flips)
                mutant[random() % mutant.size()] = static_cast<char>(random() & 0xFF);
            mutants.push_back(std::move(mutant));
        }
        for (const auto& mutant : mutants) {
            INFO(entry.path().filename().string());
            VerificationReport report;
            REQUIRE_NOTHROW(report = verifyPdf(mutant, options));
            if (!report.readable()) {
                ++unreadable;
                CHECK(documentedFormatReasons().count(report.formatReason) == 1);
                CHECK(report.signatures.empty());
            }
            CHECK_FALSE(toJson(report).empty());
        }
    }
    CHECK(files == 36);
    CHECK(unreadable > 0);
}
