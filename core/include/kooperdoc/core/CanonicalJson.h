// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <string>

#include <Poco/Dynamic/Var.h>

namespace kooperdoc {

/// Serialises a parsed JSON value canonically, after RFC 8785 (JCS): object keys sorted by
/// their UTF-16 code units, no insignificant whitespace, strings with the minimal escapes,
/// integers in decimal and other numbers in the shortest form that reads back exactly.
/// The SHA-256 of this text is the document's "input hash": two requests that differ only in
/// key order or spacing get the same hash.
std::string canonicalJson(const Poco::Dynamic::Var& value);

/// Parses JSON text (throws Error{kInvalidArgument, "json.syntax"} with the position on
/// malformed input, Error{kInvalidArgument, "json.duplicate_key"} on a repeated key).
Poco::Dynamic::Var parseJson(const std::string& text);

}  // namespace kooperdoc
