// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/templates/Engine.h"

#include <cstdio>
#include <map>
#include <memory>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <kainjow/mustache.hpp>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Repertoire.h"
#include "kooperdoc/core/Utf8.h"
#include "kooperdoc/templates/Markup.h"

namespace kooperdoc::templates {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
namespace mustache = kainjow::mustache;

std::string escapePointerToken(const std::string& token) {
    std::string out;
    for (char c : token) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

void checkRepertoire(const Poco::Dynamic::Var& value, const std::string& pointer, std::vector<Violation>& out) {
    if (value.type() == typeid(Object::Ptr)) {
        for (const auto& [key, child] : *value.extract<Object::Ptr>()) {
            checkRepertoire(child, pointer + "/" + escapePointerToken(key), out);
        }
    } else if (value.type() == typeid(Array::Ptr)) {
        const auto array = value.extract<Array::Ptr>();
        for (std::size_t i = 0; i < array->size(); ++i) {
            checkRepertoire(array->get(static_cast<unsigned>(i)), pointer + "/" + std::to_string(i), out);
        }
    } else if (value.isString()) {
        const auto decoded = utf8::tryDecode(value.extract<std::string>());
        if (!decoded) {
            out.push_back({pointer, "value.utf8", "Tekst nie jest poprawnym UTF-8.", "Text is not valid UTF-8."});
            return;
        }
        for (std::size_t i = 0; i < decoded->size(); ++i) {
            const char32_t cp = (*decoded)[i];
            if (cp == U'\n' || cp == U'\t' || isPrintable(cp)) continue;
            char hex[16];
            std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(cp));
            const std::string position = std::to_string(i + 1);
            out.push_back({pointer, "value.unsupported_character",
                           std::string("Znak ") + hex + " (pozycja " + position +
                               ") nie może zostać wydrukowany w dokumencie.",
                           std::string("Character ") + hex + " (position " + position +
                               ") cannot be printed in the document."});
            return;  // one report per value is enough to fix it
        }
    }
}

std::string formatNumber(const Poco::Dynamic::Var& value) {
    if (value.isInteger()) return value.convert<std::string>();
    // Polish documents write decimals with a comma.
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.15g", value.convert<double>());
    std::string text = buffer;
    for (auto& c : text) {
        if (c == '.') c = ',';
    }
    return text;
}

mustache::data toMustache(const Poco::Dynamic::Var& value);

/// Enum-like values (lower-case ASCII codes such as "family" or "in_progress") get an `_is`
/// entry, so a template can branch on them: {{#_is.subject_type.family}}rodzina{{/_is.subject_type.family}}.
bool isCode(const std::string& text) {
    if (text.empty() || text.size() > 40) return false;
    for (char c : text) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    return true;
}

mustache::data objectToMustache(const Object::Ptr& object) {
    mustache::data data{mustache::data::type::object};
    mustache::data counts{mustache::data::type::object};
    mustache::data many{mustache::data::type::object};
    mustache::data is{mustache::data::type::object};
    bool hasArrays = false;
    bool hasCodes = false;
    for (const auto& [key, child] : *object) {
        data.set(key, toMustache(child));
        if (child.isString() && isCode(child.extract<std::string>())) {
            mustache::data value{mustache::data::type::object};
            value.set(child.extract<std::string>(), mustache::data::type::bool_true);
            is.set(key, value);
            hasCodes = true;
        }
        if (child.type() == typeid(Array::Ptr)) {
            const auto size = child.extract<Array::Ptr>()->size();
            counts.set(key, std::to_string(size));
            many.set(key, size > 1 ? mustache::data::type::bool_true : mustache::data::type::bool_false);
            hasArrays = true;
        }
    }
    if (hasArrays) {
        data.set("_count", counts);
        data.set("_many", many);
    }
    if (hasCodes) data.set("_is", is);
    return data;
}

mustache::data toMustache(const Poco::Dynamic::Var& value) {
    if (value.isEmpty()) return mustache::data::type::bool_false;
    if (value.type() == typeid(Object::Ptr)) return objectToMustache(value.extract<Object::Ptr>());
    if (value.type() == typeid(Array::Ptr)) {
        const auto array = value.extract<Array::Ptr>();
        mustache::data list{mustache::data::type::list};
        for (std::size_t i = 0; i < array->size(); ++i) {
            const auto item = array->get(static_cast<unsigned>(i));
            auto converted = toMustache(item);
            if (converted.is_object()) {
                converted.set("_n", std::to_string(i + 1));
                converted.set("_first", i == 0 ? mustache::data::type::bool_true : mustache::data::type::bool_false);
                converted.set("_last", i + 1 == array->size() ? mustache::data::type::bool_true
                                                               : mustache::data::type::bool_false);
            }
            list.push_back(converted);
        }
        return list;
    }
    if (value.isBoolean()) {
        return value.extract<bool>() ? mustache::data::type::bool_true : mustache::data::type::bool_false;
    }
    if (value.isString()) return mustache::data{value.extract<std::string>()};
    return mustache::data{formatNumber(value)};
}

std::string polishDate(const std::string& text) {
    // The schema's "date" format has already guaranteed YYYY-MM-DD; anything else passes through.
    if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
        return text.substr(8, 2) + "." + text.substr(5, 2) + "." + text.substr(0, 4);
    }
    return text;
}

mustache::data buildContext(const Template& tmpl, const Poco::Dynamic::Var& input, const TenantProfile& tenant) {
    mustache::data context = toMustache(input);
    if (!context.is_object()) context = mustache::data{mustache::data::type::object};
    mustache::data tenantData{mustache::data::type::object};
    for (const auto& key : tmpl.metadata().usesTenant) {
        const auto it = tenant.fields.find(key);
        tenantData.set(key, it == tenant.fields.end() ? std::string() : it->second);
    }
    context.set("tenant", tenantData);
    // Lambdas receive the section's raw text; render it first, then transform the result. The
    // rendered text is already XML-escaped, and both transforms keep escapes intact.
    context.set("_date", mustache::lambda2{[](const std::string& text, const mustache::renderer& render) {
                    return polishDate(render(text));
                }});
    context.set("_upper", mustache::lambda2{[](const std::string& text, const mustache::renderer& render) {
                    return utf8::toUpper(render(text));
                }});
    return context;
}

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::vector<Violation> validateInput(const Template& tmpl, const Poco::Dynamic::Var& input) {
    auto violations = tmpl.validator().validate(input);
    checkRepertoire(input, "", violations);
    return violations;
}

namespace {

/// kainjow's render() mutates the template object, so each thread keeps its own compiled copy,
/// keyed by the template's content hash (never by address: catalogs may come and go).
mustache::mustache& compiledBody(const Template& tmpl) {
    thread_local std::map<std::string, std::unique_ptr<mustache::mustache>> cache;
    auto& slot = cache[tmpl.sha256()];
    if (!slot) {
        slot = std::make_unique<mustache::mustache>(tmpl.body());
        if (!slot->is_valid()) {
            const auto message = slot->error_message();
            slot.reset();
            throw Error(ErrorCode::kInternal, "template.mustache", tmpl.metadata().id + "/body.mustache: " + message);
        }
    }
    return *slot;
}

}  // namespace

std::string expandMarkup(const Template& tmpl, const Poco::Dynamic::Var& input, const TenantProfile& tenant) {
    auto& compiled = compiledBody(tmpl);
    auto markup = compiled.render(buildContext(tmpl, input, tenant));
    if (!compiled.is_valid()) {
        throw Error(ErrorCode::kInternal, "template.mustache",
                    tmpl.metadata().id + "/body.mustache: " + compiled.error_message());
    }
    return markup;
}

std::string deriveDocumentId(const Template& tmpl, const std::string& inputSha256) {
    const auto digest = sha256(tmpl.metadata().id + '\n' + tmpl.metadata().version + '\n' + inputSha256);
    std::string id = "KD";
    // 80 bits in 16 base32 digits: collisions need ~2^40 documents of one template and input.
    std::uint64_t bits = 0;
    int available = 0;
    std::size_t next = 0;
    for (int digit = 0; digit < 16; ++digit) {
        if (available < 5) {
            bits = (bits << 8) | digest[next++];
            available += 8;
        }
        if (digit % 4 == 0) id += '-';
        id += kCrockford[(bits >> (available - 5)) & 31];
        available -= 5;
    }
    return id;
}

doc::Document renderDocument(const Template& tmpl, const Poco::Dynamic::Var& input, const TenantProfile& tenant,
                             const RenderOptions& options) {
    auto violations = validateInput(tmpl, input);
    if (!violations.empty()) throw ValidationError(std::move(violations));

    doc::Document document;
    const auto& meta = tmpl.metadata();
    auto& provenance = document.provenance;
    provenance.title = meta.title;
    provenance.templateId = meta.id;
    provenance.templateVersion = meta.version;
    provenance.templateSha256 = tmpl.sha256();
    provenance.inputSha256 = sha256Hex(canonicalJson(input));
    provenance.createdEpochSeconds = options.createdEpochSeconds;
    provenance.documentId = options.documentId.empty() ? deriveDocumentId(tmpl, provenance.inputSha256)
                                                       : options.documentId;
    provenance.documentNumber = provenance.documentId;
    if (!meta.caseNumberPointer.empty() && input.type() == typeid(Object::Ptr)) {
        const auto object = input.extract<Object::Ptr>();
        const auto key = meta.caseNumberPointer.substr(1);
        if (object->has(key) && object->get(key).isString()) {
            provenance.documentNumber = object->get(key).extract<std::string>();
        }
    }

    auto blocks = parseMarkup(expandMarkup(tmpl, input, tenant));
    if (!options.section.empty()) {
        doc::Blocks selected;
        for (auto& block : blocks) {
            if (block.kind == doc::Block::Kind::kSection && block.sectionId == options.section) {
                selected.push_back(std::move(block));
            }
        }
        if (selected.empty()) {
            throw Error(ErrorCode::kNotFound, "template.section_unknown",
                        "template \"" + meta.id + "\" has no section \"" + options.section + "\"");
        }
        blocks = std::move(selected);
    }
    document.blocks = std::move(blocks);
    return document;
}

}  // namespace kooperdoc::templates
