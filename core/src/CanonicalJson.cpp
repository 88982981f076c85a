// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/core/CanonicalJson.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/JSONException.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Utf8.h"

namespace kooperdoc {
namespace {

std::u16string toUtf16(const std::string& text) {
    std::u16string out;
    auto decoded = utf8::tryDecode(text);
    if (!decoded) {
        for (unsigned char c : text) out.push_back(c);
        return out;
    }
    for (char32_t cp : *decoded) {
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
    }
    return out;
}

void writeString(std::string& out, const std::string& text) {
    out.push_back('"');
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                out += buffer;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out.push_back('"');
}

void writeDouble(std::string& out, double value) {
    if (!std::isfinite(value)) {
        throw Error(ErrorCode::kInvalidArgument, "json.number", "JSON numbers must be finite");
    }
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.0f", value);
        out += (std::string(buffer) == "-0") ? "0" : buffer;
        return;
    }
    char buffer[32];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
        if (std::strtod(buffer, nullptr) == value) break;
    }
    out += buffer;
}

void write(std::string& out, const Poco::Dynamic::Var& value) {
    if (value.isEmpty()) {
        out += "null";
    } else if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
        const auto object = value.extract<Poco::JSON::Object::Ptr>();
        std::vector<std::pair<std::u16string, std::string>> keys;
        for (const auto& [key, unused] : *object) keys.emplace_back(toUtf16(key), key);
        std::sort(keys.begin(), keys.end());
        out.push_back('{');
        bool first = true;
        for (const auto& [sortKey, key] : keys) {
            if (!first) out.push_back(',');
            first = false;
            writeString(out, key);
            out.push_back(':');
            write(out, object->get(key));
        }
        out.push_back('}');
    } else if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
        const auto array = value.extract<Poco::JSON::Array::Ptr>();
        out.push_back('[');
        for (std::size_t i = 0; i < array->size(); ++i) {
            if (i > 0) out.push_back(',');
            write(out, array->get(static_cast<unsigned>(i)));
        }
        out.push_back(']');
    } else if (value.isBoolean()) {
        out += value.extract<bool>() ? "true" : "false";
    } else if (value.isString()) {
        writeString(out, value.extract<std::string>());
    } else if (value.isInteger()) {
        out += value.isSigned() ? std::to_string(value.convert<Poco::Int64>())
                                : std::to_string(value.convert<Poco::UInt64>());
    } else if (value.isNumeric()) {
        writeDouble(out, value.convert<double>());
    } else {
        throw Error(ErrorCode::kInternal, "json.type", "value is not JSON: " + value.toString());
    }
}

/// Poco's handler silently keeps the last of two equal keys; a JSON text with duplicate keys is
/// ambiguous (two parsers may read two different documents), so we refuse it.
class StrictParseHandler : public Poco::JSON::ParseHandler {
public:
    void startObject() override {
        keysPerObject_.emplace_back();
        ParseHandler::startObject();
    }
    void endObject() override {
        keysPerObject_.pop_back();
        ParseHandler::endObject();
    }
    void key(const std::string& k) override {
        if (!keysPerObject_.empty() && !keysPerObject_.back().insert(k).second) {
            throw Error(ErrorCode::kInvalidArgument, "json.duplicate_key",
                        "JSON object has the key \"" + k + "\" twice");
        }
        ParseHandler::key(k);
    }

private:
    std::vector<std::set<std::string>> keysPerObject_;
};

}  // namespace

std::string canonicalJson(const Poco::Dynamic::Var& value) {
    std::string out;
    write(out, value);
    return out;
}

Poco::Dynamic::Var parseJson(const std::string& text) {
    Poco::JSON::Parser parser(new StrictParseHandler);
    try {
        return parser.parse(text);
    } catch (const Poco::Exception& e) {
        throw Error(ErrorCode::kInvalidArgument, "json.syntax", "malformed JSON: " + e.message());
    }
}

}  // namespace kooperdoc
