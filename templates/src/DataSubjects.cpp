// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/templates/DataSubjects.h"

#include <algorithm>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

namespace kooperdoc::templates {
namespace {

using Poco::Dynamic::Var;

std::vector<std::string> segmentsOf(const std::string& pointer) {
    std::vector<std::string> segments;
    std::size_t start = 1;  // skip the leading '/'
    while (start <= pointer.size()) {
        std::size_t end = pointer.find('/', start);
        if (end == std::string::npos) end = pointer.size();
        std::string segment = pointer.substr(start, end - start);
        // RFC 6901 escapes: ~1 is '/', ~0 is '~' (in that order).
        for (std::size_t at = segment.find("~1"); at != std::string::npos; at = segment.find("~1", at + 1)) segment.replace(at, 2, "/");
        for (std::size_t at = segment.find("~0"); at != std::string::npos; at = segment.find("~0", at + 1)) segment.replace(at, 2, "~");
        segments.push_back(segment);
        start = end + 1;
    }
    return segments;
}

/// The value at \p segments, or an empty Var when any step is missing.
Var resolve(const Var& root, const std::vector<std::string>& segments) {
    Var current = root;
    for (const auto& segment : segments) {
        if (current.type() != typeid(Poco::JSON::Object::Ptr)) return {};
        const auto object = current.extract<Poco::JSON::Object::Ptr>();
        if (!object || !object->has(segment)) return {};
        current = object->get(segment);
    }
    return current;
}

std::string stringMember(const Poco::JSON::Object::Ptr& object, const char* key) {
    if (!object->has(key)) return {};
    const Var value = object->get(key);
    return value.isString() ? value.extract<std::string>() : std::string();
}

bool endsWith(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool blank(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

class Collector {
public:
    void person(const std::string& name, const std::string& pesel, const std::string& role) {
        if (blank(name) && blank(pesel)) return;
        for (const auto& known : subjects_) {
            if (known.fullName == name && known.pesel == pesel) return;
        }
        subjects_.push_back({name, pesel, role});
    }

    void object(const Var& value, const std::string& role) {
        if (value.type() != typeid(Poco::JSON::Object::Ptr)) return;
        const auto object = value.extract<Poco::JSON::Object::Ptr>();
        if (!object) return;
        const std::string name = stringMember(object, "name");
        if (!name.empty()) person(name, stringMember(object, "pesel"), role);
    }

    std::vector<DataSubject> take() { return std::move(subjects_); }

private:
    std::vector<DataSubject> subjects_;
};

}  // namespace

std::vector<DataSubject> extractDataSubjects(const Template& tmpl, const Poco::Dynamic::Var& input) {
    Collector collector;
    for (const auto& entry : tmpl.metadata().personalData) {
        if (entry.category != "identification") continue;
        for (const auto& pointer : entry.fields) {
            const auto segments = segmentsOf(pointer);
            if (segments.empty()) continue;
            const std::string& role = segments.back();
            const Var value = resolve(input, segments);
            if (value.isEmpty()) continue;
            if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
                const auto array = value.extract<Poco::JSON::Array::Ptr>();
                if (!array) continue;
                for (std::size_t i = 0; i < array->size(); ++i) collector.object(array->get(static_cast<unsigned>(i)), role);
            } else if (value.isString()) {
                if (endsWith(role, "name")) collector.person(value.extract<std::string>(), "", role);
            } else {
                collector.object(value, role);
            }
        }
    }
    return collector.take();
}

}  // namespace kooperdoc::templates
