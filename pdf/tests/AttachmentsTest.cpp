// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "ErrorReason.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/Attachments.h"
#include "kooperdoc/pdf/Provenance.h"
#include "kooperdoc/pdf/Renderer.h"

using namespace kooperdoc;

namespace {

doc::Document smallDocument() {
    doc::Document d;
    d.provenance.documentId = "KD-TEST-0001";
    d.provenance.documentNumber = "OPS.1.2026";
    d.provenance.title = "Próba";
    d.provenance.templateId = "m1-test";
    d.provenance.templateVersion = "3";
    d.provenance.templateSha256 = std::string(64, 'a');
    d.provenance.inputSha256 = std::string(64, 'b');
    d.provenance.createdEpochSeconds = 1767225600;
    doc::Block b;
    b.kind = doc::Block::Kind::kParagraph;
    b.spans.push_back({"Treść zażółć gęślą jaźń", false, false});
    d.blocks.push_back(b);
    return d;
}

pdf::Attachment attachment(const std::string& name, const std::string& mime, const std::string& relationship, std::string bytes) {
    pdf::Attachment a;
    a.name = name;
    a.mimeType = mime;
    a.description = "Załącznik " + name;
    a.relationship = relationship;
    a.bytes = std::move(bytes);
    return a;
}

/// An incremental update that replaces object \p number (an attacker's later revision).
std::string appendObject(const std::string& pdf, int number, const std::string& body) {
    const auto startxref = pdf.rfind("startxref");
    const auto previous = std::stoll(pdf.substr(startxref + 9));
    const auto trailer = pdf.rfind("trailer");
    const auto root = pdf.find("/Root", trailer);
    const std::string rootRef = pdf.substr(root + 6, pdf.find('R', root + 6) - root - 5);
    std::string out = pdf + "\n";
    const auto offset = out.size();
    out += std::to_string(number) + " 0 obj\n" + body + "\nendobj\n";
    const auto xref = out.size();
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
    out += "xref\n" + std::to_string(number) + " 1\n" + entry + "trailer\n<< /Size 200 /Root " + rootRef + " /Info " +
           std::to_string(number) + " 0 R /Prev " + std::to_string(previous) + " >>\nstartxref\n" + std::to_string(xref) +
           "\n%%EOF\n";
    return out;
}

}  // namespace

TEST_CASE("embedded files come back byte for byte with their relationship", "[pdf][attachments]") {
    pdf::RenderSettings settings;
    std::string binary;
    for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
    settings.attachments.push_back(attachment("kooperdoc-audit.json", "application/json", "Supplement", "{\"format\":\"x\"}\n"));
    settings.attachments.push_back(attachment("KD-TEST-0001.pdf", "application/pdf", "Source", "%PDF-1.7\n" + binary + "endstream)>>"));
    const auto rendered = pdf::renderPdf(smallDocument(), settings);
    const auto files = pdf::readEmbeddedFiles(pdf::PdfReader(rendered.bytes));
    REQUIRE(files.size() == 2);
    // The name tree is sorted by key (bytewise: upper case first).
    CHECK(files[0].name == "KD-TEST-0001.pdf");
    CHECK(files[0].relationship == "Source");
    CHECK(files[0].bytes == settings.attachments[1].bytes);
    CHECK(files[0].associated);
    CHECK(files[1].name == "kooperdoc-audit.json");
    CHECK(files[1].relationship == "Supplement");
    CHECK(files[1].bytes == settings.attachments[0].bytes);
    CHECK(files[1].associated);
}

TEST_CASE("a document without attachments has no embedded files", "[pdf][attachments]") {
    CHECK(pdf::readEmbeddedFiles(pdf::PdfReader(pdf::renderPdf(smallDocument()).bytes)).empty());
}

TEST_CASE("PDF/A-1 refuses attachments", "[pdf][attachments]") {
    pdf::RenderSettings settings;
    settings.conformance = pdf::PdfaConformance::kPdfA1b;
    settings.attachments.push_back(attachment("a.json", "application/json", "Supplement", "{}"));
    try {
        pdf::renderPdf(smallDocument(), settings);
        FAIL("PDF/A-1 must refuse an embedded file");
    } catch (const Error& e) {
        CHECK(e.reason() == "pdf.attachment_not_allowed");
    }
}

TEST_CASE("the provenance is read from the first revision, whatever a later Info says", "[pdf][provenance]") {
    const auto bytes = pdf::renderPdf(smallDocument()).bytes;
    const auto original = pdf::readProvenance(pdf::PdfReader(bytes));
    CHECK(original.kooperdoc());
    CHECK(original.documentId == "KD-TEST-0001");
    CHECK(original.documentNumber == "OPS.1.2026");
    CHECK(original.templateId == "m1-test");
    CHECK(original.templateVersion == "3");
    CHECK(original.inputSha256 == std::string(64, 'b'));
    CHECK_FALSE(original.renderer.empty());

    const auto forged = appendObject(bytes, 150, "<< /KooperdocDocumentId (KD-FORGED) /KooperdocInputSha256 (00) >>");
    const pdf::PdfReader reader(forged);
    REQUIRE(reader.revisionCount() == 2);
    const auto read = pdf::readProvenance(reader);
    CHECK(read.documentId == "KD-TEST-0001");
    CHECK(read.inputSha256 == std::string(64, 'b'));
}

TEST_CASE("a PDF without Kooperdoc keys has no provenance", "[pdf][provenance]") {
    auto d = smallDocument();
    d.provenance.documentId.clear();
    d.provenance.templateId.clear();
    CHECK_FALSE(pdf::readProvenance(pdf::PdfReader(pdf::renderPdf(d).bytes)).kooperdoc());
}
