// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <vector>

namespace kooperdoc {

/// The characters Kooperdoc prints: Latin (with every Polish letter), Greek, Cyrillic (for
/// Ukrainian and Belarusian clients), punctuation, € and the ballot boxes of forms.
/// The embedded fonts are built once for exactly this set, so input outside it is rejected
/// at validation (value.unsupported_character) rather than silently drawn as a blank box.
bool isPrintable(char32_t codePoint);

/// Every code point of the repertoire, ascending.
std::vector<char32_t> printableRepertoire();

}  // namespace kooperdoc
