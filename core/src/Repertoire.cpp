// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/core/Repertoire.h"

#include <iterator>

namespace kooperdoc {
namespace {

struct Range {
    char32_t first;
    char32_t last;
};

constexpr Range kRanges[] = {
    {0x0020, 0x007E}, {0x00A0, 0x00FF}, {0x0100, 0x017F}, {0x0218, 0x021B},
    {0x0384, 0x0386}, {0x0388, 0x038A}, {0x038C, 0x038C}, {0x038E, 0x03A1},
    {0x03A3, 0x03CE}, {0x0400, 0x045F}, {0x0490, 0x0491}, {0x2010, 0x2027},
    {0x2030, 0x203A}, {0x20AC, 0x20AC}, {0x2116, 0x2116}, {0x2122, 0x2122},
    {0x2190, 0x2193}, {0x2610, 0x2612}, {0x2713, 0x2713}, {0x2717, 0x2717},
};

}  // namespace

bool isPrintable(char32_t cp) {
    for (const auto& range : kRanges) {
        if (cp >= range.first && cp <= range.last) return true;
    }
    return false;
}

std::vector<char32_t> printableRepertoire() {
    std::vector<char32_t> all;
    for (const auto& range : kRanges) {
        for (char32_t cp = range.first; cp <= range.last; ++cp) all.push_back(cp);
    }
    return all;
}

}  // namespace kooperdoc
