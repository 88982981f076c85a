// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kooperdoc::utf8 {

/// Decodes UTF-8 strictly (no overlongs, no surrogates, nothing above U+10FFFF).
/// Returns std::nullopt for ill-formed input.
std::optional<std::u32string> tryDecode(std::string_view text);

/// Number of code points, or std::nullopt for ill-formed UTF-8. JSON Schema's minLength and
/// maxLength count code points, not bytes.
std::optional<std::size_t> tryCountCodePoints(std::string_view text);

void append(std::string& out, char32_t codePoint);
std::string encode(std::u32string_view text);

/// Upper-cases Latin (including Polish ą→Ą, ł→Ł, ß stays), Greek and Cyrillic letters.
char32_t toUpper(char32_t codePoint);
std::string toUpper(std::string_view text);

}  // namespace kooperdoc::utf8
