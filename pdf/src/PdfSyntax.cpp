// SPDX-License-Identifier: AGPL-3.0-or-later
#include "PdfSyntax.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include <memory>

#include <libdeflate.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/core/Utf8.h"

namespace kooperdoc::pdf {

void appendNumber(std::string& out, double value, int decimals) {
    static constexpr double kScale[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    const double scale = kScale[decimals];
    long long scaled = std::llround(value * scale);
    if (scaled < 0) {
        out += '-';
        scaled = -scaled;
    }
    const long long whole = scaled / static_cast<long long>(scale);
    long long fraction = scaled % static_cast<long long>(scale);
    out += std::to_string(whole);
    if (fraction != 0) {
        // Hand-rolled: snprintf was a visible share of render time.
        char digits[16];
        for (int i = decimals - 1; i >= 0; --i) {
            digits[i] = static_cast<char>('0' + fraction % 10);
            fraction /= 10;
        }
        int length = decimals;
        while (length > 0 && digits[length - 1] == '0') --length;
        out += '.';
        out.append(digits, static_cast<std::size_t>(length));
    }
}

void appendNumbers(std::string& out, std::initializer_list<double> values) {
    for (double value : values) {
        appendNumber(out, value);
        out += ' ';
    }
}

std::string number(double value, int decimals) {
    std::string out;
    appendNumber(out, value, decimals);
    return out;
}

std::string textString(std::string_view utf8Text) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out = "<FEFF";
    auto appendUnit = [&out](unsigned unit) {
        for (int shift = 12; shift >= 0; shift -= 4) out += kDigits[(unit >> shift) & 0xF];
    };
    const auto decoded = utf8::tryDecode(utf8Text);
    if (decoded) {
        for (char32_t cp : *decoded) {
            if (cp >= 0x10000) {
                cp -= 0x10000;
                appendUnit(0xD800 + (cp >> 10));
                appendUnit(0xDC00 + (cp & 0x3FF));
            } else {
                appendUnit(cp);
            }
        }
    }
    out += '>';
    return out;
}

std::string literalString(std::string_view ascii) {
    std::string out = "(";
    for (char c : ascii) {
        if (c == '(' || c == ')' || c == '\\') out += '\\';
        out += c;
    }
    out += ')';
    return out;
}

std::string deflate(std::string_view data, int level) {
    // One compressor per thread and level: allocating one costs more than compressing a page.
    struct FreeCompressor {
        void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
    };
    thread_local std::unique_ptr<libdeflate_compressor, FreeCompressor> compressors[13];
    if (level < 0 || level > 12) throw Error(ErrorCode::kInternal, "pdf.deflate", "compression level out of range");
    auto& compressor = compressors[level];
    if (!compressor) compressor.reset(libdeflate_alloc_compressor(level));
    if (!compressor) throw Error(ErrorCode::kInternal, "pdf.deflate", "cannot allocate a compressor");
    std::string out(libdeflate_zlib_compress_bound(compressor.get(), data.size()), '\0');
    const std::size_t size = libdeflate_zlib_compress(compressor.get(), data.data(), data.size(), out.data(), out.size());
    if (size == 0) throw Error(ErrorCode::kInternal, "pdf.deflate", "compression failed");
    out.resize(size);
    return out;
}

namespace {
std::tm utc(std::int64_t epochSeconds) {
    const std::time_t t = static_cast<std::time_t>(epochSeconds);
    std::tm parts{};
    gmtime_r(&t, &parts);
    return parts;
}
}  // namespace

std::string pdfDate(std::int64_t epochSeconds) {
    const auto t = utc(epochSeconds);
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "D:%04d%02d%02d%02d%02d%02d+00'00'", t.tm_year + 1900, t.tm_mon + 1,
                  t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
    return buffer;
}

std::string xmpDate(std::int64_t epochSeconds) {
    const auto t = utc(epochSeconds);
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", t.tm_year + 1900, t.tm_mon + 1,
                  t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
    return buffer;
}

}  // namespace kooperdoc::pdf
