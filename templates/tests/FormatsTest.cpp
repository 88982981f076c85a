// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <string>

#include "kooperdoc/templates/Formats.h"

using namespace kooperdoc::templates;

TEST_CASE("dates are real calendar days in YYYY-MM-DD", "[formats]") {
    CHECK(isValidDate("2024-02-29"));
    CHECK(isValidDate("2000-02-29"));  // divisible by 400: leap
    CHECK(isValidDate("2026-12-31"));
    CHECK(isValidDate("0001-01-01"));
    CHECK_FALSE(isValidDate("2023-02-29"));
    CHECK_FALSE(isValidDate("1900-02-29"));  // divisible by 100 only: not leap
    CHECK_FALSE(isValidDate("2024-13-01"));
    CHECK_FALSE(isValidDate("2024-00-10"));
    CHECK_FALSE(isValidDate("2024-04-31"));
    CHECK_FALSE(isValidDate("2024-04-00"));
    CHECK_FALSE(isValidDate("2024-4-01"));
    CHECK_FALSE(isValidDate("24-04-01"));
    CHECK_FALSE(isValidDate("2024/04/01"));
    CHECK_FALSE(isValidDate("01.04.2024"));
    CHECK_FALSE(isValidDate("2024-04-01 "));
    CHECK_FALSE(isValidDate("2024-04-01T00:00:00Z"));
    CHECK_FALSE(isValidDate(""));
    CHECK_FALSE(isValidDate("2024-0a-01"));

    const auto parsed = parseDate("2026-03-05");
    REQUIRE(parsed);
    CHECK(*parsed == CalendarDate{2026, 3, 5});
    CHECK_FALSE(parseDate("2026-02-30"));
}

TEST_CASE("date-time follows RFC 3339", "[formats]") {
    CHECK(isValidDateTime("2024-05-14T09:30:00Z"));
    CHECK(isValidDateTime("2024-05-14T09:30:00+02:00"));
    CHECK(isValidDateTime("2024-05-14T09:30:00.250-05:30"));
    CHECK(isValidDateTime("2024-05-14t09:30:00z"));
    CHECK(isValidDateTime("1998-12-31T23:59:60Z"));          // a leap second, in UTC
    CHECK(isValidDateTime("1998-12-31T15:59:60.123-08:00"));  // the same instant, west of UTC
    CHECK_FALSE(isValidDateTime("1998-12-31T22:59:60Z"));  // a leap second at the wrong hour
    CHECK_FALSE(isValidDateTime("1998-12-31T23:59:61Z"));
    CHECK_FALSE(isValidDateTime("2024-05-14T24:00:00Z"));
    CHECK_FALSE(isValidDateTime("2024-05-14T09:60:00Z"));
    CHECK_FALSE(isValidDateTime("2024-05-14T09:30:00"));  // no offset
    CHECK_FALSE(isValidDateTime("2024-05-14 09:30:00Z"));
    CHECK_FALSE(isValidDateTime("2024-05-14T09:30Z"));
    CHECK_FALSE(isValidDateTime("2024-05-14T09:30:00.Z"));
    CHECK_FALSE(isValidDateTime("2024-05-14T09:30:00+0200"));
    CHECK_FALSE(isValidDateTime("2024-05-14T09:30:00+24:00"));
    CHECK_FALSE(isValidDateTime("2023-02-29T09:30:00Z"));
    CHECK_FALSE(isValidDateTime("2024-05-14T09:30:00Zx"));
    CHECK_FALSE(isValidDateTime("2024-05-14"));
}

TEST_CASE("e-mail addresses are checked pragmatically", "[formats]") {
    CHECK(isValidEmail("iod@gops.przykladowo.example"));
    CHECK(isValidEmail("jan.kowalski+ops@example.pl"));
    CHECK(isValidEmail("a@b.co"));
    CHECK_FALSE(isValidEmail("jan.kowalski"));
    CHECK_FALSE(isValidEmail("@example.pl"));
    CHECK_FALSE(isValidEmail("jan@"));
    CHECK_FALSE(isValidEmail("jan@localhost"));
    CHECK_FALSE(isValidEmail("jan@@example.pl"));
    CHECK_FALSE(isValidEmail(".jan@example.pl"));
    CHECK_FALSE(isValidEmail("jan.@example.pl"));
    CHECK_FALSE(isValidEmail("jan..kowalski@example.pl"));
    CHECK_FALSE(isValidEmail("jan kowalski@example.pl"));
    CHECK_FALSE(isValidEmail("jan@-example.pl"));
    CHECK_FALSE(isValidEmail("jan@example..pl"));
    CHECK_FALSE(isValidEmail("jan@192.168.0.1"));
    CHECK_FALSE(isValidEmail("łukasz@example.pl"));
    CHECK_FALSE(isValidEmail(std::string(65, 'a') + "@example.pl"));
    CHECK(isValidEmail(std::string(64, 'a') + "@example.pl"));
}

TEST_CASE("PESEL: check digit and the birth date with its century in the month", "[formats]") {
    CHECK(isValidPesel("44051401359"));   // 1944-05-14
    CHECK_FALSE(isValidPesel("44051401358"));  // wrong check digit
    CHECK(isValidPesel("02250101232"));   // month 25: May 2002
    CHECK(isValidPesel("00222900122"));   // month 22, day 29: 2000-02-29, a leap day
    CHECK(isValidPesel("80923100005"));   // month 92: December 1880
    CHECK(isValidPesel("12470400000"));   // month 47: July 2112
    CHECK(isValidPesel("50610100001"));   // month 61: January 2250
    CHECK_FALSE(isValidPesel("01222900129"));  // 2001-02-29 does not exist (check digit right)
    CHECK_FALSE(isValidPesel("00022900126"));  // 1900-02-29 does not exist (check digit right)
    CHECK_FALSE(isValidPesel("44131401350"));  // month 13 (check digit right)
    CHECK_FALSE(isValidPesel("4405140135"));
    CHECK_FALSE(isValidPesel("440514013599"));
    CHECK_FALSE(isValidPesel("4405140135a"));
    CHECK_FALSE(isValidPesel(" 44051401359"));
    CHECK_FALSE(isValidPesel(""));

    const auto born = peselBirthDate("02250101232");
    REQUIRE(born);
    CHECK(*born == CalendarDate{2002, 5, 1});
    CHECK(peselBirthDate("44051401359") == CalendarDate{1944, 5, 14});
    CHECK(peselBirthDate("80923100005") == CalendarDate{1880, 12, 31});
    CHECK_FALSE(peselBirthDate("44051401358"));
}

TEST_CASE("NIP: ten digits, weights 6,5,7,2,3,4,5,6,7 mod 11", "[formats]") {
    CHECK(isValidNip("5261040828"));
    CHECK_FALSE(isValidNip("5261040827"));
    CHECK_FALSE(isValidNip("526-104-08-28"));  // separators are not part of the number
    CHECK_FALSE(isValidNip("PL5261040828"));
    CHECK_FALSE(isValidNip("526104082"));
    CHECK_FALSE(isValidNip("52610408281"));
    // 123456789 and 100000016 give remainder 10: no check digit can follow them.
    for (char last = '0'; last <= '9'; ++last) {
        CHECK_FALSE(isValidNip(std::string("123456789") + last));
        CHECK_FALSE(isValidNip(std::string("100000016") + last));
    }
    CHECK(isValidNip("1000000006"));
}

TEST_CASE("REGON: 9 or 14 digits with their check digits", "[formats]") {
    CHECK(isValidRegon("123456785"));
    CHECK(isValidRegon("234567895"));
    CHECK_FALSE(isValidRegon("123456784"));
    CHECK(isValidRegon("12345678500010"));
    CHECK_FALSE(isValidRegon("12345678500011"));
    // The 14-digit checksum is right but the embedded 9-digit REGON is not.
    CHECK_FALSE(isValidRegon("12345678000012"));
    CHECK_FALSE(isValidRegon("1234567850"));
    CHECK_FALSE(isValidRegon("12345678a"));
    CHECK_FALSE(isValidRegon(""));
}

TEST_CASE("KRS, postal code and phone", "[formats]") {
    CHECK(isValidKrs("0000123456"));
    CHECK_FALSE(isValidKrs("123456"));
    CHECK_FALSE(isValidKrs("00001234567"));
    CHECK_FALSE(isValidKrs("000012345a"));

    CHECK(isValidPostalCode("00-001"));
    CHECK(isValidPostalCode("61-896"));
    CHECK_FALSE(isValidPostalCode("00001"));
    CHECK_FALSE(isValidPostalCode("00-0001"));
    CHECK_FALSE(isValidPostalCode("0-0001"));
    CHECK_FALSE(isValidPostalCode("ab-cde"));
    CHECK_FALSE(isValidPostalCode("00–001"));  // an en dash

    CHECK(isValidPhone("+48 123 456 789"));
    CHECK(isValidPhone("61 123-45-67"));
    CHECK(isValidPhone("1234567"));
    CHECK(isValidPhone("12345678901234567890"));
    CHECK_FALSE(isValidPhone("123456"));                 // 6 characters
    CHECK_FALSE(isValidPhone("123456789012345678901"));  // 21 characters
    CHECK_FALSE(isValidPhone("48+123456789"));           // "+" only in front
    CHECK_FALSE(isValidPhone("(61) 1234567"));
    CHECK_FALSE(isValidPhone("123 456 789 "));
    CHECK_FALSE(isValidPhone("tel. 123456789"));
}

TEST_CASE("formats are found by their schema names", "[formats]") {
    for (const char* name : {"date", "date-time", "email", "pesel", "nip", "regon", "krs", "postal-code", "phone"}) {
        const Format* format = findFormat(name);
        REQUIRE(format != nullptr);
        CHECK(format->name == name);
        CHECK(format->code.substr(0, 6) == "value.");
    }
    CHECK(findFormat("postal-code")->code == "value.postal_code");
    CHECK(findFormat("pesel")->check("44051401359"));
    CHECK(findFormat("uri") == nullptr);
    CHECK(findFormat("PESEL") == nullptr);
}
