// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/templates/Markup.h"

using kooperdoc::doc::Block;
using kooperdoc::templates::parseMarkup;

namespace {
std::string reasonOf(const std::string& markup) {
    try {
        parseMarkup(markup);
    } catch (const kooperdoc::Error& e) {
        return e.reason() + ": " + e.what();
    }
    return "accepted";
}
}  // namespace

TEST_CASE("markup becomes blocks with collapsed whitespace and decoded entities", "[markup]") {
    const auto blocks = parseMarkup(R"(<doc>
        <title>POROZUMIENIE   nr 1</title>
        <p align="justify">Ala &amp; kot
           &lt;script&gt; &#x142;&#243;d&#378; <b>pogrubione</b> koniec</p>
    </doc>)");
    REQUIRE(blocks.size() == 2);
    CHECK(blocks[0].kind == Block::Kind::kTitle);
    CHECK(blocks[0].spans.at(0).text == "POROZUMIENIE nr 1");
    const auto& p = blocks[1];
    CHECK(p.kind == Block::Kind::kParagraph);
    CHECK(p.align == kooperdoc::doc::Align::kJustify);
    REQUIRE(p.spans.size() == 3);
    CHECK(p.spans[0].text == "Ala & kot <script> łódź ");
    CHECK(p.spans[1].text == "pogrubione");
    CHECK(p.spans[1].bold);
    CHECK(p.spans[2].text == " koniec");
}

TEST_CASE("lines=keep turns newlines into line breaks", "[markup]") {
    const auto blocks = parseMarkup("<doc><p lines=\"keep\">pierwsza\ndruga\n\nczwarta</p></doc>");
    const auto& spans = blocks.at(0).spans;
    REQUIRE(spans.size() == 4);
    CHECK(spans[0].text == "pierwsza");
    CHECK(spans[0].lineBreak);
    CHECK(spans[2].text.empty());
    CHECK(spans[3].text == "czwarta");
}

TEST_CASE("lists, tables, choices, scales and signatures are parsed with their attributes", "[markup]") {
    const auto blocks = parseMarkup(R"X(<doc>
      <ol style="a)" start="3"><li>pierwszy</li><li><p>akapit</p><ul><li>zagnieżdżony</li></ul></li></ol>
      <table widths="10,90"><tr header="true"><td>Lp.</td><td>Nazwa</td></tr>
        <tr><td>1</td><td><choice options="tak|nie|częściowo" selected="nie"/></td></tr></table>
      <scale min="1" max="10" value="7"/>
      <signatures><signature field="powiat" role="county" caption="Podpis" name="Jan Nowak"/></signatures>
      <section id="A" audience="staff team"><field label="Data">2026-01-02</field></section>
    </doc>)X");
    REQUIRE(blocks.size() == 5);
    CHECK(blocks[0].listStyle == Block::ListStyle::kAlphaParen);
    CHECK(blocks[0].listStart == 3);
    CHECK(blocks[0].items.size() == 2);
    CHECK(blocks[0].items[1].size() == 2);
    CHECK(blocks[1].rows.size() == 2);
    CHECK(blocks[1].rows[0].header);
    CHECK(blocks[1].columnPercents == std::vector<double>{10, 90});
    const auto& choice = blocks[1].rows[1].cells[1].content.at(0);
    CHECK(choice.options == std::vector<std::string>{"tak", "nie", "częściowo"});
    CHECK(choice.selected == "nie");
    CHECK(blocks[2].scaleValue == 7);
    CHECK(blocks[3].signatures.at(0).field == "powiat");
    CHECK(blocks[4].audience == std::vector<std::string>{"staff", "team"});
    CHECK(blocks[4].children.at(0).label == "Data");
}

TEST_CASE("malformed or unknown markup is a template defect with a position", "[markup]") {
    CHECK(reasonOf("<doc><p>a</doc>").find("template.markup: markup error at line 1") == 0);
    CHECK(reasonOf("<doc><blink>a</blink></doc>").find("unknown element") != std::string::npos);
    CHECK(reasonOf("<doc><p colour=\"red\">a</p></doc>").find("unknown attribute colour") != std::string::npos);
    CHECK(reasonOf("<doc><p>&nbsp;</p></doc>").find("unknown entity") != std::string::npos);
    CHECK(reasonOf("<!DOCTYPE x><doc/>").find("template.markup") == 0);
    CHECK(reasonOf("<doc><table widths=\"50,50\"><tr><td>1</td></tr></table></doc>").find("columns") != std::string::npos);
    CHECK(reasonOf("<doc><signatures><signature field=\"a\"/><signature field=\"a\"/></signatures></doc>")
              .find("appears twice") != std::string::npos);
    CHECK(reasonOf("<doc>loose text</doc>").find("inside a block element") != std::string::npos);
    CHECK(reasonOf("<doc><p>x</p></doc>") == "accepted");
}

TEST_CASE("deeply nested markup is refused instead of exhausting the stack", "[markup]") {
    std::string markup = "<doc>";
    for (int i = 0; i < 200; ++i) markup += "<section>";
    for (int i = 0; i < 200; ++i) markup += "</section>";
    markup += "</doc>";
    CHECK(reasonOf(markup).find("nested too deeply") != std::string::npos);
}
