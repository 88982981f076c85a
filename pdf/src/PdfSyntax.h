// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace kooperdoc::pdf {

/// Appends a real number the way PDF wants it: no exponent, at most `decimals` decimals,
/// trailing zeros dropped ("12.5", "0", "-3.25").
void appendNumber(std::string& out, double value, int decimals = 3);
std::string number(double value, int decimals = 3);

/// Appends numbers separated by single spaces, with a trailing space: "x y w h ".
void appendNumbers(std::string& out, std::initializer_list<double> values);

/// A text string as UTF-16BE hex with a byte-order mark: safe for any Unicode and any bytes.
std::string textString(std::string_view utf8);

/// A literal string with (, ) and \ escaped, for ASCII-only values.
std::string literalString(std::string_view ascii);

/// zlib (FlateDecode) at the given level.
std::string deflate(std::string_view data, int level = 6);

/// "D:YYYYMMDDHHmmSS+00'00'" for PDF, "YYYY-MM-DDTHH:mm:SS+00:00" for XMP; always UTC so the
/// same SOURCE_DATE_EPOCH gives the same bytes on every machine.
std::string pdfDate(std::int64_t epochSeconds);
std::string xmpDate(std::int64_t epochSeconds);

}  // namespace kooperdoc::pdf
