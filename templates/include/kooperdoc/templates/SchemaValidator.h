// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <Poco/Dynamic/Var.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::templates {

/// What the compiler does with a keyword outside the supported subset of JSON Schema 2020-12.
enum class UnknownKeywords : std::uint8_t {
    kReject = 0,  ///< our templates: a typo ("minLenght") must fail the build, not pass silently
    kIgnore = 1,  ///< foreign schemas (the JSON-Schema-Test-Suite): unknown keywords are annotations
};

/// A compiled JSON Schema (draft 2020-12 subset, see docs/template-format.md) that reports
/// every violation of an instance at once, in Polish and English (docs/validation-codes.md).
/// Compile once and share: validate() is const and thread-safe, and copies share the schema.
class SchemaValidator {
public:
    /// Instances nested deeper than this are reported ("schema.depth"), never recursed into.
    static constexpr int kMaxInstanceDepth = 64;

    /// Compiles the schema once (regular expressions, $ref targets). Throws
    /// Error{kInternal, "schema.invalid"} for a malformed schema, an unresolvable or non-local
    /// $ref, a $ref cycle that never descends into the instance and, with kReject, for any
    /// keyword or format outside the supported subset.
    explicit SchemaValidator(const Poco::Dynamic::Var& schema, UnknownKeywords unknown = UnknownKeywords::kReject);

    /// Every violation, not only the first, in a stable order (each keyword of a subschema in
    /// a fixed order, object members by name, array items by position); empty when valid.
    /// Each carries the RFC 6901 pointer of the offending value in the instance (for a
    /// missing property: where it should be). Does not throw on any instance.
    std::vector<Violation> validate(const Poco::Dynamic::Var& instance) const;

    /// Shorthand for validate(instance).empty() that stops at the first violation.
    bool isValid(const Poco::Dynamic::Var& instance) const;

private:
    struct Compiled;
    std::shared_ptr<const Compiled> compiled_;
};

}  // namespace kooperdoc::templates
