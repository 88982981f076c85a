// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <Poco/Dynamic/Var.h>

#include "kooperdoc/templates/SchemaValidator.h"

namespace kooperdoc::templates {

struct SignatoryDefinition {
    std::string role;
    std::string caption;
    std::string field;    ///< the field name, or its prefix when count is "per-item"
    bool perItem = false;
    std::string items;    ///< JSON pointer of the array whose items sign, when perItem
};

struct PersonalDataDefinition {
    std::string category;
    bool special = false;  ///< RODO art. 9 or art. 10 data
    std::vector<std::string> fields;
};

struct SectionDefinition {
    std::string id;
    std::string title;
    std::vector<std::string> audience;
};

struct TemplateMetadata {
    std::string id;
    std::string version;
    std::string kind;  ///< agreement | declaration | consent | protocol | other
    std::string model;
    std::string title;
    std::string description;
    std::string sourceSeed;
    std::string sourceLines;
    std::vector<SignatoryDefinition> signatories;
    std::vector<PersonalDataDefinition> personalData;
    std::string retentionClass;
    std::vector<SectionDefinition> sections;
    std::vector<std::string> usesTenant;
    std::string caseNumberPointer;  ///< "" when the form has no case number
    std::vector<std::string> notes;
};

/// One version of one template: metadata, compiled schema, Mustache body and samples.
/// Immutable after loading, so it is shared between threads without locks.
class Template {
public:
    Template(TemplateMetadata metadata, std::string schemaText, std::string body,
             std::map<std::string, std::string> samples, std::string sha256);

    const TemplateMetadata& metadata() const { return metadata_; }
    const std::string& schemaText() const { return schemaText_; }
    const SchemaValidator& validator() const { return *validator_; }
    const std::string& body() const { return body_; }
    /// Sample inputs by name ("sample" is the default one), as JSON text.
    const std::map<std::string, std::string>& samples() const { return samples_; }
    /// SHA-256 (hex) over the definition files: metadata, schema and body. Samples do not
    /// count: they never change what a document says.
    const std::string& sha256() const { return sha256_; }

private:
    TemplateMetadata metadata_;
    std::string schemaText_;
    std::unique_ptr<SchemaValidator> validator_;
    std::string body_;
    std::map<std::string, std::string> samples_;
    std::string sha256_;
};

/// The set of templates a Kooperdoc binary serves.
class Catalog {
public:
    /// The templates compiled into the binary from templates/catalog/.
    static const Catalog& builtIn();
    /// Templates read from a directory laid out like templates/catalog/ (for template authors).
    /// Throws Error{kInternal, "template.*"} naming the file for any defect.
    static Catalog fromDirectory(const std::string& directory);

    /// All templates, sorted by id.
    std::vector<const Template*> list() const;
    /// Throws Error{kNotFound, "template.unknown"}; with a version, also
    /// Error{kNotFound, "template.version_unknown"}.
    const Template& get(const std::string& id, const std::string& version = {}) const;
    const Template* tryGet(const std::string& id) const;

    /// Builds a catalog from (relative path, content) pairs such as "m1-x/template.json".
    static Catalog fromFiles(const std::map<std::string, std::string>& files);

private:
    std::map<std::string, std::shared_ptr<const Template>> templates_;
};

}  // namespace kooperdoc::templates
