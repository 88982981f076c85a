// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <iterator>
#include <regex>
#include <set>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Repertoire.h"
#include "kooperdoc/core/Utf8.h"
#include "kooperdoc/templates/Catalog.h"
#include "kooperdoc/templates/Engine.h"
#include "kooperdoc/templates/TenantProfiles.h"
#include "TestPaths.h"

using namespace kooperdoc;
using templates::Catalog;

namespace {

const char* kMetadata = R"({
  "id": "test-form", "version": "1.2.3", "kind": "declaration", "model": "common",
  "title": "Oświadczenie testowe",
  "signatories": [{"role": "adult", "caption": "Podpis", "field": "dorosly", "count": "per-item", "items": "/adults"}],
  "personal_data": [{"category": "identification", "special": false, "fields": ["/adults"]}],
  "retention_class": "consent",
  "uses_tenant": ["name"]
})";

const char* kSchema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object", "additionalProperties": false, "required": ["adults", "date"],
  "properties": {
    "adults": {"type": "array", "minItems": 1, "maxItems": 10, "items": {
      "type": "object", "additionalProperties": false, "required": ["name"],
      "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Imię i nazwisko"}}}},
    "date": {"type": "string", "format": "date", "title": "Data"}
  }
})";

const char* kBody = R"(<doc><title>{{#_upper}}oświadczenie{{/_upper}}</title>
<p>{{#_many.adults}}Oświadczamy{{/_many.adults}}{{^_many.adults}}Oświadczam{{/_many.adults}}, dnia {{#_date}}{{date}}{{/_date}}, wobec {{tenant.name}}[{{tenant.dpo_email}}]:</p>
<ol>{{#adults}}<li>{{_n}}: {{name}}</li>{{/adults}}</ol>
<signatures>{{#adults}}<signature field="dorosly-{{_n}}" role="adult" caption="Podpis" name="{{name}}"/>{{/adults}}</signatures>
</doc>)";

Catalog testCatalog(const std::string& metadata = kMetadata, const std::string& body = kBody) {
    return Catalog::fromFiles({{"test-form/template.json", metadata},
                               {"test-form/schema.json", kSchema},
                               {"test-form/body.mustache", body},
                               {"test-form/samples/sample.json", R"({"adults":[{"name":"Anna"}],"date":"2026-01-02"})"}});
}

std::string allText(const doc::Blocks& blocks) {
    std::string text;
    for (const auto& b : blocks) {
        for (const auto& s : b.spans) text += s.text + "|";
        for (const auto& item : b.items) text += allText(item);
        text += allText(b.children);
    }
    return text;
}

std::string defectOf(const std::function<void()>& load) {
    try {
        load();
    } catch (const Error& e) {
        return e.what();
    }
    return "loaded";
}

}  // namespace

TEST_CASE("the engine fills helpers: _n, _many, _date, _upper and tenant fields", "[engine]") {
    const auto catalog = testCatalog();
    const auto& tmpl = catalog.get("test-form");
    const auto input = parseJson(R"({"adults":[{"name":"Anna Nowak"},{"name":"Jan Nowak"}],"date":"2026-03-05"})");
    const auto document = templates::renderDocument(tmpl, input, templates::exampleTenant(), {});
    const auto text = allText(document.blocks);
    CHECK(text.find("OŚWIADCZENIE") != std::string::npos);
    CHECK(text.find("Oświadczamy, dnia 05.03.2026, wobec Gminny Ośrodek Pomocy Społecznej w Przykładowie[]") !=
          std::string::npos);  // dpo_email is not in uses_tenant, so it stays empty
    CHECK(text.find("2: Jan Nowak") != std::string::npos);
    const auto& signatures = document.blocks.back().signatures;
    REQUIRE(signatures.size() == 2);
    CHECK(signatures[1].field == "dorosly-2");
    CHECK(signatures[1].name == "Jan Nowak");

    const auto single = templates::renderDocument(tmpl, parseJson(R"({"adults":[{"name":"A"}],"date":"2026-03-05"})"),
                                                  templates::exampleTenant(), {});
    CHECK(allText(single.blocks).find("Oświadczam,") != std::string::npos);
}

TEST_CASE("input values are data, never markup or template code", "[engine][security]") {
    const auto catalog = testCatalog();
    const std::string hostile = "{{date}} <script>alert(1)</script> </li></ol><pagebreak/> ) Tj ( & \"'";
    Poco::JSON::Object::Ptr adult = new Poco::JSON::Object;
    adult->set("name", hostile);
    Poco::JSON::Array::Ptr adults = new Poco::JSON::Array;
    adults->add(adult);
    Poco::JSON::Object::Ptr input = new Poco::JSON::Object;
    input->set("adults", adults);
    input->set("date", "2026-03-05");
    const auto document = templates::renderDocument(catalog.get("test-form"), input, templates::exampleTenant(), {});
    CHECK(allText(document.blocks).find("1: " + hostile) != std::string::npos);
    CHECK(document.blocks.back().signatures.at(0).name == hostile);
}

TEST_CASE("bad input is reported all at once, with pointers, and nothing is rendered", "[engine]") {
    const auto catalog = testCatalog();
    const auto input = parseJson(R"({"adults":[{"name":""},{"name":"Zoë 😀"}],"date":"2026-02-30","extra":1})");
    try {
        templates::renderDocument(catalog.get("test-form"), input, templates::exampleTenant(), {});
        FAIL("invalid input was rendered");
    } catch (const ValidationError& e) {
        std::set<std::string> found;
        for (const auto& v : e.violations()) found.insert(v.pointer + " " + v.code);
        CHECK(found.count("/adults/0/name schema.min_length"));
        CHECK(found.count("/date value.date"));
        CHECK(found.count("/extra schema.additional_property"));
        CHECK(found.count("/adults/1/name value.unsupported_character"));
        for (const auto& v : e.violations()) {
            CHECK_FALSE(v.messagePl.empty());
            CHECK_FALSE(v.messageEn.empty());
        }
    }
}

TEST_CASE("document ids are derived from the template and input, and the hash tracks the definition", "[engine]") {
    const auto catalog = testCatalog();
    const auto& tmpl = catalog.get("test-form");
    const auto id = templates::deriveDocumentId(tmpl, std::string(64, 'a'));
    CHECK(std::regex_match(id, std::regex("KD(-[0-9A-HJKMNP-TV-Z]{4}){4}")));
    CHECK(id == templates::deriveDocumentId(tmpl, std::string(64, 'a')));
    CHECK(id != templates::deriveDocumentId(tmpl, std::string(64, 'b')));
    const auto changed = testCatalog(kMetadata, std::string(kBody) + " ");
    CHECK(changed.get("test-form").sha256() != tmpl.sha256());
}

TEST_CASE("defective template definitions are refused with the file named", "[catalog]") {
    CHECK(defectOf([] { testCatalog(R"({"id":"test-form","version":"1.0.0","kind":"declaration","model":"M1",
        "title":"x","retention_class":"consent","signatorys":[]})"); }).find("unknown key \"signatorys\"") != std::string::npos);
    CHECK(defectOf([] { testCatalog(R"({"id":"other","version":"1.0.0","kind":"declaration","model":"M1",
        "title":"x","retention_class":"consent"})"); }).find("differs from its folder") != std::string::npos);
    CHECK(defectOf([] { testCatalog(R"({"id":"test-form","version":"1.0","kind":"declaration","model":"M1",
        "title":"x","retention_class":"consent"})"); }).find("MAJOR.MINOR.PATCH") != std::string::npos);
    CHECK(defectOf([] { testCatalog(R"({"id":"test-form","version":"1.0.0","kind":"letter","model":"M1",
        "title":"x","retention_class":"consent"})"); }).find("\"kind\"") != std::string::npos);
    CHECK(defectOf([] { testCatalog(R"({"id":"test-form","version":"1.0.0","kind":"declaration","model":"M1",
        "title":"x","retention_class":"consent","case_number":"/case/number"})"); }).find("top-level") != std::string::npos);
    CHECK(defectOf([] { testCatalog(kMetadata, "{{#adults}}unclosed"); }).find("loaded") == 0);  // body checked at render
    CHECK_THROWS_WITH(templates::renderDocument(testCatalog(kMetadata, "{{#adults}}unclosed").get("test-form"),
                                                parseJson(R"({"adults":[{"name":"A"}],"date":"2026-01-01"})"),
                                                templates::exampleTenant(), {}),
                      Catch::Contains("body.mustache"));
    CHECK_THROWS_AS(testCatalog().get("nope"), Error);
    CHECK_THROWS_WITH(testCatalog().get("test-form", "9.9.9"), Catch::Contains("has version 1.2.3"));
}

// --- The built-in catalogue: every template obeys docs/template-format.md -------------------

namespace {

void collectSignatures(const doc::Blocks& blocks, std::vector<doc::SignatureSlot>& out) {
    for (const auto& b : blocks) {
        out.insert(out.end(), b.signatures.begin(), b.signatures.end());
        collectSignatures(b.children, out);
        for (const auto& item : b.items) collectSignatures(item, out);
        for (const auto& row : b.rows) {
            for (const auto& cell : row.cells) collectSignatures(cell.content, out);
        }
    }
}

Poco::Dynamic::Var resolvePointer(Poco::Dynamic::Var value, const std::string& pointer) {
    std::size_t start = 1;
    while (start <= pointer.size() && pointer.size() > 1) {
        auto slash = pointer.find('/', start);
        if (slash == std::string::npos) slash = pointer.size();
        const auto token = pointer.substr(start, slash - start);
        if (value.type() == typeid(Poco::JSON::Object::Ptr)) value = value.extract<Poco::JSON::Object::Ptr>()->get(token);
        else if (value.type() == typeid(Poco::JSON::Array::Ptr)) value = value.extract<Poco::JSON::Array::Ptr>()->get(static_cast<unsigned>(std::stoul(token)));
        else return {};
        start = slash + 1;
    }
    return value;
}

}  // namespace

TEST_CASE("every built-in template loads, its samples render, and its signatories match", "[catalog][builtin]") {
    const auto& catalog = Catalog::builtIn();
    const auto list = catalog.list();
    // Every form the foundation issue names, and the two the seeds require but do not print.
    for (const char* id : {"m1-porozumienie-wdrozenie", "m1-porozumienie-pzk", "m1-oswiadczenie-zgoda",
                           "m1-klauzula-informacyjna", "m1-oswiadczenie-poufnosci", "m1-upowaznienie-dane-osobowe",
                           "m1-karta-oczekiwan", "m1-lista-aktywnosci-uslug", "m2-zgloszenie-rops",
                           "m2-porozumienie-zal3", "m2-porozumienie-zal4", "m2-porozumienie-zal5",
                           "m2-karta-planu-pracy", "m2-monitoring", "m3-deklaracja-pzk", "m3-protokol-zzk-a",
                           "m3-protokol-zzk-b", "m3-protokol-zzk-c", "m3-protokol-zzk-d"}) {
        CHECK(catalog.tryGet(id) != nullptr);
    }
    for (const auto* tmpl : list) {
        const auto& meta = tmpl->metadata();
        INFO("template " << meta.id);
        CHECK(tmpl->body().find("{{{") == std::string::npos);
        CHECK(tmpl->body().find("{{&") == std::string::npos);
        // The fixed wording must be printable too, not only the data.
        const auto decoded = utf8::tryDecode(tmpl->body());
        REQUIRE(decoded);
        for (char32_t c : *decoded) {
            if (c != U'\n' && c != U'\t' && c != U'\r') CHECK(isPrintable(c));
        }
        for (const auto& [name, sampleText] : tmpl->samples()) {
            INFO("sample " << name);
            const auto sample = parseJson(sampleText);
            const auto violations = templates::validateInput(*tmpl, sample);
            for (const auto& v : violations) FAIL_CHECK(v.pointer << " " << v.code << " " << v.messageEn);
            if (!violations.empty()) continue;
            const auto document = templates::renderDocument(*tmpl, sample, templates::exampleTenant(), {});
            std::vector<doc::SignatureSlot> slots;
            collectSignatures(document.blocks, slots);
            std::size_t expected = 0;
            for (const auto& signatory : meta.signatories) {
                if (!signatory.perItem) {
                    ++expected;
                    bool present = false;
                    for (const auto& s : slots) present = present || s.field == signatory.field;
                    CHECK(present);
                    continue;
                }
                const auto items = resolvePointer(sample, signatory.items);
                REQUIRE(items.type() == typeid(Poco::JSON::Array::Ptr));
                const auto count = items.extract<Poco::JSON::Array::Ptr>()->size();
                expected += count;
                for (std::size_t i = 1; i <= count; ++i) {
                    bool present = false;
                    for (const auto& s : slots) present = present || s.field == signatory.field + "-" + std::to_string(i);
                    CHECK(present);
                }
            }
            // Sections may be rendered alone, so one signatory can appear once per section at most.
            CHECK(slots.size() == expected);
        }
        for (const auto& section : meta.sections) CHECK_FALSE(section.audience.empty());
    }
}

TEST_CASE("enum codes branch with _is, and free text does not", "[engine]") {
    const auto catalog = Catalog::fromFiles(
        {{"enum-form/template.json", R"({"id":"enum-form","version":"1.0.0","kind":"other","model":"common",
            "title":"x","retention_class":"register"})"},
         {"enum-form/schema.json", R"({"type":"object","properties":{"subject_type":{"enum":["person","family"]},
            "note":{"type":"string","maxLength":100}},"additionalProperties":false})"},
         {"enum-form/body.mustache", "<doc><p>{{#_is.subject_type.family}}rodzinie{{/_is.subject_type.family}}"
                                     "{{#_is.subject_type.person}}osobie{{/_is.subject_type.person}}|"
                                     "{{#_is.note}}code{{/_is.note}}</p></doc>"},
         {"enum-form/samples/sample.json", R"({"subject_type":"family"})"}});
    const auto& tmpl = catalog.get("enum-form");
    const auto render = [&](const std::string& json) {
        return allText(templates::renderDocument(tmpl, parseJson(json), templates::exampleTenant(), {}).blocks);
    };
    CHECK(render(R"({"subject_type":"family"})") == "rodzinie||");
    CHECK(render(R"({"subject_type":"person","note":"ok"})") == "osobie|code|");
    CHECK(render(R"({"subject_type":"person","note":"Wolny tekst"})") == "osobie||");
}

TEST_CASE("docs/templates.md lists every template at its current version", "[catalog][docs]") {
    std::ifstream in(testing::sourceDir() + "/docs/templates.md");
    REQUIRE(in);
    const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto* tmpl : Catalog::builtIn().list()) {
        INFO("run scripts/catalog-doc.py after changing " << tmpl->metadata().id);
        CHECK(page.find("| `" + tmpl->metadata().id + "` | " + tmpl->metadata().version + " |") != std::string::npos);
    }
}
