// SPDX-License-Identifier: AGPL-3.0-or-later
// PDF/A and provenance, checked with PDFBox Preflight, poppler and zbar rather than our own code.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "CliSupport.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/templates/Catalog.h"
#include "kooperdoc/templates/Engine.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;

TEST_CASE("every template's sample passes PDFBox Preflight (PDF/A-1b rendering)", "[pdfa]") {
    // Debian ships no PDF/A-2/3 validator: the same document rendered as PDF/A-1b (PDF 1.4, no
    // attachments) goes through Preflight; the 3b rendering differs only in its header and
    // pdfaid:part, which the next test checks.
    const auto dir = scratchDir("preflight");
    std::string files;
    for (const auto* tmpl : templates::Catalog::builtIn().list()) {
        const auto& id = tmpl->metadata().id;
        const auto pdf = dir + "/" + id + ".pdf";
        REQUIRE(renderCli(id, sourceDir() + "/templates/catalog/" + id + "/samples/sample.json", pdf, "--pdfa 1b")
                    .exitCode == 0);
        files += " " + quote(pdf);
    }
    const auto result = runCommand(std::string(KOOPERDOC_PREFLIGHT) + files + " 2>&1");
    INFO(result.output);
    CHECK(result.exitCode == 0);
    CHECK(result.output.find("INVALID") == std::string::npos);
    const std::regex validLine("(^|\\n)VALID ");
    const auto valid = std::distance(std::sregex_iterator(result.output.begin(), result.output.end(), validLine),
                                     std::sregex_iterator());
    CHECK(valid == static_cast<long>(templates::Catalog::builtIn().list().size()));
    std::filesystem::remove_all(dir);
}

TEST_CASE("the PDF/A-3b rendering carries matching Info and XMP metadata with the provenance", "[pdfa][provenance]") {
    const auto* tmpl = templates::Catalog::builtIn().list().front();
    const auto& id = tmpl->metadata().id;
    const auto dir = scratchDir("provenance");
    const auto input = sourceDir() + "/templates/catalog/" + id + "/samples/sample.json";
    const auto pdf = dir + "/doc.pdf";
    REQUIRE(renderCli(id, input, pdf, "--document-id KD-TEST-0001").exitCode == 0);
    const auto bytes = readFile(pdf);
    CHECK(bytes.rfind("%PDF-1.7\n", 0) == 0);

    const auto info = runCommand("pdfinfo " + quote(pdf)).output;
    CHECK(info.find("Encrypted:       no") != std::string::npos);
    CHECK(info.find("Page size:       595.276 x 841.89 pts (A4)") != std::string::npos);
    CHECK(info.find("Producer:        Kooperdoc") != std::string::npos);
    CHECK(info.find("CreationDate:    Thu Jan 15 10:00:00 2026 UTC") != std::string::npos);

    const auto xmp = runCommand("pdfinfo -meta " + quote(pdf)).output;
    const auto inputSha = sha256Hex(canonicalJson(parseJson(readFile(input))));
    CHECK(xmp.find("<pdfaid:part>3</pdfaid:part>") != std::string::npos);
    CHECK(xmp.find("<pdfaid:conformance>B</pdfaid:conformance>") != std::string::npos);
    CHECK(xmp.find("<xmp:CreateDate>2026-01-15T10:00:00+00:00</xmp:CreateDate>") != std::string::npos);
    CHECK(xmp.find("<kd:TemplateId>" + id + "</kd:TemplateId>") != std::string::npos);
    CHECK(xmp.find("<kd:TemplateVersion>" + tmpl->metadata().version + "</kd:TemplateVersion>") != std::string::npos);
    CHECK(xmp.find("<kd:TemplateSha256>" + tmpl->sha256() + "</kd:TemplateSha256>") != std::string::npos);
    CHECK(xmp.find("<kd:InputSha256>" + inputSha + "</kd:InputSha256>") != std::string::npos);
    CHECK(xmp.find("<kd:DocumentId>KD-TEST-0001</kd:DocumentId>") != std::string::npos);
    CHECK(xmp.find("<kd:RendererVersion>Kooperdoc") != std::string::npos);
    CHECK(bytes.find("/OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1") != std::string::npos);
    CHECK(bytes.find("/Encrypt") == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("the footer's QR code decodes to the document id and the input's SHA-256", "[qr]") {
    const auto* tmpl = templates::Catalog::builtIn().list().back();
    const auto& id = tmpl->metadata().id;
    const auto dir = scratchDir("qr");
    const auto input = sourceDir() + "/templates/catalog/" + id + "/samples/sample.json";
    REQUIRE(renderCli(id, input, dir + "/doc.pdf", "--document-id KD-QR00-TEST-0002-ABCD").exitCode == 0);
    REQUIRE(runCommand("pdftoppm -r 200 -f 1 -l 1 -png " + quote(dir + "/doc.pdf") + " " + quote(dir + "/page")).exitCode == 0);
    std::string png;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".png") png = entry.path().string();
    }
    REQUIRE_FALSE(png.empty());
    const auto decoded = runCommand("zbarimg --quiet --raw " + quote(png));
    std::string expected = "KOOPERDOC:KD-QR00-TEST-0002-ABCD:";
    for (char c : sha256Hex(canonicalJson(parseJson(readFile(input))))) expected += static_cast<char>(std::toupper(c));
    CHECK(decoded.output == expected + "\n");
    const auto text = foldWhitespace(pdfText(dir + "/doc.pdf"));
    CHECK(text.find("Strona 1 z ") != std::string::npos);
    CHECK(text.find("KD-QR00-TEST-0002-ABCD") != std::string::npos);
    std::filesystem::remove_all(dir);
}
