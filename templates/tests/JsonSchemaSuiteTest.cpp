// SPDX-License-Identifier: AGPL-3.0-or-later
// Runs the official JSON-Schema-Test-Suite (Debian package json-schema-test-suite) against
// SchemaValidator. Debian ships draft3..draft7 only, so we run the draft7 files of the keywords
// whose meaning 2020-12 kept, translating the two draft-07 spellings 2020-12 renamed.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/templates/SchemaValidator.h"

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;
using kooperdoc::templates::SchemaValidator;
using kooperdoc::templates::UnknownKeywords;

namespace {

/// The suite's draft7 directory; KOOPERDOC_JSON_SCHEMA_TEST_SUITE overrides Debian's path.
std::filesystem::path suiteDirectory() {
    if (const char* fromEnv = std::getenv("KOOPERDOC_JSON_SCHEMA_TEST_SUITE"); fromEnv != nullptr) return fromEnv;
    return "/usr/share/json-schema-test-suite/tests/draft7";
}

const std::vector<std::string> kFiles = {
    "type.json", "enum.json", "const.json", "properties.json", "required.json",
    "additionalProperties.json", "patternProperties.json", "propertyNames.json", "minProperties.json",
    "maxProperties.json", "dependencies.json", "minItems.json", "maxItems.json", "uniqueItems.json",
    "contains.json", "items.json", "additionalItems.json", "minLength.json", "maxLength.json", "pattern.json",
    "minimum.json", "maximum.json", "exclusiveMinimum.json", "exclusiveMaximum.json", "multipleOf.json",
    "allOf.json", "anyOf.json", "oneOf.json", "not.json", "if-then-else.json", "boolean_schema.json", "ref.json",
    "definitions.json", "default.json",
    // Our formats that draft 7 defines too: format asserts in Kooperdoc.
    "optional/format/date.json", "optional/format/date-time.json", "optional/format/email.json",
};

struct Skip {
    const char* file;
    const char* group;
    const char* test;  ///< nullptr: every case of the group
    const char* reason;
};

const std::vector<Skip> kSkips = {
    {"dependencies.json", "multiple dependencies subschema", nullptr,
     "schema-valued dependencies are 2020-12 dependentSchemas, which we do not support"},
    {"dependencies.json", "dependencies with boolean subschemas", nullptr,
     "schema-valued dependencies are 2020-12 dependentSchemas, which we do not support"},
    {"ref.json", "ref overrides any sibling keywords", "ref valid, maxItems ignored",
     "draft 7 ignores $ref's siblings; 2020-12 applies them (maxItems: 2 rejects three items)"},
    {"ref.json", "remote ref, containing refs itself", nullptr, "remote $ref (the draft-07 meta-schema URL)"},
    {"ref.json", "Recursive references between schemas", nullptr, "$ref resolved against an embedded $id"},
    {"definitions.json", "valid definition", nullptr, "remote $ref (the draft-07 meta-schema URL)"},
    {"definitions.json", "invalid definition", nullptr, "remote $ref (the draft-07 meta-schema URL)"},
};

const Skip* findSkip(const std::string& file, const std::string& group, const std::string& test) {
    for (const auto& skip : kSkips) {
        if (file == skip.file && group == skip.group && (skip.test == nullptr || test == skip.test)) return &skip;
    }
    return nullptr;
}

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Rewrites draft-07 spellings as 2020-12 ones: the array form of "items" (a tuple) becomes
/// "prefixItems" and "additionalItems" becomes "items" (dropped where draft 7 ignores it);
/// array-valued "dependencies" become "dependentRequired". Data keywords are copied verbatim.
Var translate(const Var& value) {
    if (value.type() == typeid(Array::Ptr)) {
        Array::Ptr out(new Array);
        for (const auto& item : *value.extract<Array::Ptr>()) out->add(translate(item));
        return out;
    }
    if (value.type() != typeid(Object::Ptr)) return value;
    const auto& in = *value.extract<Object::Ptr>();
    Object::Ptr out(new Object);
    for (const auto& [key, member] : in) {
        if (key == "enum" || key == "const" || key == "default" || key == "examples") {
            out->set(key, member);
        } else if (key == "$ref" && member.isString()) {
            static const std::regex kTupleItem("/items/([0-9])");
            out->set(key, std::regex_replace(member.extract<std::string>(), kTupleItem, "/prefixItems/$1"));
        } else {
            out->set(key, translate(member));
        }
    }
    if (out->has("items") && out->get("items").type() == typeid(Array::Ptr)) {
        out->set("prefixItems", out->get("items"));
        out->remove("items");
        if (out->has("additionalItems")) out->set("items", out->get("additionalItems"));
    }
    out->remove("additionalItems");
    if (out->has("dependencies") && out->get("dependencies").type() == typeid(Object::Ptr)) {
        Object::Ptr required(new Object);
        Object::Ptr schemas(new Object);
        for (const auto& [key, member] : *out->getObject("dependencies")) {
            (member.type() == typeid(Array::Ptr) ? required : schemas)->set(key, member);
        }
        out->remove("dependencies");
        if (required->size() > 0) out->set("dependentRequired", required);
        if (schemas->size() > 0) out->set("dependentSchemas", schemas);  // unsupported: skipped above
    }
    return out;
}

}  // namespace

TEST_CASE("JSON-Schema-Test-Suite draft7 cases pass with 2020-12 semantics", "[schema][suite]") {
    const auto directory = suiteDirectory();
    INFO("JSON-Schema-Test-Suite not found at " << directory.string()
                                                << ": install Debian's json-schema-test-suite or set "
                                                   "KOOPERDOC_JSON_SCHEMA_TEST_SUITE");
    REQUIRE(std::filesystem::is_directory(directory));

    int run = 0;
    int passed = 0;
    int skipped = 0;
    std::set<const Skip*> usedSkips;
    for (const auto& file : kFiles) {
        const auto path = directory / file;
        INFO(path.string());
        REQUIRE(std::filesystem::is_regular_file(path));
        const auto groups = kooperdoc::parseJson(readFile(path)).extract<Array::Ptr>();
        for (const auto& groupVar : *groups) {
            const auto group = groupVar.extract<Object::Ptr>();
            const auto groupName = group->getValue<std::string>("description");
            const Var schema = translate(group->get("schema"));
            std::optional<SchemaValidator> validator;
            std::string compileFailure;
            try {
                validator.emplace(schema, UnknownKeywords::kIgnore);
            } catch (const kooperdoc::Error& e) {
                compileFailure = e.what();
            }
            for (const auto& testVar : *group->getArray("tests")) {
                const auto test = testVar.extract<Object::Ptr>();
                const auto testName = test->getValue<std::string>("description");
                if (const Skip* skip = findSkip(file, groupName, testName); skip != nullptr) {
                    ++skipped;
                    usedSkips.insert(skip);
                    continue;
                }
                ++run;
                const bool expected = test->getValue<bool>("valid");
                INFO(file << " / " << groupName << " / " << testName);
                INFO("schema (translated): " << kooperdoc::canonicalJson(schema));
                INFO("data: " << kooperdoc::canonicalJson(test->get("data")) << ", valid: " << expected);
                INFO("compile failure: " << compileFailure);
                REQUIRE(validator.has_value());
                const auto violations = validator->validate(test->get("data"));
                CHECK(violations.empty() == expected);
                CHECK(validator->isValid(test->get("data")) == expected);
                if (violations.empty() == expected) ++passed;
            }
        }
    }
    std::cout << "JSON-Schema-Test-Suite (draft7): " << run << " cases run, " << passed << " passed, " << skipped
              << " skipped\n";
    CHECK(passed == run);
    CHECK(usedSkips.size() == kSkips.size());  // a skip that no longer matches anything is stale
    CHECK(run > 350);
}
