// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/templates/SchemaValidator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <locale>
#include <numeric>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Utf8.h"
#include "kooperdoc/templates/Formats.h"

namespace kooperdoc::templates {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

static_assert(sizeof(wchar_t) == sizeof(char32_t), "patterns are matched on UTF-32 through std::wregex");

/// Nested subschema applications at one validation; with the compile-time cycle check this
/// only trips on absurdly deep schemas, but it keeps the stack bounded whatever the schema.
constexpr int kMaxEvaluationDepth = 512;
constexpr int kMaxSchemaDepth = 256;
/// Deeper than any instance we descend into; beyond it values compare equal (still a
/// consistent order for sorting, see compareJson).
constexpr int kMaxCompareDepth = 2 * SchemaValidator::kMaxInstanceDepth;
constexpr std::size_t kMaxListedValues = 20;
constexpr std::size_t kMaxShownValueBytes = 80;

// ECMAScript syntax as JSON Schema prescribes. libstdc++'s default executor recurses once per
// input character and overflows the stack on a few thousand characters; its Thompson-NFA
// executor (__polynomial) runs in bounded stack and polynomial time, at the price of refusing
// back-references, which no template needs.
constexpr std::regex_constants::syntax_option_type kRegexFlags = std::regex_constants::ECMAScript |
                                                                 std::regex_constants::nosubs
#if defined(__GLIBCXX__)
                                                                 | std::regex_constants::__polynomial
#endif
    ;

// ---------------------------------------------------------------------------------------------
// JSON values as Poco holds them

enum class Kind : std::uint8_t { kNull, kBoolean, kInteger, kNumber, kString, kArray, kObject, kOther };

const Object* asObject(const Var& value) {
    if (value.type() == typeid(Object::Ptr)) return value.extract<Object::Ptr>().get();
    if (value.type() == typeid(Object)) return &value.extract<Object>();
    return nullptr;
}

const Array* asArray(const Var& value) {
    if (value.type() == typeid(Array::Ptr)) return value.extract<Array::Ptr>().get();
    if (value.type() == typeid(Array)) return &value.extract<Array>();
    return nullptr;
}

Kind kindOf(const Var& value) {
    if (value.isEmpty()) return Kind::kNull;
    const std::type_info& type = value.type();
    if (type == typeid(std::string)) return Kind::kString;
    if (type == typeid(Object::Ptr) || type == typeid(Object)) {
        return asObject(value) != nullptr ? Kind::kObject : Kind::kNull;
    }
    if (type == typeid(Array::Ptr) || type == typeid(Array)) return asArray(value) != nullptr ? Kind::kArray : Kind::kNull;
    if (type == typeid(bool)) return Kind::kBoolean;
    if (type == typeid(double) || type == typeid(float)) return Kind::kNumber;
    if (value.isInteger()) return Kind::kInteger;
    return Kind::kOther;
}

bool isNumber(Kind kind) { return kind == Kind::kInteger || kind == Kind::kNumber; }

/// Exact for every JSON number Poco produces: long double holds all 64-bit integers and doubles.
long double numberValue(const Var& value, Kind kind) {
    if (kind == Kind::kInteger) {
        return value.isSigned() ? static_cast<long double>(value.convert<Poco::Int64>())
                                : static_cast<long double>(value.convert<Poco::UInt64>());
    }
    return static_cast<long double>(value.convert<double>());
}

bool isIntegral(const Var& value, Kind kind) {
    if (kind == Kind::kInteger) return true;
    if (kind != Kind::kNumber) return false;
    const double number = value.convert<double>();
    return std::isfinite(number) && std::floor(number) == number;
}

/// |value| = mantissa × 10^exponent with no trailing zero in the mantissa (0 is {0, 0}).
/// multipleOf is decided on these decimal forms, not on binary floating point, so
/// 19.99 is a multiple of 0.01 exactly as the person who wrote the schema means it.
struct Decimal {
    std::uint64_t mantissa = 0;
    int exponent = 0;
};

Decimal normalized(std::uint64_t mantissa, int exponent) {
    if (mantissa == 0) return {};
    while (mantissa % 10 == 0) {
        mantissa /= 10;
        ++exponent;
    }
    return {mantissa, exponent};
}

std::optional<Decimal> decimalOf(const Var& value, Kind kind) {
    if (kind == Kind::kInteger) {
        if (!value.isSigned()) return normalized(value.convert<Poco::UInt64>(), 0);
        const auto number = value.convert<Poco::Int64>();
        const auto magnitude = number < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(number)
                                          : static_cast<std::uint64_t>(number);
        return normalized(magnitude, 0);
    }
    const double number = std::fabs(value.convert<double>());
    if (!std::isfinite(number)) return std::nullopt;
    if (number == 0) return Decimal{};
    // The shortest decimal that reads back as the same double is the number as it was written.
    char buffer[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*e", precision - 1, number);
        if (std::strtod(buffer, nullptr) == number) break;
    }
    std::uint64_t mantissa = 0;
    int fractionDigits = 0;
    bool inFraction = false;
    const char* p = buffer;
    for (; *p != '\0' && *p != 'e'; ++p) {
        if (*p == '.') {
            inFraction = true;
            continue;
        }
        mantissa = mantissa * 10 + static_cast<std::uint64_t>(*p - '0');
        if (inFraction) ++fractionDigits;
    }
    const int exponent = *p == 'e' ? std::atoi(p + 1) : 0;
    return normalized(mantissa, exponent - fractionDigits);
}

std::uint64_t addModulo(std::uint64_t a, std::uint64_t b, std::uint64_t modulus) {
    return a >= modulus - b ? a - (modulus - b) : a + b;
}

bool isMultiple(const Decimal& value, const Decimal& divisor) {
    if (value.mantissa == 0) return true;
    // Both mantissas lack the factor 10, so a value with more decimal places is never a multiple.
    if (value.exponent < divisor.exponent) return false;
    const std::uint64_t modulus = divisor.mantissa;
    std::uint64_t remainder = value.mantissa % modulus;
    for (int i = divisor.exponent; i < value.exponent && remainder != 0; ++i) {
        std::uint64_t times10 = 0;  // remainder × 10 mod modulus without 128-bit arithmetic
        for (int k = 0; k < 10; ++k) times10 = addModulo(times10, remainder, modulus);
        remainder = times10;
    }
    return remainder == 0;
}

int rank(Kind kind) {
    switch (kind) {
    case Kind::kNull: return 0;
    case Kind::kBoolean: return 1;
    case Kind::kInteger:
    case Kind::kNumber: return 2;
    case Kind::kString: return 3;
    case Kind::kArray: return 4;
    case Kind::kObject: return 5;
    case Kind::kOther: break;
    }
    return 6;
}

template <typename T>
int threeWay(const T& a, const T& b) {
    return a < b ? -1 : (b < a ? 1 : 0);
}

/// A total order whose equality is JSON Schema's: 1 == 1.0, object member order irrelevant.
int compareJson(const Var& a, const Var& b, int depth) {
    const Kind kindA = kindOf(a);
    const Kind kindB = kindOf(b);
    if (rank(kindA) != rank(kindB)) return threeWay(rank(kindA), rank(kindB));
    switch (kindA) {
    case Kind::kNull:
    case Kind::kOther: return 0;
    case Kind::kBoolean: return threeWay(a.extract<bool>(), b.extract<bool>());
    case Kind::kInteger:
    case Kind::kNumber: return threeWay(numberValue(a, kindA), numberValue(b, kindB));
    case Kind::kString: {
        const int c = a.extract<std::string>().compare(b.extract<std::string>());
        return (c > 0) - (c < 0);
    }
    case Kind::kArray: {
        if (depth >= kMaxCompareDepth) return 0;
        const Array& x = *asArray(a);
        const Array& y = *asArray(b);
        if (x.size() != y.size()) return threeWay(x.size(), y.size());
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
            if (const int c = compareJson(*i, *j, depth + 1); c != 0) return c;
        }
        return 0;
    }
    case Kind::kObject: {
        if (depth >= kMaxCompareDepth) return 0;
        const Object& x = *asObject(a);
        const Object& y = *asObject(b);
        if (x.size() != y.size()) return threeWay(x.size(), y.size());
        // Both iterate their std::map, so in the same key order.
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
            if (const int c = i->first.compare(j->first); c != 0) return c < 0 ? -1 : 1;
            if (const int c = compareJson(i->second, j->second, depth + 1); c != 0) return c;
        }
        return 0;
    }
    }
    return 0;
}

bool jsonEqual(const Var& a, const Var& b) { return compareJson(a, b, 0) == 0; }

// ---------------------------------------------------------------------------------------------
// Text helpers

void appendEscapedToken(std::string& out, std::string_view token) {
    for (char c : token) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out.push_back(c);
    }
}

std::string escapedToken(std::string_view token) {
    std::string out;
    appendEscapedToken(out, token);
    return out;
}

std::string quotedPl(std::string_view text) { return "„" + std::string(text) + "”"; }
std::string quotedEn(std::string_view text) { return "“" + std::string(text) + "”"; }

std::string shortened(std::string text) {
    if (text.size() <= kMaxShownValueBytes) return text;
    std::size_t cut = kMaxShownValueBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    text.resize(cut);
    return text + "…";
}

/// A JSON value as a person reads it: strings in quotes, numbers with a decimal comma in Polish.
std::string displayValue(const Var& value, bool polish) {
    const Kind kind = kindOf(value);
    if (kind == Kind::kOther) return "?";
    if (kind == Kind::kString) {
        const auto text = shortened(value.extract<std::string>());
        return polish ? quotedPl(text) : quotedEn(text);
    }
    std::string text = shortened(canonicalJson(value));
    if (polish && isNumber(kind)) std::replace(text.begin(), text.end(), '.', ',');
    return text;
}

std::string joinValues(const std::vector<Var>& values, bool polish) {
    std::string out;
    for (std::size_t i = 0; i < values.size() && i < kMaxListedValues; ++i) {
        if (i > 0) out += ", ";
        out += displayValue(values[i], polish);
    }
    if (values.size() > kMaxListedValues) out += ", …";
    return out;
}

// ---------------------------------------------------------------------------------------------
// The compiled schema

constexpr std::uint8_t kTypeNull = 1;
constexpr std::uint8_t kTypeBoolean = 2;
constexpr std::uint8_t kTypeInteger = 4;
constexpr std::uint8_t kTypeNumber = 8;
constexpr std::uint8_t kTypeString = 16;
constexpr std::uint8_t kTypeArray = 32;
constexpr std::uint8_t kTypeObject = 64;

struct TypeName {
    std::string_view name;
    std::uint8_t bit;
    std::string_view pl;
};

constexpr TypeName kTypeNames[] = {
    {"null", kTypeNull, "null"},
    {"boolean", kTypeBoolean, "wartość logiczna (true/false)"},
    {"integer", kTypeInteger, "liczba całkowita"},
    {"number", kTypeNumber, "liczba"},
    {"string", kTypeString, "tekst"},
    {"array", kTypeArray, "lista"},
    {"object", kTypeObject, "obiekt"},
};

std::uint8_t typeBitOf(Kind kind) {
    switch (kind) {
    case Kind::kNull: return kTypeNull;
    case Kind::kBoolean: return kTypeBoolean;
    case Kind::kInteger: return kTypeInteger;
    case Kind::kNumber: return kTypeNumber;
    case Kind::kString: return kTypeString;
    case Kind::kArray: return kTypeArray;
    case Kind::kObject: return kTypeObject;
    case Kind::kOther: break;
    }
    return 0;
}

bool matchesType(std::uint8_t types, const Var& value, Kind kind) {
    if (isNumber(kind)) {
        return (types & kTypeNumber) != 0 || ((types & kTypeInteger) != 0 && isIntegral(value, kind));
    }
    return (types & typeBitOf(kind)) != 0;
}

std::string typeList(std::uint8_t types, bool polish) {
    std::string out;
    for (const auto& type : kTypeNames) {
        if ((types & type.bit) == 0) continue;
        if (!out.empty()) out += polish ? " lub " : " or ";
        out += polish ? type.pl : type.name;
    }
    return out;
}

std::string_view kindName(Kind kind, bool polish) {
    const std::uint8_t bit = kind == Kind::kInteger ? kTypeNumber : typeBitOf(kind);
    for (const auto& type : kTypeNames) {
        if (type.bit == bit) return polish ? type.pl : type.name;
    }
    return polish ? "nieznany typ" : "unknown type";
}

struct Pattern {
    std::string source;
    std::wregex regex;
};

bool search(const Pattern& pattern, const std::wstring& text) { return std::regex_search(text, pattern.regex); }

std::optional<std::wstring> toWide(std::string_view text) {
    auto decoded = utf8::tryDecode(text);
    if (!decoded) return std::nullopt;
    return std::wstring(decoded->begin(), decoded->end());
}

/// A numeric keyword's value, with its text for messages.
struct Bound {
    long double value = 0;
    std::string textPl;
    std::string textEn;
};

struct MultipleOf {
    Decimal decimal;
    std::string textPl;
    std::string textEn;
};

struct Dependency {
    std::string property;
    std::vector<std::string> required;
};

struct Node {
    std::size_t index = 0;
    std::string location;  ///< JSON pointer into the schema, for schema errors
    bool isBoolean = false;
    bool booleanValue = true;
    std::string title;

    std::uint8_t types = 0;  ///< 0: no "type" keyword
    bool hasEnum = false;
    std::vector<Var> enumValues;
    bool hasConst = false;
    Var constValue;

    std::optional<std::size_t> minLength;
    std::optional<std::size_t> maxLength;
    std::optional<Pattern> pattern;
    const Format* format = nullptr;

    std::optional<Bound> minimum;
    std::optional<Bound> maximum;
    std::optional<Bound> exclusiveMinimum;
    std::optional<Bound> exclusiveMaximum;
    std::optional<MultipleOf> multipleOf;

    std::vector<std::pair<std::string, Node*>> properties;  ///< sorted by name
    std::vector<std::pair<Pattern, Node*>> patternProperties;
    Node* additionalProperties = nullptr;
    Node* propertyNames = nullptr;
    std::vector<std::string> required;
    std::optional<std::size_t> minProperties;
    std::optional<std::size_t> maxProperties;
    std::vector<Dependency> dependentRequired;

    std::vector<Node*> prefixItems;
    Node* items = nullptr;
    Node* contains = nullptr;
    std::optional<std::size_t> minItems;
    std::optional<std::size_t> maxItems;
    bool uniqueItems = false;

    std::vector<Node*> allOf;
    std::vector<Node*> anyOf;
    std::vector<Node*> oneOf;
    Node* notSchema = nullptr;
    Node* ifSchema = nullptr;
    Node* thenSchema = nullptr;
    Node* elseSchema = nullptr;
    Node* ref = nullptr;

    bool hasObjectMembers() const {
        return !properties.empty() || !patternProperties.empty() || additionalProperties != nullptr ||
               propertyNames != nullptr;
    }

    const Node* findProperty(std::string_view name) const {
        const auto it = std::lower_bound(properties.begin(), properties.end(), name,
                                         [](const auto& entry, std::string_view key) { return entry.first < key; });
        return it != properties.end() && it->first == name ? it->second : nullptr;
    }

    /// The title a person sees for this subschema: its own, or that of what it refers to.
    std::string_view label() const {
        const Node* node = this;
        for (int hops = 0; node != nullptr && hops < kMaxSchemaDepth; ++hops, node = node->ref) {
            if (!node->title.empty()) return node->title;
        }
        return {};
    }
};

bool isFalseSchema(const Node* node) { return node != nullptr && node->isBoolean && !node->booleanValue; }

// ---------------------------------------------------------------------------------------------
// Compilation

constexpr std::string_view kDraft202012 = "https://json-schema.org/draft/2020-12/schema";

class Compiler {
public:
    Compiler(const Var& root, UnknownKeywords unknown, std::vector<std::unique_ptr<Node>>& nodes)
        : root_(root), unknown_(unknown), nodes_(nodes) {}

    Node* compileRoot() {
        Node* root = compile(root_, "", 0);
        resolveReferences();
        checkCycles();
        return root;
    }

private:
    [[noreturn]] static void fail(const std::string& location, const std::string& message) {
        throw Error(ErrorCode::kInternal, "schema.invalid", "schema #" + location + ": " + message);
    }

    Node* compile(const Var& schema, const std::string& location, int depth) {
        if (depth > kMaxSchemaDepth) fail(location, "nested too deeply");
        auto owned = std::make_unique<Node>();
        Node* node = owned.get();
        node->index = nodes_.size();
        node->location = location;
        nodes_.push_back(std::move(owned));
        byLocation_.emplace(location, node);
        if (kindOf(schema) == Kind::kBoolean) {
            node->isBoolean = true;
            node->booleanValue = schema.extract<bool>();
            return node;
        }
        const Object* object = asObject(schema);
        if (object == nullptr) fail(location, "a schema is an object or a boolean");
        for (const auto& [keyword, value] : *object) compileKeyword(*node, keyword, value, depth);
        return node;
    }

    Node* subschema(const Var& value, const std::string& location, int depth) {
        return compile(value, location, depth + 1);
    }

    std::vector<Node*> schemaArray(const Var& value, const std::string& at, int depth) {
        const Array* array = asArray(value);
        if (array == nullptr || array->size() == 0) fail(at, "must be a non-empty array of schemas");
        std::vector<Node*> out;
        std::size_t index = 0;
        for (const auto& item : *array) out.push_back(subschema(item, at + "/" + std::to_string(index++), depth));
        return out;
    }

    static std::size_t count(const Var& value, const std::string& at) {
        const Kind kind = kindOf(value);
        if (!isIntegral(value, kind) || numberValue(value, kind) < 0 || numberValue(value, kind) > 1e15L) {
            fail(at, "must be a non-negative integer");
        }
        return static_cast<std::size_t>(numberValue(value, kind));
    }

    static Bound bound(const Var& value, const std::string& at) {
        const Kind kind = kindOf(value);
        if (!isNumber(kind)) fail(at, "must be a number");
        Bound out;
        out.value = numberValue(value, kind);
        out.textEn = canonicalJson(value);
        out.textPl = displayValue(value, true);
        return out;
    }

    static std::vector<std::string> uniqueNames(const Var& value, const std::string& at) {
        const Array* array = asArray(value);
        if (array == nullptr) fail(at, "must be an array of strings");
        std::vector<std::string> names;
        for (const auto& item : *array) {
            if (kindOf(item) != Kind::kString) fail(at, "must be an array of strings");
            const auto& name = item.extract<std::string>();
            if (std::find(names.begin(), names.end(), name) != names.end()) fail(at, "repeats \"" + name + "\"");
            names.push_back(name);
        }
        return names;
    }

    static const std::string& requireString(const Var& value, const std::string& at) {
        if (kindOf(value) != Kind::kString) fail(at, "must be a string");
        return value.extract<std::string>();
    }

    static const Object& requireObject(const Var& value, const std::string& at) {
        const Object* object = asObject(value);
        if (object == nullptr) fail(at, "must be an object");
        return *object;
    }

    static Pattern compilePattern(const std::string& source, const std::string& at) {
        const auto wide = toWide(source);
        if (!wide) fail(at, "the pattern is not UTF-8");
        Pattern out;
        out.source = source;
        try {
            out.regex.imbue(std::locale::classic());  // \d, \w and \s stay ASCII whatever the global locale
            out.regex.assign(*wide, kRegexFlags);
        } catch (const std::regex_error& e) {
            fail(at, "unsupported or malformed regular expression \"" + source + "\": " + e.what());
        }
        return out;
    }

    static std::uint8_t parseTypes(const Var& value, const std::string& at) {
        std::vector<std::string> names;
        if (kindOf(value) == Kind::kString) {
            names.push_back(value.extract<std::string>());
        } else {
            names = uniqueNames(value, at);
            if (names.empty()) fail(at, "must name at least one type");
        }
        std::uint8_t bits = 0;
        for (const auto& name : names) {
            const auto* found = std::find_if(std::begin(kTypeNames), std::end(kTypeNames),
                                             [&](const TypeName& type) { return type.name == name; });
            if (found == std::end(kTypeNames)) fail(at, "unknown type \"" + name + "\"");
            bits |= found->bit;
        }
        return bits;
    }

    void compileKeyword(Node& node, const std::string& keyword, const Var& value, int depth) {
        const std::string at = node.location + "/" + escapedToken(keyword);
        const bool isRoot = node.location.empty();
        if (keyword == "type") {
            node.types = parseTypes(value, at);
        } else if (keyword == "enum") {
            const Array* array = asArray(value);
            if (array == nullptr) fail(at, "must be an array");
            node.hasEnum = true;
            node.enumValues.assign(array->begin(), array->end());
        } else if (keyword == "const") {
            node.hasConst = true;
            node.constValue = value;
        } else if (keyword == "properties") {
            for (const auto& [name, schema] : requireObject(value, at)) {
                node.properties.emplace_back(name, subschema(schema, at + "/" + escapedToken(name), depth));
            }
            std::sort(node.properties.begin(), node.properties.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
        } else if (keyword == "patternProperties") {
            for (const auto& [source, schema] : requireObject(value, at)) {
                const std::string location = at + "/" + escapedToken(source);
                node.patternProperties.emplace_back(compilePattern(source, location), subschema(schema, location, depth));
            }
        } else if (keyword == "additionalProperties") {
            node.additionalProperties = subschema(value, at, depth);
        } else if (keyword == "propertyNames") {
            node.propertyNames = subschema(value, at, depth);
        } else if (keyword == "required") {
            node.required = uniqueNames(value, at);
        } else if (keyword == "minProperties") {
            node.minProperties = count(value, at);
        } else if (keyword == "maxProperties") {
            node.maxProperties = count(value, at);
        } else if (keyword == "dependentRequired") {
            for (const auto& [property, names] : requireObject(value, at)) {
                node.dependentRequired.push_back({property, uniqueNames(names, at + "/" + escapedToken(property))});
            }
        } else if (keyword == "items") {
            if (asArray(value) != nullptr) fail(at, "an array of schemas is draft-07 tuple syntax; use prefixItems");
            node.items = subschema(value, at, depth);
        } else if (keyword == "prefixItems") {
            node.prefixItems = schemaArray(value, at, depth);
        } else if (keyword == "contains") {
            node.contains = subschema(value, at, depth);
        } else if (keyword == "minItems") {
            node.minItems = count(value, at);
        } else if (keyword == "maxItems") {
            node.maxItems = count(value, at);
        } else if (keyword == "uniqueItems") {
            if (kindOf(value) != Kind::kBoolean) fail(at, "must be a boolean");
            node.uniqueItems = value.extract<bool>();
        } else if (keyword == "minLength") {
            node.minLength = count(value, at);
        } else if (keyword == "maxLength") {
            node.maxLength = count(value, at);
        } else if (keyword == "pattern") {
            node.pattern = compilePattern(requireString(value, at), at);
        } else if (keyword == "minimum") {
            node.minimum = bound(value, at);
        } else if (keyword == "maximum") {
            node.maximum = bound(value, at);
        } else if (keyword == "exclusiveMinimum") {
            node.exclusiveMinimum = bound(value, at);
        } else if (keyword == "exclusiveMaximum") {
            node.exclusiveMaximum = bound(value, at);
        } else if (keyword == "multipleOf") {
            const Kind kind = kindOf(value);
            const auto decimal = isNumber(kind) ? decimalOf(value, kind) : std::nullopt;
            if (!decimal || decimal->mantissa == 0 || numberValue(value, kind) < 0) fail(at, "must be a number above 0");
            node.multipleOf = MultipleOf{*decimal, displayValue(value, true), canonicalJson(value)};
        } else if (keyword == "allOf") {
            node.allOf = schemaArray(value, at, depth);
        } else if (keyword == "anyOf") {
            node.anyOf = schemaArray(value, at, depth);
        } else if (keyword == "oneOf") {
            node.oneOf = schemaArray(value, at, depth);
        } else if (keyword == "not") {
            node.notSchema = subschema(value, at, depth);
        } else if (keyword == "if") {
            node.ifSchema = subschema(value, at, depth);
        } else if (keyword == "then") {
            node.thenSchema = subschema(value, at, depth);
        } else if (keyword == "else") {
            node.elseSchema = subschema(value, at, depth);
        } else if (keyword == "$ref") {
            pendingReferences_.push_back({&node, requireString(value, at), at});
        } else if (keyword == "$defs" || keyword == "definitions") {
            // Compiled now, not on first use, so a typo in a definition fails even if unused.
            for (const auto& [name, schema] : requireObject(value, at)) subschema(schema, at + "/" + escapedToken(name), depth);
        } else if (keyword == "format") {
            const std::string& name = requireString(value, at);
            node.format = findFormat(name);
            if (node.format == nullptr && unknown_ == UnknownKeywords::kReject) fail(at, "unknown format \"" + name + "\"");
        } else if (keyword == "title") {
            node.title = requireString(value, at);
        } else if (keyword == "description" || keyword == "$comment") {
            requireString(value, at);
        } else if (keyword == "default") {
            // an annotation: any value, never applied
        } else if (keyword == "examples") {
            if (asArray(value) == nullptr) fail(at, "must be an array");
        } else if (keyword == "deprecated" || keyword == "readOnly" || keyword == "writeOnly") {
            if (kindOf(value) != Kind::kBoolean) fail(at, "must be a boolean");
        } else if (keyword == "$schema") {
            const std::string& uri = requireString(value, at);
            if (unknown_ == UnknownKeywords::kReject) {
                if (!isRoot) fail(at, "$schema is allowed only at the root");
                if (uri != kDraft202012 && uri != std::string(kDraft202012) + "#") {
                    fail(at, "only draft 2020-12 (" + std::string(kDraft202012) + ") is supported");
                }
            }
        } else if (keyword == "$id") {
            requireString(value, at);
            // Embedded resources would change how $ref resolves; we support only one document.
            if (!isRoot && unknown_ == UnknownKeywords::kReject) fail(at, "$id is allowed only at the root");
        } else if (unknown_ == UnknownKeywords::kReject) {
            fail(at, "unsupported keyword \"" + keyword + "\"");
        }
    }

    static std::string percentDecoded(std::string_view text, const std::string& at) {
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] != '%') {
                out.push_back(text[i]);
                continue;
            }
            auto hex = [](char c) {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            };
            const int high = i + 2 < text.size() ? hex(text[i + 1]) : -1;
            const int low = high >= 0 ? hex(text[i + 2]) : -1;
            if (low < 0) fail(at, "malformed percent-encoding in $ref");
            out.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        }
        return out;
    }

    /// Resolves a local $ref, compiling its target on demand when it lies where no keyword
    /// we compiled reaches (under kIgnore: inside an unknown keyword).
    Node* resolve(const std::string& ref, const std::string& at) {
        if (ref.empty() || ref.front() != '#') fail(at, "only local references (\"#/…\") are supported, not \"" + ref + "\"");
        const std::string fragment = percentDecoded(std::string_view(ref).substr(1), at);
        if (!fragment.empty() && fragment.front() != '/') fail(at, "anchors are not supported: \"" + ref + "\"");
        std::string canonical;
        Var current = root_;
        std::size_t start = 1;
        while (start <= fragment.size() && !fragment.empty()) {
            const std::size_t slash = std::min(fragment.find('/', start), fragment.size());
            std::string token;
            for (std::size_t i = start; i < slash; ++i) {
                if (fragment[i] != '~') {
                    token.push_back(fragment[i]);
                } else if (i + 1 < slash && (fragment[i + 1] == '0' || fragment[i + 1] == '1')) {
                    token.push_back(fragment[++i] == '0' ? '~' : '/');
                } else {
                    fail(at, "malformed JSON pointer in $ref \"" + ref + "\"");
                }
            }
            canonical += "/" + escapedToken(token);
            if (const Object* object = asObject(current); object != nullptr && object->has(token)) {
                current = object->get(token);
            } else if (const Array* array = asArray(current); array != nullptr && !token.empty() &&
                                                               token.find_first_not_of("0123456789") == std::string::npos &&
                                                               (token == "0" || token.front() != '0') &&
                                                               token.size() < 10 && std::stoul(token) < array->size()) {
                current = *(array->begin() + static_cast<std::ptrdiff_t>(std::stoul(token)));
            } else {
                fail(at, "$ref \"" + ref + "\" points nowhere in the schema");
            }
            start = slash + 1;
        }
        if (const auto found = byLocation_.find(canonical); found != byLocation_.end()) return found->second;
        return compile(current, canonical, 1);
    }

    void resolveReferences() {
        // Indexed: resolving may compile new subschemas, which may add references.
        for (std::size_t i = 0; i < pendingReferences_.size(); ++i) {
            const PendingReference pending = pendingReferences_[i];
            pending.node->ref = resolve(pending.ref, pending.at);
        }
    }

    /// Rejects cycles of subschemas applied to the same instance location ($ref, allOf, not, …):
    /// they would recurse forever whatever the instance.
    void checkCycles() const {
        std::vector<std::uint8_t> state(nodes_.size(), 0);  // 0 new, 1 on the path, 2 done
        std::vector<const Node*> path;
        for (const auto& node : nodes_) visit(*node, state, path);
    }

    void visit(const Node& node, std::vector<std::uint8_t>& state, std::vector<const Node*>& path) const {
        if (state[node.index] == 2) return;
        if (state[node.index] == 1) {
            std::string cycle;
            const auto from = std::find(path.begin(), path.end(), &node);
            for (auto it = from; it != path.end(); ++it) cycle += "#" + (*it)->location + " → ";
            fail(node.location, "subschemas refer to each other without descending into the instance: " + cycle + "#" +
                                    node.location);
        }
        state[node.index] = 1;
        path.push_back(&node);
        auto edge = [&](const Node* next) {
            if (next != nullptr) visit(*next, state, path);
        };
        for (const Node* next : node.allOf) edge(next);
        for (const Node* next : node.anyOf) edge(next);
        for (const Node* next : node.oneOf) edge(next);
        edge(node.notSchema);
        edge(node.ifSchema);
        edge(node.thenSchema);
        edge(node.elseSchema);
        edge(node.ref);
        path.pop_back();
        state[node.index] = 2;
    }

    struct PendingReference {
        Node* node;
        std::string ref;
        std::string at;
    };

    const Var& root_;
    UnknownKeywords unknown_;
    std::vector<std::unique_ptr<Node>>& nodes_;
    std::unordered_map<std::string, Node*> byLocation_;
    std::vector<PendingReference> pendingReferences_;
};

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Walks an instance against the compiled schema. With a violation list it collects everything
/// it finds; without one (inside anyOf, oneOf, not, if, contains, propertyNames, whose branches
/// are not reported one by one) it builds no message and stops at the first failure.
class Evaluator {
public:
    explicit Evaluator(std::vector<Violation>* out) : out_(out) {}

    bool evaluate(const Node& node, const Var& value, std::string_view label) {
        if (node.isBoolean) {
            if (node.booleanValue) return true;
            if (out_ != nullptr) {
                report("schema.false", subjectPl(label) + " nie może wystąpić w tym miejscu.",
                       subjectEn(label) + " is not allowed here.");
            }
            return false;
        }
        if (evaluationDepth_ >= kMaxEvaluationDepth) {
            reportDepth(label);
            return false;
        }
        const Frame frame(*this, node);
        if (label.empty()) label = node.title;  // the outermost title at a location names it
        const Kind kind = kindOf(value);
        if (node.types != 0 && !matchesType(node.types, value, kind)) {
            if (out_ != nullptr) {
                report("schema.type",
                       subjectPl(label) + " ma nieprawidłowy typ: oczekiwano: " + typeList(node.types, true) +
                           ", podano: " + std::string(kindName(kind, true)) + ".",
                       subjectEn(label) + " must be " + typeList(node.types, false) + ", not " +
                           std::string(kindName(kind, false)) + ".");
            }
            return false;  // the other keywords would only repeat the complaint
        }
        bool valid = true;
        if (node.hasEnum &&
            std::none_of(node.enumValues.begin(), node.enumValues.end(), [&](const Var& v) { return jsonEqual(v, value); })) {
            if (out_ == nullptr) return false;
            valid = false;
            report("schema.enum",
                   subjectPl(label) + " ma niedozwoloną wartość; dozwolone wartości: " + joinValues(node.enumValues, true) + ".",
                   subjectEn(label) + " must be one of: " + joinValues(node.enumValues, false) + ".");
        }
        if (node.hasConst && !jsonEqual(node.constValue, value)) {
            if (out_ == nullptr) return false;
            valid = false;
            report("schema.const", subjectPl(label) + " musi mieć wartość " + displayValue(node.constValue, true) + ".",
                   subjectEn(label) + " must be " + displayValue(node.constValue, false) + ".");
        }
        bool ok = true;
        switch (kind) {
        case Kind::kString: ok = checkString(node, value.extract<std::string>(), label); break;
        case Kind::kInteger:
        case Kind::kNumber: ok = checkNumber(node, value, kind, label); break;
        case Kind::kObject: ok = checkObject(node, *asObject(value), label); break;
        case Kind::kArray: ok = checkArray(node, *asArray(value), label); break;
        default: break;
        }
        if (!ok) {
            if (out_ == nullptr) return false;
            valid = false;
        }
        if (!applySubschemas(node, value, label)) {
            if (out_ == nullptr) return false;
            valid = false;
        }
        return valid;
    }

private:
    /// Registers a subschema applied at the current instance location, for the duration of its
    /// evaluation, so "required" can name a property by the title another subschema gives it.
    class Frame {
    public:
        Frame(Evaluator& evaluator, const Node& node) : evaluator_(evaluator) {
            ++evaluator_.evaluationDepth_;
            evaluator_.applied_.push_back(&node);
        }
        ~Frame() {
            evaluator_.applied_.pop_back();
            --evaluator_.evaluationDepth_;
        }
        Frame(const Frame&) = delete;
        Frame& operator=(const Frame&) = delete;

    private:
        Evaluator& evaluator_;
    };

    /// Moves the pointer to a member or item, for the duration of its evaluation.
    class Descent {
    public:
        Descent(Evaluator& evaluator, std::string_view key) : Descent(evaluator) {
            evaluator_.pointer_ += '/';
            appendEscapedToken(evaluator_.pointer_, key);
        }
        Descent(Evaluator& evaluator, std::size_t index) : Descent(evaluator) {
            evaluator_.pointer_ += '/';
            evaluator_.pointer_ += std::to_string(index);
        }
        ~Descent() {
            evaluator_.pointer_.resize(pointerSize_);
            evaluator_.locationStart_ = locationStart_;
            --evaluator_.instanceDepth_;
        }
        Descent(const Descent&) = delete;
        Descent& operator=(const Descent&) = delete;

    private:
        explicit Descent(Evaluator& evaluator)
            : evaluator_(evaluator), pointerSize_(evaluator.pointer_.size()), locationStart_(evaluator.locationStart_) {
            ++evaluator_.instanceDepth_;
            evaluator_.locationStart_ = evaluator_.applied_.size();
        }

        Evaluator& evaluator_;
        std::size_t pointerSize_;
        std::size_t locationStart_;
    };

    /// Evaluates without collecting (the caller reports one violation for the whole keyword).
    class Quiet {
    public:
        explicit Quiet(Evaluator& evaluator) : evaluator_(evaluator), saved_(evaluator.out_) { evaluator_.out_ = nullptr; }
        ~Quiet() { evaluator_.out_ = saved_; }
        Quiet(const Quiet&) = delete;
        Quiet& operator=(const Quiet&) = delete;

    private:
        Evaluator& evaluator_;
        std::vector<Violation>* saved_;
    };

    bool quietly(const Node& node, const Var& value) {
        const Quiet quiet(*this);
        return evaluate(node, value, {});
    }

    /// Evaluates a member or item the caller has descended to.
    bool evaluateChild(const Node& node, const Var& value) {
        if (node.isBoolean && node.booleanValue) return true;
        if (instanceDepth_ > SchemaValidator::kMaxInstanceDepth) {
            reportDepth({});
            return false;
        }
        return evaluate(node, value, {});
    }

    std::string subjectPl(std::string_view label) const {
        if (!label.empty()) return "Pole " + quotedPl(label);
        if (pointer_.empty()) return "Dokument";
        return "Pole " + quotedPl(pointer_);
    }

    std::string subjectEn(std::string_view label) const {
        if (!label.empty()) return "Field " + quotedEn(label);
        if (pointer_.empty()) return "The document";
        return "Field " + quotedEn(pointer_);
    }

    void report(std::string_view code, std::string messagePl, std::string messageEn) {
        reportAt(pointer_, code, std::move(messagePl), std::move(messageEn));
    }

    void reportAt(std::string pointer, std::string_view code, std::string messagePl, std::string messageEn) {
        out_->push_back(Violation{std::move(pointer), std::string(code), std::move(messagePl), std::move(messageEn)});
    }

    void reportDepth(std::string_view label) {
        if (out_ == nullptr) return;
        const std::string limit = std::to_string(SchemaValidator::kMaxInstanceDepth);
        report("schema.depth", subjectPl(label) + " ma zbyt głęboko zagnieżdżoną strukturę (limit: " + limit + " poziomy).",
               subjectEn(label) + " is nested too deeply (the limit is " + limit + " levels).");
    }

    std::string memberPointer(std::string_view name) const {
        std::string pointer = pointer_ + "/";
        appendEscapedToken(pointer, name);
        return pointer;
    }

    /// How a person knows the property `name` of the current object: the title some subschema
    /// applied here gives it (the innermost that has one), else its name.
    std::string_view propertyLabel(std::string_view name) const {
        for (std::size_t i = applied_.size(); i > locationStart_; --i) {
            if (const Node* property = applied_[i - 1]->findProperty(name); property != nullptr) {
                if (const auto label = property->label(); !label.empty()) return label;
            }
        }
        return name;
    }

    bool checkString(const Node& node, const std::string& text, std::string_view label) {
        if (!node.minLength && !node.maxLength && !node.pattern && node.format == nullptr) return true;
        bool valid = true;
        std::optional<std::wstring> wide;
        if (node.minLength || node.maxLength || node.pattern) {
            wide = toWide(text);
            if (!wide) {
                if (out_ != nullptr) {
                    report("value.utf8", subjectPl(label) + " zawiera nieprawidłowo zakodowany tekst (wymagane UTF-8).",
                           subjectEn(label) + " is not valid UTF-8.");
                }
                return false;
            }
        }
        const std::size_t length = wide ? wide->size() : 0;
        if (node.minLength && length < *node.minLength) {
            if (out_ == nullptr) return false;
            valid = false;
            if (length == 0 && !(label.empty() && pointer_.empty())) {
                report("schema.min_length", subjectPl(label) + " nie może być puste.", subjectEn(label) + " must not be empty.");
            } else {
                report("schema.min_length",
                       subjectPl(label) + " ma za krótki tekst (minimalna liczba znaków: " + std::to_string(*node.minLength) +
                           ", podano: " + std::to_string(length) + ").",
                       subjectEn(label) + " is too short (at least " + std::to_string(*node.minLength) +
                           " characters, got " + std::to_string(length) + ").");
            }
        }
        if (node.maxLength && length > *node.maxLength) {
            if (out_ == nullptr) return false;
            valid = false;
            report("schema.max_length",
                   subjectPl(label) + " ma za długi tekst (maksymalna liczba znaków: " + std::to_string(*node.maxLength) +
                       ", podano: " + std::to_string(length) + ").",
                   subjectEn(label) + " is too long (at most " + std::to_string(*node.maxLength) + " characters, got " +
                       std::to_string(length) + ").");
        }
        if (node.pattern && !search(*node.pattern, *wide)) {
            if (out_ == nullptr) return false;
            valid = false;
            report("schema.pattern", subjectPl(label) + " ma nieprawidłowy format.",
                   subjectEn(label) + " does not match the pattern " + node.pattern->source + ".");
        }
        if (node.format != nullptr && !node.format->check(text)) {
            if (out_ == nullptr) return false;
            valid = false;
            report(node.format->code, subjectPl(label) + " nie zawiera " + std::string(node.format->expectedPl) + ".",
                   subjectEn(label) + " is not " + std::string(node.format->expectedEn) + ".");
        }
        return valid;
    }

    bool checkNumber(const Node& node, const Var& value, Kind kind, std::string_view label) {
        bool valid = true;
        const long double number = numberValue(value, kind);
        auto fail = [&](std::string_view code, const std::string& pl, const std::string& en) {
            valid = false;
            if (out_ != nullptr) report(code, subjectPl(label) + pl, subjectEn(label) + en);
            return out_ == nullptr;
        };
        if (node.minimum && number < node.minimum->value &&
            fail("schema.minimum", " ma za małą wartość (minimum: " + node.minimum->textPl + ").",
                 " must be at least " + node.minimum->textEn + ".")) {
            return false;
        }
        if (node.maximum && number > node.maximum->value &&
            fail("schema.maximum", " ma za dużą wartość (maksimum: " + node.maximum->textPl + ").",
                 " must be at most " + node.maximum->textEn + ".")) {
            return false;
        }
        if (node.exclusiveMinimum && number <= node.exclusiveMinimum->value &&
            fail("schema.exclusive_minimum",
                 " ma za małą wartość (musi być większa niż " + node.exclusiveMinimum->textPl + ").",
                 " must be greater than " + node.exclusiveMinimum->textEn + ".")) {
            return false;
        }
        if (node.exclusiveMaximum && number >= node.exclusiveMaximum->value &&
            fail("schema.exclusive_maximum",
                 " ma za dużą wartość (musi być mniejsza niż " + node.exclusiveMaximum->textPl + ").",
                 " must be less than " + node.exclusiveMaximum->textEn + ".")) {
            return false;
        }
        if (node.multipleOf) {
            const auto decimal = decimalOf(value, kind);
            if ((!decimal || !isMultiple(*decimal, node.multipleOf->decimal)) &&
                fail("schema.multiple_of",
                     " ma nieprawidłową wartość (musi być wielokrotnością liczby " + node.multipleOf->textPl + ").",
                     " must be a multiple of " + node.multipleOf->textEn + ".")) {
                return false;
            }
        }
        return valid;
    }

    bool checkObject(const Node& node, const Object& object, std::string_view label) {
        bool valid = true;
        for (const auto& name : node.required) {
            if (object.has(name)) continue;
            if (out_ == nullptr) return false;
            valid = false;
            const auto property = propertyLabel(name);
            reportAt(memberPointer(name), "schema.required", "Pole " + quotedPl(property) + " jest wymagane.",
                     "Field " + quotedEn(property) + " is required.");
        }
        if (node.minProperties && object.size() < *node.minProperties) {
            if (out_ == nullptr) return false;
            valid = false;
            report("schema.min_properties",
                   subjectPl(label) + " ma za mało pól (minimum: " + std::to_string(*node.minProperties) + ").",
                   subjectEn(label) + " has fewer than " + std::to_string(*node.minProperties) + " fields.");
        }
        if (node.maxProperties && object.size() > *node.maxProperties) {
            if (out_ == nullptr) return false;
            valid = false;
            report("schema.max_properties",
                   subjectPl(label) + " ma za dużo pól (maksimum: " + std::to_string(*node.maxProperties) + ").",
                   subjectEn(label) + " has more than " + std::to_string(*node.maxProperties) + " fields.");
        }
        for (const auto& dependency : node.dependentRequired) {
            if (!object.has(dependency.property)) continue;
            for (const auto& name : dependency.required) {
                if (object.has(name)) continue;
                if (out_ == nullptr) return false;
                valid = false;
                const std::string property(propertyLabel(name));
                const std::string trigger(propertyLabel(dependency.property));
                reportAt(memberPointer(name), "schema.dependent_required",
                         "Pole " + quotedPl(property) + " jest wymagane, gdy wypełniono pole " + quotedPl(trigger) + ".",
                         "Field " + quotedEn(property) + " is required when " + quotedEn(trigger) + " is present.");
            }
        }
        if (!node.hasObjectMembers()) return valid;
        for (const auto& [key, member] : object) {
            const Descent descent(*this, key);
            bool matched = false;
            bool memberValid = true;
            if (const Node* property = node.findProperty(key); property != nullptr) {
                matched = true;
                memberValid = evaluateChild(*property, member) && memberValid;
            }
            if (!node.patternProperties.empty() && (memberValid || out_ != nullptr)) {
                const auto wideKey = toWide(key);
                for (const auto& [pattern, schema] : node.patternProperties) {
                    if (!wideKey || !search(pattern, *wideKey)) continue;
                    matched = true;
                    memberValid = evaluateChild(*schema, member) && memberValid;
                    if (!memberValid && out_ == nullptr) break;
                }
            }
            if (!matched && node.additionalProperties != nullptr && (memberValid || out_ != nullptr)) {
                if (isFalseSchema(node.additionalProperties)) {
                    memberValid = false;
                    if (out_ != nullptr) {
                        report("schema.additional_property", "Pole " + quotedPl(key) + " nie jest dozwolone w tym miejscu.",
                               "Field " + quotedEn(key) + " is not allowed here.");
                    }
                } else {
                    memberValid = evaluateChild(*node.additionalProperties, member) && memberValid;
                }
            }
            if (node.propertyNames != nullptr && (memberValid || out_ != nullptr) &&
                !quietly(*node.propertyNames, Var(key))) {
                memberValid = false;
                if (out_ != nullptr) {
                    report("schema.property_name", "Nazwa pola " + quotedPl(key) + " jest niedozwolona.",
                           "The field name " + quotedEn(key) + " is not allowed.");
                }
            }
            if (!memberValid) {
                if (out_ == nullptr) return false;
                valid = false;
            }
        }
        return valid;
    }

    bool checkArray(const Node& node, const Array& array, std::string_view label) {
        bool valid = true;
        const std::size_t size = array.size();
        if (node.minItems && size < *node.minItems) {
            if (out_ == nullptr) return false;
            valid = false;
            report("schema.min_items",
                   subjectPl(label) + " ma za mało pozycji (minimum: " + std::to_string(*node.minItems) +
                       ", podano: " + std::to_string(size) + ").",
                   subjectEn(label) + " has too few items (at least " + std::to_string(*node.minItems) + ", got " +
                       std::to_string(size) + ").");
        }
        if (node.maxItems && size > *node.maxItems) {
            if (out_ == nullptr) return false;
            valid = false;
            report("schema.max_items",
                   subjectPl(label) + " ma za dużo pozycji (maksimum: " + std::to_string(*node.maxItems) +
                       ", podano: " + std::to_string(size) + ").",
                   subjectEn(label) + " has too many items (at most " + std::to_string(*node.maxItems) + ", got " +
                       std::to_string(size) + ").");
        }
        if (node.uniqueItems && size > 1 && !checkUnique(array, label)) {
            if (out_ == nullptr) return false;
            valid = false;
        }
        if (!node.prefixItems.empty() || node.items != nullptr) {
            std::size_t index = 0;
            for (const auto& item : array) {
                const Node* schema = index < node.prefixItems.size() ? node.prefixItems[index] : node.items;
                if (schema == nullptr) break;
                const Descent descent(*this, index++);
                if (!evaluateChild(*schema, item)) {
                    if (out_ == nullptr) return false;
                    valid = false;
                }
            }
        }
        if (node.contains != nullptr) {
            bool found = false;
            std::size_t index = 0;
            for (auto it = array.begin(); it != array.end() && !found; ++it) {
                const Descent descent(*this, index++);
                const Quiet quiet(*this);
                found = evaluateChild(*node.contains, *it);
            }
            if (!found) {
                if (out_ == nullptr) return false;
                valid = false;
                report("schema.contains", subjectPl(label) + " nie zawiera żadnej pozycji spełniającej wymagania.",
                       subjectEn(label) + " contains no item that matches the required schema.");
            }
        }
        return valid;
    }

    /// Sorting makes this O(n log n); each repeated item is reported at its own pointer.
    bool checkUnique(const Array& array, std::string_view label) {
        std::vector<const Var*> items;
        items.reserve(array.size());
        for (const auto& item : array) items.push_back(&item);
        std::vector<std::size_t> order(items.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return compareJson(*items[a], *items[b], 0) < 0; });
        std::vector<std::pair<std::size_t, std::size_t>> repeats;  // (repeat, first occurrence)
        std::size_t groupStart = 0;
        for (std::size_t i = 1; i < order.size(); ++i) {
            if (compareJson(*items[order[groupStart]], *items[order[i]], 0) != 0) {
                groupStart = i;
                continue;
            }
            if (out_ == nullptr) return false;
            repeats.emplace_back(order[i], order[groupStart]);
        }
        std::sort(repeats.begin(), repeats.end());
        for (const auto& [repeat, first] : repeats) {
            reportAt(pointer_ + "/" + std::to_string(repeat), "schema.unique_items",
                     subjectPl(label) + ": pozycja nr " + std::to_string(repeat + 1) + " powtarza pozycję nr " +
                         std::to_string(first + 1) + ".",
                     subjectEn(label) + ": item " + std::to_string(repeat + 1) + " repeats item " +
                         std::to_string(first + 1) + ".");
        }
        return repeats.empty();
    }

    bool applySubschemas(const Node& node, const Var& value, std::string_view label) {
        bool valid = true;
        auto failed = [&]() {
            valid = false;
            return out_ == nullptr;
        };
        if (node.ref != nullptr && !evaluate(*node.ref, value, label) && failed()) return false;
        for (const Node* schema : node.allOf) {
            if (!evaluate(*schema, value, label) && failed()) return false;
        }
        if (!node.anyOf.empty() &&
            std::none_of(node.anyOf.begin(), node.anyOf.end(), [&](const Node* schema) { return quietly(*schema, value); })) {
            if (failed()) return false;
            report("schema.any_of", subjectPl(label) + " nie spełnia żadnego z dopuszczalnych wariantów.",
                   subjectEn(label) + " matches none of the allowed alternatives.");
        }
        if (!node.oneOf.empty()) {
            std::size_t matches = 0;
            for (const Node* schema : node.oneOf) {
                if (quietly(*schema, value)) ++matches;
                if (matches > 1 && out_ == nullptr) break;
            }
            if (matches != 1) {
                if (failed()) return false;
                report("schema.one_of",
                       subjectPl(label) + " musi spełniać dokładnie jeden z wariantów (spełnia: " + std::to_string(matches) + ").",
                       subjectEn(label) + " must match exactly one alternative (it matches " + std::to_string(matches) + ").");
            }
        }
        if (node.notSchema != nullptr && quietly(*node.notSchema, value)) {
            if (failed()) return false;
            report("schema.not", subjectPl(label) + " ma niedozwoloną wartość.",
                   subjectEn(label) + " matches a schema it must not match.");
        }
        if (node.ifSchema != nullptr) {
            const Node* branch = quietly(*node.ifSchema, value) ? node.thenSchema : node.elseSchema;
            if (branch != nullptr && !evaluate(*branch, value, label) && failed()) return false;
        }
        return valid;
    }

    std::vector<Violation>* out_;
    std::string pointer_;
    int instanceDepth_ = 0;
    int evaluationDepth_ = 0;
    std::vector<const Node*> applied_;  ///< subschemas being applied, outermost first
    std::size_t locationStart_ = 0;     ///< where those applied at the current location begin
};

}  // namespace

struct SchemaValidator::Compiled {
    std::vector<std::unique_ptr<Node>> nodes;
    const Node* root = nullptr;
};

SchemaValidator::SchemaValidator(const Poco::Dynamic::Var& schema, UnknownKeywords unknown) {
    auto compiled = std::make_shared<Compiled>();
    compiled->root = Compiler(schema, unknown, compiled->nodes).compileRoot();
    compiled_ = std::move(compiled);
}

std::vector<Violation> SchemaValidator::validate(const Poco::Dynamic::Var& instance) const {
    std::vector<Violation> violations;
    Evaluator(&violations).evaluate(*compiled_->root, instance, {});
    // Two subschemas may say the same thing about one value (allOf of overlapping schemas).
    std::unordered_set<std::string> seen;
    std::vector<Violation> unique;
    unique.reserve(violations.size());
    for (auto& violation : violations) {
        if (seen.insert(violation.pointer + '\0' + violation.code + '\0' + violation.messagePl).second) {
            unique.push_back(std::move(violation));
        }
    }
    return unique;
}

bool SchemaValidator::isValid(const Poco::Dynamic::Var& instance) const {
    return Evaluator(nullptr).evaluate(*compiled_->root, instance, {});
}

}  // namespace kooperdoc::templates
