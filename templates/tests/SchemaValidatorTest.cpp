// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "TestPaths.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/templates/SchemaValidator.h"

using kooperdoc::Error;
using kooperdoc::parseJson;
using kooperdoc::Violation;
using kooperdoc::templates::SchemaValidator;
using kooperdoc::templates::UnknownKeywords;

namespace {

/// Parses any JSON text, scalars included (Poco's parser wants an object or array at the top).
Poco::Dynamic::Var json(const std::string& text) {
    return parseJson("[" + text + "]").extract<Poco::JSON::Array::Ptr>()->get(0);
}

std::vector<Violation> validateValue(const std::string& schema, const Poco::Dynamic::Var& instance) {
    return SchemaValidator(json(schema)).validate(instance);
}

std::vector<Violation> validate(const std::string& schema, const std::string& instance) {
    return validateValue(schema, json(instance));
}

std::string describe(const std::vector<Violation>& violations) {
    std::string out;
    for (const auto& v : violations) out += "\n  " + v.pointer + " " + v.code + " | " + v.messagePl + " | " + v.messageEn;
    return out;
}

/// The reason of the Error the schema's compilation throws, or "" when it compiles.
std::string compileError(const std::string& schema, UnknownKeywords unknown = UnknownKeywords::kReject) {
    try {
        SchemaValidator validator(json(schema), unknown);
        return "";
    } catch (const Error& e) {
        CHECK(e.code() == kooperdoc::ErrorCode::kInternal);
        return e.reason();
    }
}

struct CodeCase {
    const char* code;
    const char* schema;
    const char* instance;
    const char* pointer;
};

/// One minimal failing input per code the validator emits (docs/validation-codes.md lists them).
const std::vector<CodeCase> kCodeCases = {
    {"schema.type", R"({"properties": {"age": {"type": "integer"}}})", R"({"age": "12"})", "/age"},
    {"schema.enum", R"({"properties": {"kind": {"enum": ["person", "family"]}}})", R"({"kind": "group"})", "/kind"},
    {"schema.const", R"({"properties": {"consent": {"const": true}}})", R"({"consent": false})", "/consent"},
    {"schema.required", R"({"properties": {"person": {"required": ["name"]}}})", R"({"person": {}})", "/person/name"},
    {"schema.additional_property", R"({"additionalProperties": false, "properties": {"a": {}}})", R"({"a": 1, "b": 2})", "/b"},
    {"schema.property_name", R"({"propertyNames": {"pattern": "^[a-z_]+$"}})", R"({"ok": 1, "Bad": 2})", "/Bad"},
    {"schema.min_properties", R"({"properties": {"o": {"minProperties": 2}}})", R"({"o": {"a": 1}})", "/o"},
    {"schema.max_properties", R"({"properties": {"o": {"maxProperties": 1}}})", R"({"o": {"a": 1, "b": 2}})", "/o"},
    {"schema.dependent_required", R"({"dependentRequired": {"phone": ["phone_owner"]}})", R"({"phone": "123"})",
     "/phone_owner"},
    {"schema.min_items", R"({"properties": {"members": {"minItems": 1}}})", R"({"members": []})", "/members"},
    {"schema.max_items", R"({"properties": {"members": {"maxItems": 1}}})", R"({"members": [1, 2]})", "/members"},
    {"schema.unique_items", R"({"properties": {"days": {"uniqueItems": true}}})", R"({"days": [1, 2, 1.0]})", "/days/2"},
    {"schema.contains", R"({"properties": {"roles": {"contains": {"const": "chair"}}}})", R"({"roles": ["member"]})",
     "/roles"},
    {"schema.min_length", R"({"properties": {"name": {"minLength": 2}}})", R"({"name": "A"})", "/name"},
    {"schema.max_length", R"({"properties": {"name": {"maxLength": 3}}})", R"({"name": "Anna"})", "/name"},
    {"schema.pattern", R"({"properties": {"code": {"pattern": "^[0-9]{2}$"}}})", R"({"code": "1a"})", "/code"},
    {"schema.minimum", R"({"properties": {"n": {"minimum": 1}}})", R"({"n": 0})", "/n"},
    {"schema.maximum", R"({"properties": {"n": {"maximum": 10}}})", R"({"n": 10.5})", "/n"},
    {"schema.exclusive_minimum", R"({"properties": {"n": {"exclusiveMinimum": 0}}})", R"({"n": 0})", "/n"},
    {"schema.exclusive_maximum", R"({"properties": {"n": {"exclusiveMaximum": 10}}})", R"({"n": 10})", "/n"},
    {"schema.multiple_of", R"({"properties": {"n": {"multipleOf": 0.01}}})", R"({"n": 19.999})", "/n"},
    {"schema.any_of", R"({"properties": {"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}})", R"({"v": true})",
     "/v"},
    {"schema.one_of", R"({"properties": {"v": {"oneOf": [{"minimum": 1}, {"maximum": 10}]}}})", R"({"v": 5})", "/v"},
    {"schema.not", R"({"properties": {"v": {"not": {"const": ""}}}})", R"({"v": ""})", "/v"},
    {"schema.false", R"({"properties": {"legacy": false}})", R"({"legacy": 1})", "/legacy"},
    {"value.date", R"({"properties": {"d": {"format": "date"}}})", R"({"d": "2023-02-29"})", "/d"},
    {"value.date_time", R"({"properties": {"t": {"format": "date-time"}}})", R"({"t": "2024-05-14 09:30"})", "/t"},
    {"value.email", R"({"properties": {"e": {"format": "email"}}})", R"({"e": "iod(at)gops.pl"})", "/e"},
    {"value.pesel", R"({"properties": {"p": {"format": "pesel"}}})", R"({"p": "44051401358"})", "/p"},
    {"value.nip", R"({"properties": {"p": {"format": "nip"}}})", R"({"p": "5261040827"})", "/p"},
    {"value.regon", R"({"properties": {"p": {"format": "regon"}}})", R"({"p": "123456784"})", "/p"},
    {"value.krs", R"({"properties": {"p": {"format": "krs"}}})", R"({"p": "12345"})", "/p"},
    {"value.postal_code", R"({"properties": {"p": {"format": "postal-code"}}})", R"({"p": "00001"})", "/p"},
    {"value.phone", R"({"properties": {"p": {"format": "phone"}}})", R"({"p": "tel. 123"})", "/p"},
};

/// Codes that need an instance JSON text cannot express; tested in their own cases below.
const std::set<std::string> kCodesTestedSeparately = {"schema.depth", "value.utf8"};

Poco::Dynamic::Var nestedArrays(int depth) {
    Poco::Dynamic::Var value = Poco::JSON::Array::Ptr(new Poco::JSON::Array);
    for (int i = 1; i < depth; ++i) {
        Poco::JSON::Array::Ptr outer(new Poco::JSON::Array);
        outer->add(value);
        value = outer;
    }
    return value;
}

}  // namespace

TEST_CASE("every violation code is reported at the offending value", "[schema]") {
    for (const auto& c : kCodeCases) {
        INFO(c.code << " — schema " << c.schema << " — instance " << c.instance);
        const auto violations = validate(c.schema, c.instance);
        INFO(describe(violations));
        REQUIRE(violations.size() == 1);
        CHECK(violations[0].code == c.code);
        CHECK(violations[0].pointer == c.pointer);
        CHECK_FALSE(violations[0].messagePl.empty());
        CHECK_FALSE(violations[0].messageEn.empty());
        CHECK_FALSE(SchemaValidator(json(c.schema)).isValid(json(c.instance)));
    }
}

TEST_CASE("the same inputs pass once the offending value is fixed", "[schema]") {
    struct Fixed {
        const char* schema;
        const char* instance;
    };
    const std::vector<Fixed> cases = {
        {R"({"properties": {"age": {"type": "integer"}}})", R"({"age": 12.0})"},
        {R"({"properties": {"days": {"uniqueItems": true}}})", R"({"days": [1, 2, "1", [1], {"a": 1}, {"a": 2}]})"},
        {R"({"properties": {"roles": {"contains": {"const": "chair"}}}})", R"({"roles": ["member", "chair"]})"},
        {R"({"properties": {"n": {"multipleOf": 0.01}}})", R"({"n": 19.99})"},
        {R"({"properties": {"v": {"oneOf": [{"minimum": 1}, {"maximum": 10}]}}})", R"({"v": 11})"},
        {R"({"dependentRequired": {"phone": ["phone_owner"]}})", R"({"phone_owner": "Anna"})"},
        {R"({"properties": {"p": {"format": "pesel"}}})", R"({"p": "44051401359"})"},
        {R"({"properties": {"p": {"format": "pesel"}}})", R"({"p": 44051401358})"},  // format checks strings only
    };
    for (const auto& c : cases) {
        INFO(c.schema << " — " << c.instance);
        const auto violations = validate(c.schema, c.instance);
        INFO(describe(violations));
        CHECK(violations.empty());
    }
}

TEST_CASE("instances nested deeper than the limit are reported, not recursed into", "[schema]") {
    const std::string schema = R"({"$ref": "#/$defs/list", "$defs": {"list": {"type": "array", "items": {"$ref": "#/$defs/list"}}}})";
    CHECK(validateValue(schema, nestedArrays(SchemaValidator::kMaxInstanceDepth + 1)).empty());

    const auto violations = validateValue(schema, nestedArrays(SchemaValidator::kMaxInstanceDepth + 10));
    INFO(describe(violations));
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].code == "schema.depth");
    std::string pointer;
    for (int i = 0; i <= SchemaValidator::kMaxInstanceDepth; ++i) pointer += "/0";
    CHECK(violations[0].pointer == pointer);
}

TEST_CASE("a string that is not UTF-8 is reported where length or pattern apply", "[schema]") {
    Poco::JSON::Object::Ptr instance(new Poco::JSON::Object);
    instance->set("name", std::string("Ann\xff"));
    const auto violations = validateValue(R"({"properties": {"name": {"maxLength": 10}}})", Poco::Dynamic::Var(instance));
    INFO(describe(violations));
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].code == "value.utf8");
    CHECK(violations[0].pointer == "/name");
}

TEST_CASE("docs/validation-codes.md lists exactly the codes the validator emits", "[schema]") {
    std::ifstream in(kooperdoc::testing::sourceDir() + "/docs/validation-codes.md");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    // The section after "## Other checks" documents the engine's checks, not the validator's.
    const std::string all = text.str();
    const std::string doc = all.substr(0, all.find("\n## Other checks"));
    REQUIRE(doc.size() < all.size());
    std::set<std::string> documented;
    const std::regex row(R"(\n\|\s*`((schema|value)\.[a-z_0-9]+)`)");
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator(); ++it) {
        documented.insert((*it)[1].str());
    }
    std::set<std::string> emitted = kCodesTestedSeparately;
    for (const auto& c : kCodeCases) emitted.insert(c.code);
    CHECK(documented == emitted);
}

TEST_CASE("every violation is reported at once", "[schema]") {
    const std::string schema = R"({
      "type": "object", "additionalProperties": false,
      "required": ["case_number", "meeting_date", "members"],
      "properties": {
        "case_number": {"type": "string", "minLength": 1, "maxLength": 20},
        "meeting_date": {"type": "string", "format": "date"},
        "members": {"type": "array", "minItems": 1, "items": {
          "type": "object", "additionalProperties": false, "required": ["name"],
          "properties": {"name": {"type": "string", "minLength": 1}, "pesel": {"type": "string", "format": "pesel"}}}}
      }})";
    const auto violations = validate(schema, R"({
      "meeting_date": "2024-13-01",
      "members": [{"name": "Anna", "pesel": "44051401358"}, {"pesel": "44051401359", "extra": 1}, {"name": ""}],
      "note": "?"})");
    INFO(describe(violations));
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"/case_number", "schema.required"},     {"/meeting_date", "value.date"},
        {"/members/0/pesel", "value.pesel"},     {"/members/1/name", "schema.required"},
        {"/members/1/extra", "schema.additional_property"}, {"/members/2/name", "schema.min_length"},
        {"/note", "schema.additional_property"},
    };
    REQUIRE(violations.size() == expected.size());
    for (const auto& [pointer, code] : expected) {
        INFO(pointer << " " << code);
        CHECK(std::count_if(violations.begin(), violations.end(), [&](const Violation& v) {
                  return v.pointer == pointer && v.code == code;
              }) == 1);
    }
    // Required properties come before the members' own problems.
    CHECK(violations.front().code == "schema.required");
    CHECK(violations.front().pointer == "/case_number");
}

TEST_CASE("messages name a field by its Polish title", "[schema]") {
    const std::string schema = R"({
      "type": "object",
      "properties": {
        "person": {"title": "Osoba", "type": "object", "required": ["name", "pesel", "city"],
          "properties": {
            "name": {"title": "Imię i nazwisko", "type": "string", "minLength": 1, "maxLength": 5},
            "pesel": {"$ref": "#/$defs/pesel"},
            "city": {"type": "string"}
          }},
        "kind": {"title": "Rodzaj", "enum": ["person", "family"]},
        "count": {"title": "Liczba osób", "type": "integer", "minimum": 1.5}
      },
      "$defs": {"pesel": {"title": "Numer PESEL", "type": "string", "format": "pesel"}}
    })";

    auto violations = validate(schema, R"({"person": {}})");
    INFO(describe(violations));
    REQUIRE(violations.size() == 3);
    CHECK(violations[0].pointer == "/person/name");
    CHECK(violations[0].messagePl == "Pole „Imię i nazwisko” jest wymagane.");
    CHECK(violations[0].messageEn == "Field “Imię i nazwisko” is required.");
    CHECK(violations[1].messagePl == "Pole „Numer PESEL” jest wymagane.");  // the title behind a $ref
    CHECK(violations[2].messagePl == "Pole „city” jest wymagane.");         // no title: the name

    violations = validate(schema, R"({"person": {"name": "", "pesel": "123", "city": "Łódź"}, "kind": "x", "count": 1})");
    INFO(describe(violations));
    REQUIRE(violations.size() == 4);
    CHECK(violations[0].pointer == "/count");
    CHECK(violations[0].messagePl == "Pole „Liczba osób” ma za małą wartość (minimum: 1,5).");
    CHECK(violations[0].messageEn == "Field “Liczba osób” must be at least 1.5.");
    CHECK(violations[1].pointer == "/kind");
    CHECK(violations[1].messagePl == "Pole „Rodzaj” ma niedozwoloną wartość; dozwolone wartości: „person”, „family”.");
    CHECK(violations[2].pointer == "/person/name");
    CHECK(violations[2].messagePl == "Pole „Imię i nazwisko” nie może być puste.");
    CHECK(violations[3].pointer == "/person/pesel");
    CHECK(violations[3].messagePl.rfind("Pole „Numer PESEL” nie zawiera prawidłowego numeru PESEL", 0) == 0);

    violations = validate(schema, R"({"person": {"name": "Anna Nowak", "pesel": "44051401359", "city": 7}})");
    INFO(describe(violations));
    REQUIRE(violations.size() == 2);
    CHECK(violations[0].messagePl == "Pole „/person/city” ma nieprawidłowy typ: oczekiwano: tekst, podano: liczba.");
    CHECK(violations[1].messagePl ==
          "Pole „Imię i nazwisko” ma za długi tekst (maksymalna liczba znaków: 5, podano: 10).");

    violations = validate(R"({"type": "object"})", R"([])");
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].pointer.empty());
    CHECK(violations[0].messagePl == "Dokument ma nieprawidłowy typ: oczekiwano: obiekt, podano: lista.");
}

TEST_CASE("a required property is named by the title another subschema gives it", "[schema]") {
    const std::string schema = R"({
      "properties": {"decision": {"enum": ["yes", "no"]}, "reason": {"title": "Uzasadnienie", "type": "string"}},
      "if": {"properties": {"decision": {"const": "no"}}, "required": ["decision"]},
      "then": {"required": ["reason"]}
    })";
    CHECK(validate(schema, R"({"decision": "yes"})").empty());
    const auto violations = validate(schema, R"({"decision": "no"})");
    INFO(describe(violations));
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].pointer == "/reason");
    CHECK(violations[0].messagePl == "Pole „Uzasadnienie” jest wymagane.");
}

TEST_CASE("schemas with unsupported keywords or formats are rejected at compile time", "[schema]") {
    CHECK(compileError(R"({"type": "string", "minLenght": 1})") == "schema.invalid");
    CHECK(compileError(R"({"properties": {"a": {"maxLenght": 1}}})") == "schema.invalid");
    CHECK(compileError(R"({"$defs": {"unused": {"typ": "string"}}})") == "schema.invalid");
    CHECK(compileError(R"({"type": "string", "format": "uri"})") == "schema.invalid");
    CHECK(compileError(R"({"type": "string", "minLenght": 1, "format": "uri"})", UnknownKeywords::kIgnore).empty());

    // Unknown keywords are ignored with kIgnore, not applied.
    SchemaValidator lenient(json(R"({"minLenght": 5, "format": "uri"})"), UnknownKeywords::kIgnore);
    CHECK(lenient.validate(json(R"("x")")).empty());

    CHECK(compileError(R"({"title": "Test", "description": "…", "default": 1, "examples": [1], "$comment": "x",
                           "deprecated": false, "readOnly": false, "writeOnly": false,
                           "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:kooperdoc:test"})")
              .empty());
}

TEST_CASE("malformed schemas are rejected at compile time", "[schema]") {
    const char* malformed[] = {
        R"("string")",
        R"({"type": "text"})",
        R"({"type": []})",
        R"({"minLength": -1})",
        R"({"minLength": 1.5})",
        R"({"maxItems": "3"})",
        R"({"required": "name"})",
        R"({"required": ["a", "a"]})",
        R"({"enum": "a"})",
        R"({"multipleOf": 0})",
        R"({"multipleOf": -2})",
        R"({"minimum": "1"})",
        R"({"pattern": "[a-z"})",
        R"({"pattern": "(a)\\1"})",
        R"({"patternProperties": {"(": {}}})",
        R"({"allOf": []})",
        R"({"anyOf": {}})",
        R"({"properties": {"a": 1}})",
        R"({"items": [{"type": "string"}]})",  // draft-07 tuple syntax
        R"({"uniqueItems": "yes"})",
        R"({"title": 1})",
        R"({"$ref": "other.json#/$defs/a"})",
        R"({"$ref": "#anchor"})",
        R"({"$ref": "#/$defs/missing", "$defs": {}})",
        R"({"$ref": "#/$defs/a%zz", "$defs": {}})",
        R"({"$ref": "#/$defs/a~2", "$defs": {}})",
        R"({"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}})",
        R"({"not": {"$ref": "#"}})",
        R"({"properties": {"a": {"$id": "urn:inner"}}})",
        R"({"$schema": "http://json-schema.org/draft-07/schema#"})",
        R"({"properties": {"a": {"$schema": "https://json-schema.org/draft/2020-12/schema"}}})",
    };
    for (const char* schema : malformed) {
        INFO(schema);
        CHECK(compileError(schema) == "schema.invalid");
    }
}

TEST_CASE("$ref resolves local pointers, with escapes, and its siblings apply", "[schema]") {
    const std::string schema = R"({
      "properties": {
        "a": {"$ref": "#/$defs/short"},
        "b": {"$ref": "#/definitions/a~1b"},
        "c": {"$ref": "#/$defs/tilde~0name"},
        "d": {"$ref": "#/$defs/per%25cent"},
        "e": {"$ref": "#/$defs/short", "minLength": 2},
        "f": {"$ref": "#/properties/a"},
        "g": {"$ref": "#/$defs/tuple/prefixItems/1"}
      },
      "$defs": {"short": {"type": "string", "maxLength": 3}, "tilde~name": {"type": "integer"},
                "per%cent": {"type": "boolean"}, "tuple": {"prefixItems": [{}, {"type": "null"}]}},
      "definitions": {"a/b": {"type": "number"}}
    })";
    CHECK(validate(schema, R"({"a": "abc", "b": 1.5, "c": 2, "d": true, "e": "ab", "f": "x", "g": null})").empty());
    const auto violations = validate(schema, R"({"a": "abcd", "b": "x", "c": 2.5, "d": 1, "e": "a", "f": 1, "g": 0})");
    INFO(describe(violations));
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"/a", "schema.max_length"}, {"/b", "schema.type"}, {"/c", "schema.type"}, {"/d", "schema.type"},
        {"/e", "schema.min_length"}, {"/f", "schema.type"}, {"/g", "schema.type"},
    };
    REQUIRE(violations.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK(violations[i].pointer == expected[i].first);
        CHECK(violations[i].code == expected[i].second);
    }
}

TEST_CASE("recursive schemas through $ref descend into the instance", "[schema]") {
    const std::string schema = R"({
      "$ref": "#/$defs/node",
      "$defs": {"node": {"type": "object", "additionalProperties": false, "required": ["name"],
                         "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}
    })";
    CHECK(validate(schema, R"({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})").empty());
    const auto violations = validate(schema, R"({"name": "a", "children": [{"name": "b", "children": [{"nam": "c"}]}]})");
    INFO(describe(violations));
    REQUIRE(violations.size() == 2);
    CHECK(violations[0].pointer == "/children/0/children/0/name");
    CHECK(violations[0].code == "schema.required");
    CHECK(violations[1].pointer == "/children/0/children/0/nam");
    CHECK(violations[1].code == "schema.additional_property");
}

TEST_CASE("lengths count Unicode code points, not bytes", "[schema]") {
    const std::string schema = R"({"type": "string", "minLength": 4, "maxLength": 4})";
    CHECK(validate(schema, R"("żółć")").empty());  // 8 bytes, 4 letters
    CHECK(validate(schema, R"("😀😀😀😀")").empty());
    const auto violations = validate(schema, R"("żółć!")");
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].code == "schema.max_length");
    CHECK(violations[0].messagePl == "Dokument ma za długi tekst (maksymalna liczba znaków: 4, podano: 5).");
}

TEST_CASE("patterns are ECMAScript searches on code points, Polish letters included", "[schema]") {
    const std::string polish = R"({"type": "string", "pattern": "^[A-ZĄĆĘŁŃÓŚŹŻ][a-ząćęłńóśźż]+$"})";
    CHECK(validate(polish, R"("Łukasz")").empty());
    CHECK(validate(polish, R"("Żaneta")").empty());
    CHECK(validate(polish, R"("Świętosław")").empty());
    CHECK(validate(polish, R"("łukasz")").size() == 1);
    CHECK(validate(polish, R"("Łukasz1")").size() == 1);

    // Unanchored: a match anywhere counts.
    CHECK(validate(R"({"pattern": "ść"})", R"("Dość tego")").empty());
    CHECK(validate(R"({"pattern": "^.{3}$"})", R"("żółw")").size() == 1);
    CHECK(validate(R"({"pattern": "^.{4}$"})", R"("żółw")").empty());

    // A free text at the house limit of 20000 characters neither overflows the stack nor crawls.
    std::string longText = "\"";
    for (int i = 0; i < 20000; ++i) longText += (i % 7 == 6) ? " " : "ż";
    longText += "\"";
    CHECK(validate(R"({"pattern": "^([a-zżźćńółęąś]|\\s)*$"})", longText).empty());
    CHECK(validate(R"({"pattern": "^([a-zżźćńółęąś]|\\s)*$"})", longText.substr(0, longText.size() - 1) + "X\"").size() == 1);
}

TEST_CASE("numbers compare as JSON numbers", "[schema]") {
    CHECK(validate(R"({"type": "integer"})", "1.0").empty());
    CHECK(validate(R"({"type": "integer"})", "1.5").size() == 1);
    CHECK(validate(R"({"type": "number"})", "1").empty());
    CHECK(validate(R"({"const": 1})", "1.0").empty());
    CHECK(validate(R"({"enum": [1.0]})", "1").empty());
    CHECK(validate(R"({"const": {"a": 1, "b": [1, 2]}})", R"({"b": [1.0, 2], "a": 1})").empty());
    CHECK(validate(R"({"const": {"a": 1}})", R"({"a": 1, "b": 2})").size() == 1);
    CHECK(validate(R"({"const": false})", "0").size() == 1);
    CHECK(validate(R"({"const": null})", "null").empty());
    CHECK(validate(R"({"maximum": 9007199254740993})", "9007199254740992").empty());
    CHECK(validate(R"({"maximum": 9007199254740992})", "9007199254740993").size() == 1);

    CHECK(validate(R"({"multipleOf": 0.1})", "0.3").empty());
    CHECK(validate(R"({"multipleOf": 0.1})", "0.35").size() == 1);
    CHECK(validate(R"({"multipleOf": 0.0001})", "0.0075").empty());
    CHECK(validate(R"({"multipleOf": 1.5})", "4.5").empty());
    CHECK(validate(R"({"multipleOf": 1.5})", "35").size() == 1);
    CHECK(validate(R"({"multipleOf": 2})", "-4").empty());
    CHECK(validate(R"({"multipleOf": 0.123456789})", "1e308").size() == 1);
    CHECK(validate(R"({"multipleOf": 3})", "18446744073709551615").empty());
    CHECK(validate(R"({"multipleOf": 7})", "18446744073709551615").size() == 1);
}

TEST_CASE("anyOf and oneOf report one violation, not every branch's", "[schema]") {
    const std::string schema = R"({"properties": {"id": {"title": "Identyfikator", "anyOf": [
        {"type": "string", "format": "pesel"}, {"type": "string", "format": "nip"}, {"type": "string", "format": "regon"}]}}})";
    CHECK(validate(schema, R"({"id": "5261040828"})").empty());
    const auto violations = validate(schema, R"({"id": "123"})");
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].code == "schema.any_of");
    CHECK(violations[0].pointer == "/id");
    CHECK(violations[0].messagePl == "Pole „Identyfikator” nie spełnia żadnego z dopuszczalnych wariantów.");

    const auto twice = validate(R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})", "3");
    REQUIRE(twice.size() == 1);
    CHECK(twice[0].code == "schema.one_of");
    CHECK(twice[0].messageEn == "The document must match exactly one alternative (it matches 2).");
    CHECK(validate(R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})", "-3").empty());
}

TEST_CASE("if/then/else applies the branch and reports its violations", "[schema]") {
    const std::string schema = R"({
      "type": "object",
      "properties": {"subject_type": {"enum": ["person", "family"]}, "pesel": {"type": "string"}},
      "if": {"properties": {"subject_type": {"const": "person"}}},
      "then": {"required": ["pesel"], "properties": {"pesel": {"format": "pesel"}}},
      "else": {"not": {"required": ["pesel"]}}
    })";
    CHECK(validate(schema, R"({"subject_type": "person", "pesel": "44051401359"})").empty());
    CHECK(validate(schema, R"({"subject_type": "family"})").empty());

    auto violations = validate(schema, R"({"subject_type": "person"})");
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].code == "schema.required");
    CHECK(violations[0].pointer == "/pesel");

    violations = validate(schema, R"({"subject_type": "person", "pesel": "44051401358"})");
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].code == "value.pesel");

    violations = validate(schema, R"({"subject_type": "family", "pesel": "44051401359"})");
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].code == "schema.not");
    CHECK(violations[0].pointer.empty());
}

TEST_CASE("pointers escape ~ and / in member names", "[schema]") {
    const auto violations = validate(R"({"additionalProperties": {"type": "string"}})", R"({"a/b": 1, "m~n": 2, "ok": "x"})");
    REQUIRE(violations.size() == 2);
    CHECK(violations[0].pointer == "/a~1b");
    CHECK(violations[1].pointer == "/m~0n");
}

TEST_CASE("prefixItems, items and boolean schemas", "[schema]") {
    const std::string schema = R"({"prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false})";
    CHECK(validate(schema, R"(["a", 1])").empty());
    CHECK(validate(schema, R"(["a"])").empty());
    const auto violations = validate(schema, R"([1, 1, true])");
    REQUIRE(violations.size() == 2);
    CHECK(violations[0].pointer == "/0");
    CHECK(violations[0].code == "schema.type");
    CHECK(violations[1].pointer == "/2");
    CHECK(violations[1].code == "schema.false");

    CHECK(SchemaValidator(json("true")).validate(json(R"({"x": 1})")).empty());
    const auto rejected = SchemaValidator(json("false")).validate(json("1"));
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].code == "schema.false");
    CHECK(rejected[0].pointer.empty());
}

TEST_CASE("a compiled validator is reusable and copies share it", "[schema]") {
    const SchemaValidator validator(json(R"({"type": "object", "required": ["a"]})"));
    const SchemaValidator copy = validator;  // NOLINT(performance-unnecessary-copy-initialization)
    for (int i = 0; i < 3; ++i) {
        CHECK(validator.validate(json("{}")).size() == 1);
        CHECK(copy.validate(json(R"({"a": 1})")).empty());
        CHECK(copy.isValid(json(R"({"a": 1})")));
        CHECK_FALSE(validator.isValid(json("[]")));
    }
}
