// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include "kooperdoc/core/Repertoire.h"
#include "kooperdoc/core/Utf8.h"

namespace utf8 = kooperdoc::utf8;

TEST_CASE("UTF-8 decoding counts code points and rejects ill-formed input", "[utf8]") {
    CHECK(utf8::tryCountCodePoints("żółć") == 4u);
    CHECK(utf8::tryCountCodePoints("a😀") == 2u);
    CHECK_FALSE(utf8::tryDecode("\xC0\xAF"));        // overlong '/'
    CHECK_FALSE(utf8::tryDecode("\xED\xA0\x80"));    // surrogate
    CHECK_FALSE(utf8::tryDecode("\xF4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(utf8::tryDecode("\xE2\x82"));        // truncated
    CHECK(utf8::encode(*utf8::tryDecode("Łódź €")) == "Łódź €");
}

TEST_CASE("upper-casing handles Polish, Cyrillic and Greek letters", "[utf8]") {
    CHECK(utf8::toUpper("zażółć gęślą jaźń") == "ZAŻÓŁĆ GĘŚLĄ JAŹŃ");
    CHECK(utf8::toUpper("ґанна їжак") == "ҐАННА ЇЖАК");
    CHECK(utf8::toUpper("αβγ") == "ΑΒΓ");
}

TEST_CASE("the printable repertoire holds Polish letters and excludes what the fonts lack", "[repertoire]") {
    const auto polish = utf8::tryDecode("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–—…€☐☒§");
    REQUIRE(polish);
    for (char32_t c : *polish) CHECK(kooperdoc::isPrintable(c));
    CHECK_FALSE(kooperdoc::isPrintable(U'\x01'));
    CHECK_FALSE(kooperdoc::isPrintable(U'\U0001F600'));  // emoji
    CHECK_FALSE(kooperdoc::isPrintable(U'\x4E2D'));      // CJK
    const auto all = kooperdoc::printableRepertoire();
    CHECK(std::is_sorted(all.begin(), all.end()));
}
