// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/templates/Catalog.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "EmbeddedCatalog.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Tenant.h"

namespace kooperdoc::templates {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

[[noreturn]] void defect(const std::string& where, const std::string& what) {
    throw Error(ErrorCode::kInternal, "template.metadata", where + ": " + what);
}

/// Reads template.json strictly: unknown keys are typos, and a typo in metadata (say,
/// "signatorys") must fail the build's tests rather than silently drop the signatories.
class MetadataReader {
public:
    MetadataReader(Object::Ptr object, std::string where) : object_(std::move(object)), where_(std::move(where)) {}

    std::string string(const std::string& key, bool required = true) {
        seen_.insert(key);
        if (!object_->has(key)) {
            if (required) defect(where_, "missing \"" + key + "\"");
            return {};
        }
        const auto value = object_->get(key);
        if (!value.isString()) defect(where_, "\"" + key + "\" must be a string");
        return value.extract<std::string>();
    }

    bool boolean(const std::string& key) {
        seen_.insert(key);
        if (!object_->has(key)) return false;
        const auto value = object_->get(key);
        if (!value.isBoolean()) defect(where_, "\"" + key + "\" must be true or false");
        return value.extract<bool>();
    }

    std::vector<std::string> strings(const std::string& key) {
        std::vector<std::string> out;
        for (const auto& item : array(key)) {
            if (!item.isString()) defect(where_, "\"" + key + "\" must hold strings");
            out.push_back(item.extract<std::string>());
        }
        return out;
    }

    std::vector<Poco::Dynamic::Var> array(const std::string& key) {
        seen_.insert(key);
        std::vector<Poco::Dynamic::Var> out;
        if (!object_->has(key)) return out;
        const auto value = object_->get(key);
        if (value.type() != typeid(Array::Ptr)) defect(where_, "\"" + key + "\" must be an array");
        const auto arr = value.extract<Array::Ptr>();
        for (std::size_t i = 0; i < arr->size(); ++i) out.push_back(arr->get(static_cast<unsigned>(i)));
        return out;
    }

    Object::Ptr object(const std::string& key) {
        seen_.insert(key);
        if (!object_->has(key)) return nullptr;
        const auto value = object_->get(key);
        if (value.type() != typeid(Object::Ptr)) defect(where_, "\"" + key + "\" must be an object");
        return value.extract<Object::Ptr>();
    }

    void rejectUnknownKeys() const {
        for (const auto& [key, unused] : *object_) {
            if (!seen_.count(key)) defect(where_, "unknown key \"" + key + "\"");
        }
    }

    const std::string& where() const { return where_; }

private:
    Object::Ptr object_;
    std::string where_;
    std::set<std::string> seen_;
};

Object::Ptr asObject(const Poco::Dynamic::Var& value, const std::string& where) {
    if (value.type() != typeid(Object::Ptr)) defect(where, "must be an object");
    return value.extract<Object::Ptr>();
}

void requireOneOf(const std::string& value, std::initializer_list<const char*> allowed,
                  const std::string& where, const std::string& key) {
    for (const char* a : allowed) {
        if (value == a) return;
    }
    defect(where, "\"" + key + "\" has the unknown value \"" + value + "\"");
}

TemplateMetadata parseMetadata(const std::string& text, const std::string& where) {
    MetadataReader reader(asObject(parseJson(text), where), where);
    TemplateMetadata m;
    m.id = reader.string("id");
    m.version = reader.string("version");
    m.kind = reader.string("kind");
    m.model = reader.string("model");
    m.title = reader.string("title");
    m.description = reader.string("description", false);
    if (const auto source = reader.object("source")) {
        MetadataReader sourceReader(source, where + " source");
        m.sourceSeed = sourceReader.string("seed");
        m.sourceLines = sourceReader.string("lines", false);
        sourceReader.rejectUnknownKeys();
    }
    for (const auto& item : reader.array("signatories")) {
        MetadataReader r(asObject(item, where + " signatories"), where + " signatory");
        SignatoryDefinition s;
        s.role = r.string("role");
        s.caption = r.string("caption");
        s.field = r.string("field");
        const auto count = r.string("count", false);
        requireOneOf(count.empty() ? "one" : count, {"one", "per-item"}, where, "count");
        s.perItem = count == "per-item";
        s.items = r.string("items", s.perItem);
        r.rejectUnknownKeys();
        m.signatories.push_back(std::move(s));
    }
    for (const auto& item : reader.array("personal_data")) {
        MetadataReader r(asObject(item, where + " personal_data"), where + " personal_data");
        PersonalDataDefinition p;
        p.category = r.string("category");
        requireOneOf(p.category, {"identification", "contact", "family", "social", "health", "addiction",
                                  "criminal", "financial", "other"}, where, "category");
        p.special = r.boolean("special");
        p.fields = r.strings("fields");
        r.rejectUnknownKeys();
        m.personalData.push_back(std::move(p));
    }
    m.retentionClass = reader.string("retention_class");
    for (const auto& item : reader.array("sections")) {
        MetadataReader r(asObject(item, where + " sections"), where + " section");
        SectionDefinition s;
        s.id = r.string("id");
        s.title = r.string("title");
        s.audience = r.strings("audience");
        for (const auto& a : s.audience) requireOneOf(a, {"parties", "staff", "team", "person", "public"}, where, "audience");
        r.rejectUnknownKeys();
        m.sections.push_back(std::move(s));
    }
    m.usesTenant = reader.strings("uses_tenant");
    m.caseNumberPointer = reader.string("case_number", false);
    m.notes = reader.strings("notes");
    reader.rejectUnknownKeys();

    requireOneOf(m.kind, {"agreement", "declaration", "consent", "protocol", "other"}, where, "kind");
    requireOneOf(m.model, {"M1", "M2", "M3", "common"}, where, "model");
    requireOneOf(m.retentionClass, {"institutional-agreement", "case-record", "consent", "declaration", "register"},
                 where, "retention_class");
    static const std::regex kIdPattern("^[a-z0-9]+(-[a-z0-9]+)*$");
    static const std::regex kVersionPattern("^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$");
    if (!std::regex_match(m.id, kIdPattern)) defect(where, "id must be lower-case words joined by '-'");
    if (!std::regex_match(m.version, kVersionPattern)) defect(where, "version must be MAJOR.MINOR.PATCH");
    static const std::regex kTopLevelPointer("^/[a-z0-9_]+$");
    if (!m.caseNumberPointer.empty() && !std::regex_match(m.caseNumberPointer, kTopLevelPointer)) {
        defect(where, "case_number must point at a top-level property, e.g. \"/case_number\"");
    }
    for (const auto& key : m.usesTenant) {
        bool known = false;
        for (std::size_t i = 0; i < TenantProfile::kFieldCount; ++i) known = known || key == TenantProfile::kFieldNames[i];
        if (!known) defect(where, "uses_tenant names the unknown tenant field \"" + key + "\"");
    }
    return m;
}

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::kNotFound, "file.unreadable", "cannot read " + path.string());
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

}  // namespace

Template::Template(TemplateMetadata metadata, std::string schemaText, std::string body,
                   std::map<std::string, std::string> samples, std::string sha256)
    : metadata_(std::move(metadata)),
      schemaText_(std::move(schemaText)),
      validator_(std::make_unique<SchemaValidator>(parseJson(schemaText_))),
      body_(std::move(body)),
      samples_(std::move(samples)),
      sha256_(std::move(sha256)) {}

Catalog Catalog::fromFiles(const std::map<std::string, std::string>& files) {
    std::map<std::string, std::map<std::string, std::string>> byTemplate;
    for (const auto& [path, content] : files) {
        const auto slash = path.find('/');
        if (slash == std::string::npos) continue;  // README and the like beside the folders
        byTemplate[path.substr(0, slash)][path.substr(slash + 1)] = content;
    }
    Catalog catalog;
    for (const auto& entry : byTemplate) {
        // Plain references, not structured bindings: C++17 lets no lambda capture those (clang
        // refuses, and the fuzz build uses clang).
        const std::string& folder = entry.first;
        const std::map<std::string, std::string>& folderFiles = entry.second;
        auto need = [&](const std::string& name) -> const std::string& {
            const auto it = folderFiles.find(name);
            if (it == folderFiles.end()) defect(folder, "missing " + name);
            return it->second;
        };
        const auto& metadataText = need("template.json");
        const auto& schemaText = need("schema.json");
        const auto& body = need("body.mustache");
        TemplateMetadata metadata;
        try {
            metadata = parseMetadata(metadataText, folder + "/template.json");
        } catch (const Error& e) {
            if (e.reason() == "template.metadata") throw;
            defect(folder + "/template.json", e.what());
        }
        if (metadata.id != folder) defect(folder, "id \"" + metadata.id + "\" differs from its folder");
        std::map<std::string, std::string> samples;
        for (const auto& [name, content] : folderFiles) {
            const std::string prefix = "samples/";
            const std::string suffix = ".json";
            if (name.compare(0, prefix.size(), prefix) == 0 && name.size() > prefix.size() + suffix.size() &&
                name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
                samples[name.substr(prefix.size(), name.size() - prefix.size() - suffix.size())] = content;
            }
        }
        if (!samples.count("sample")) defect(folder, "missing samples/sample.json");
        // The hash frames each file with its name and length, so moving text between files
        // changes it too.
        std::string hashed;
        for (const auto& [name, content] : {std::pair<std::string, const std::string*>{"template.json", &metadataText},
                                            {"schema.json", &schemaText}, {"body.mustache", &body}}) {
            hashed += name + '\n' + std::to_string(content->size()) + '\n' + *content;
        }
        std::shared_ptr<const Template> tmpl;
        try {
            tmpl = std::make_shared<const Template>(std::move(metadata), schemaText, body, std::move(samples),
                                                    sha256Hex(hashed));
        } catch (const Error& e) {
            defect(folder + "/schema.json", e.what());
        }
        catalog.templates_.emplace(folder, std::move(tmpl));
    }
    return catalog;
}

const Catalog& Catalog::builtIn() {
    static const Catalog catalog = [] {
        std::map<std::string, std::string> files;
        for (std::size_t i = 0; i < embedded::kFileCount; ++i) {
            const auto& file = embedded::kFiles[i];
            files.emplace(file.path, std::string(reinterpret_cast<const char*>(file.data), file.size));
        }
        return fromFiles(files);
    }();
    return catalog;
}

Catalog Catalog::fromDirectory(const std::string& directory) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(directory)) {
        throw Error(ErrorCode::kNotFound, "template.directory", "no template directory " + directory);
    }
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(directory)) {
        if (!entry.is_regular_file()) continue;
        files.emplace(fs::relative(entry.path(), directory).generic_string(), readFile(entry.path()));
    }
    return fromFiles(files);
}

std::vector<const Template*> Catalog::list() const {
    std::vector<const Template*> out;
    for (const auto& [id, tmpl] : templates_) out.push_back(tmpl.get());
    return out;
}

const Template* Catalog::tryGet(const std::string& id) const {
    const auto it = templates_.find(id);
    return it == templates_.end() ? nullptr : it->second.get();
}

const Template& Catalog::get(const std::string& id, const std::string& version) const {
    const auto* tmpl = tryGet(id);
    if (tmpl == nullptr) throw Error(ErrorCode::kNotFound, "template.unknown", "no template \"" + id + "\"");
    if (!version.empty() && version != tmpl->metadata().version) {
        throw Error(ErrorCode::kNotFound, "template.version_unknown",
                    "template \"" + id + "\" has version " + tmpl->metadata().version + ", not " + version);
    }
    return *tmpl;
}

}  // namespace kooperdoc::templates
