// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"

using kooperdoc::canonicalJson;
using kooperdoc::parseJson;

TEST_CASE("canonical JSON sorts keys and drops insignificant whitespace", "[canonical]") {
    CHECK(canonicalJson(parseJson(R"( { "b" : 1, "a" : [ true , null, "x" ] } )")) ==
          R"({"a":[true,null,"x"],"b":1})");
}

TEST_CASE("canonical JSON is the same for equivalent documents", "[canonical]") {
    const auto a = canonicalJson(parseJson(R"({"name":"Zażółć","nested":{"z":1,"y":2}})"));
    const auto b = canonicalJson(parseJson("{\n \"nested\": {\"y\": 2, \"z\": 1},\n \"name\": \"Za\\u017c\\u00f3\\u0142\\u0107\"}"));
    CHECK(a == b);
    CHECK(kooperdoc::sha256Hex(a) == kooperdoc::sha256Hex(b));
}

TEST_CASE("canonical JSON escapes only what JSON requires", "[canonical]") {
    CHECK(canonicalJson(parseJson(R"(["a\"b\\c\n\u0001ł"])")) == "[\"a\\\"b\\\\c\\n\\u0001ł\"]");
}

TEST_CASE("canonical JSON writes numbers in their shortest exact form", "[canonical]") {
    CHECK(canonicalJson(parseJson("[1.0, 0.5, -0, 100, 1e2, 0.1]")) == "[1,0.5,0,100,100,0.1]");
}

TEST_CASE("canonical JSON orders keys by UTF-16 code units", "[canonical]") {
    // In UTF-8 byte order U+FF61 (EF BD A1) comes before U+1F600 (F0 9F 98 80); in UTF-16 the
    // emoji's surrogate D83D comes before FF61, and RFC 8785 sorts by UTF-16.
    CHECK(canonicalJson(parseJson(u8R"({"｡":2,"😀":1})")) == u8R"({"😀":1,"｡":2})");
}

TEST_CASE("parseJson rejects malformed text and duplicate keys", "[canonical]") {
    try {
        parseJson("{\"a\": 1,}");
        FAIL("malformed JSON was accepted");
    } catch (const kooperdoc::Error& e) {
        CHECK(e.reason() == "json.syntax");
    }
    try {
        parseJson(R"({"a": 1, "b": {"c": 1, "c": 2}})");
        FAIL("duplicate key was accepted");
    } catch (const kooperdoc::Error& e) {
        CHECK(e.reason() == "json.duplicate_key");
    }
    CHECK_NOTHROW(parseJson(R"({"a": {"c": 1}, "b": {"c": 2}})"));
}

TEST_CASE("SHA-256 matches the FIPS 180-2 test vector", "[digest]") {
    CHECK(kooperdoc::sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
