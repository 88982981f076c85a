// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

#include "Process.h"
#include "kooperdoc/pdf/Renderer.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;

namespace {

doc::Block paragraph(const std::string& text, doc::Align align = doc::Align::kJustify) {
    doc::Block b;
    b.kind = doc::Block::Kind::kParagraph;
    b.align = align;
    b.spans.push_back({text, false, false});
    return b;
}

doc::TableCell cell(const std::string& text) {
    doc::TableCell c;
    c.content.push_back(paragraph(text, doc::Align::kLeft));
    return c;
}

doc::Document baseDocument() {
    doc::Document d;
    d.provenance.documentId = "KD-TEST-TEST-TEST-TEST";
    d.provenance.documentNumber = "OPS.1234.5.2026";
    d.provenance.title = "Dokument testowy";
    d.provenance.templateId = "test";
    d.provenance.templateVersion = "1.0.0";
    d.provenance.templateSha256 = std::string(64, '0');
    d.provenance.inputSha256 = std::string(64, 'a');
    d.provenance.createdEpochSeconds = 1768471200;
    doc::Block title;
    title.kind = doc::Block::Kind::kTitle;
    title.spans.push_back({"ZAŻÓŁĆ GĘŚLĄ JAŹŃ", false, false});
    d.blocks.push_back(title);
    return d;
}

std::string writePdf(const std::string& name, const std::string& bytes) {
    const auto path = (std::filesystem::temp_directory_path() / ("kooperdoc-layout-" + name + ".pdf")).string();
    writeFile(path, bytes);
    return path;
}

std::string pageText(const std::string& pdf, int page) {
    return runCommand("pdftotext -f " + std::to_string(page) + " -l " + std::to_string(page) + " " + quote(pdf) + " -")
        .output;
}

}  // namespace

TEST_CASE("a 300-row table paginates with its header repeated on every page", "[layout][table]") {
    auto d = baseDocument();
    doc::Block table;
    table.kind = doc::Block::Kind::kTable;
    table.columnPercents = {10, 45, 45};
    doc::TableRow header;
    header.header = true;
    header.cells = {cell("Lp."), cell("Nazwa usługi"), cell("Realizator")};
    table.rows.push_back(header);
    for (int i = 1; i <= 300; ++i) {
        doc::TableRow row;
        row.cells = {cell(std::to_string(i) + "."), cell("Usługa numer " + std::to_string(i)),
                     cell("Ośrodek " + std::to_string(i))};
        table.rows.push_back(row);
    }
    d.blocks.push_back(table);
    const auto rendered = pdf::renderPdf(d);
    const auto file = writePdf("table", rendered.bytes);
    REQUIRE(rendered.pageCount > 5);
    CHECK(runCommand("qpdf --check " + quote(file) + " >/dev/null 2>&1").exitCode == 0);

    int expectedRow = 1;
    for (int page = 1; page <= rendered.pageCount; ++page) {
        const auto text = pageText(file, page);
        INFO("page " << page);
        CHECK(text.find("Nazwa usługi") != std::string::npos);
        CHECK(text.find("Strona " + std::to_string(page) + " z " + std::to_string(rendered.pageCount)) != std::string::npos);
        // Rows continue in order across pages, none lost, none duplicated.
        std::size_t from = 0;
        while (true) {
            const auto at = text.find("Usługa numer " + std::to_string(expectedRow) + "\n", from);
            if (at == std::string::npos) break;
            from = at;
            ++expectedRow;
        }
    }
    CHECK(expectedRow == 301);
}

TEST_CASE("a table row taller than a page is split between lines", "[layout][table]") {
    auto d = baseDocument();
    doc::Block table;
    table.kind = doc::Block::Kind::kTable;
    table.columnPercents = {20, 80};
    doc::TableRow row;
    std::string longText;
    for (int i = 1; i <= 150; ++i) longText += "Linia" + std::to_string(i) + "\n";
    doc::TableCell big;
    doc::Block keep = paragraph("");
    keep.spans.clear();
    for (int i = 1; i <= 150; ++i) keep.spans.push_back({"Linia" + std::to_string(i), false, true});
    big.content.push_back(keep);
    row.cells = {cell("Opis"), big};
    table.rows.push_back(row);
    d.blocks.push_back(table);
    const auto rendered = pdf::renderPdf(d);
    const auto file = writePdf("tallrow", rendered.bytes);
    CHECK(rendered.pageCount >= 3);
    const auto text = runCommand("pdftotext " + quote(file) + " -").output;
    for (int i = 1; i <= 150; ++i) CHECK(text.find("Linia" + std::to_string(i) + "\n") != std::string::npos);
}

TEST_CASE("text stays inside the margins and signature areas are placed on the page", "[layout]") {
    auto d = baseDocument();
    std::string words;
    for (int i = 0; i < 400; ++i) words += (i % 7 == 0 ? "Współpraca " : "instytucji ") + std::to_string(i) + " ";
    d.blocks.push_back(paragraph(words));
    d.blocks.push_back(paragraph(std::string(300, 'W')));  // one unbreakable word, wider than a line
    doc::Block list;
    list.kind = doc::Block::Kind::kList;
    list.listStyle = doc::Block::ListStyle::kAlphaParen;
    for (int i = 0; i < 30; ++i) list.items.push_back({paragraph("punkt listy " + std::to_string(i))});
    d.blocks.push_back(list);
    doc::Block signatures;
    signatures.kind = doc::Block::Kind::kSignatures;
    for (int i = 1; i <= 5; ++i) signatures.signatures.push_back({"podpis-" + std::to_string(i), "member", "Podpis członka", "Osoba " + std::to_string(i)});
    d.blocks.push_back(signatures);

    const auto rendered = pdf::renderPdf(d);
    const auto file = writePdf("margins", rendered.bytes);
    const auto bbox = runCommand("pdftotext -bbox " + quote(file) + " -").output;
    const std::regex word("xMin=\"([0-9.]+)\" yMin=\"([0-9.]+)\" xMax=\"([0-9.]+)\" yMax=\"([0-9.]+)\"");
    int wordsChecked = 0;
    for (auto it = std::sregex_iterator(bbox.begin(), bbox.end(), word); it != std::sregex_iterator(); ++it) {
        const double xMin = std::stod((*it)[1]), yMin = std::stod((*it)[2]), xMax = std::stod((*it)[3]), yMax = std::stod((*it)[4]);
        CHECK(xMin >= 56.6);
        CHECK(xMax <= 538.7);
        CHECK(yMin >= 56.6);
        CHECK(yMax <= 841.89 - 5 * 72 / 25.4);
        ++wordsChecked;
    }
    CHECK(wordsChecked > 400);
    CHECK(std::regex_search(runCommand("pdftotext " + quote(file) + " -").output, std::regex("a\\)[\\s\\S]*ad\\)")));

    REQUIRE(rendered.signatures.size() == 5);
    for (const auto& s : rendered.signatures) {
        CHECK(s.page == rendered.pageCount - 1);
        CHECK(s.x >= 56.6);
        CHECK(s.x + s.width <= 538.7);
        CHECK(s.height > 30);
    }
    CHECK(rendered.signatures[0].y == rendered.signatures[2].y);  // three to a row
    CHECK(rendered.signatures[3].y < rendered.signatures[0].y);
}

TEST_CASE("rendering is deterministic and the file identifier follows the content", "[layout][determinism]") {
    auto d = baseDocument();
    d.blocks.push_back(paragraph("Treść"));
    const auto a = pdf::renderPdf(d).bytes;
    CHECK(a == pdf::renderPdf(d).bytes);
    d.blocks.push_back(paragraph("Więcej treści"));
    const auto b = pdf::renderPdf(d).bytes;
    const std::regex id("/ID \\[<([0-9a-f]{32})>");
    std::smatch ma, mb;
    REQUIRE(std::regex_search(a, ma, id));
    REQUIRE(std::regex_search(b, mb, id));
    CHECK(ma[1] != mb[1]);
}

TEST_CASE("a no-break space never ends a line and prints as a plain space", "[layout]") {
    auto d = baseDocument();
    std::string text;
    for (int i = 0; i < 120; ++i) text += "słowo\xC2\xA0" + std::to_string(i) + " ";
    d.blocks.push_back(paragraph(text));
    const auto file = writePdf("nbsp", pdf::renderPdf(d).bytes);
    const auto extracted = runCommand("pdftotext " + quote(file) + " -").output;
    for (int i = 0; i < 120; ++i) {
        const bool together = extracted.find("słowo " + std::to_string(i) + " ") != std::string::npos ||
                              extracted.find("słowo " + std::to_string(i) + "\n") != std::string::npos;
        CHECK(together);
    }
    CHECK(extracted.find("\xC2\xA0") == std::string::npos);
    CHECK_FALSE(std::regex_search(extracted, std::regex("słowo\\n")));
}

TEST_CASE("a run that may not break is broken anyway when no line could hold it", "[layout]") {
    auto d = baseDocument();
    doc::Block table;
    table.kind = doc::Block::Kind::kTable;
    table.columnPercents = {15, 85};
    doc::TableRow row;
    row.cells = {cell("pedagog@sp2-janow.example.pl-00-001-22-333-4444-55555"), cell("x")};
    table.rows.push_back(row);
    d.blocks.push_back(table);
    const auto file = writePdf("glue", pdf::renderPdf(d).bytes);
    const auto bbox = runCommand("pdftotext -bbox " + quote(file) + " -").output;
    const std::regex word("xMax=\"([0-9.]+)\"[^>]*>([^<]*)</word>");
    for (auto it = std::sregex_iterator(bbox.begin(), bbox.end(), word); it != std::sregex_iterator(); ++it) {
        if ((*it)[2].str().find("pedagog") != std::string::npos || (*it)[2].str().find("555") != std::string::npos) {
            CHECK(std::stod((*it)[1]) < 56.7 + 0.15 * (538.6 - 56.7) + 1);  // inside the first column
        }
    }
}
