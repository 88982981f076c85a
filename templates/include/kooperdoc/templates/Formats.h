// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <optional>
#include <string_view>

namespace kooperdoc::templates {

/// A day of the proleptic Gregorian calendar.
struct CalendarDate {
    int year = 0;
    int month = 0;  ///< 1..12
    int day = 0;    ///< 1..31

    bool operator==(const CalendarDate& other) const {
        return year == other.year && month == other.month && day == other.day;
    }
};

/// True when year-month-day names a day that exists (2024-02-29 yes, 2023-02-29 no).
bool isRealDay(int year, int month, int day);

/// "YYYY-MM-DD" (RFC 3339 full-date) naming a real calendar day, or std::nullopt.
std::optional<CalendarDate> parseDate(std::string_view text);

/// The checkers below take the value exactly as sent: no trimming, no separators tolerated
/// beyond those named, so a value that passes prints exactly as the authority issued it.

/// RFC 3339 full-date: "YYYY-MM-DD", a real calendar day.
bool isValidDate(std::string_view text);

/// RFC 3339 date-time: "2024-05-14T09:30:00Z", "…T09:30:00.250+02:00" ("t"/"z" accepted).
/// A leap second (:60) is accepted only where it can occur: at 23:59 UTC.
bool isValidDateTime(std::string_view text);

/// A pragmatic e-mail address: dot-atom local part (at most 64 characters) "@" a DNS domain
/// with at least two labels; ASCII only, at most 254 characters. Quoted local parts and IP
/// literals are refused: no social-assistance centre issues them, and they are typo magnets.
bool isValidEmail(std::string_view text);

/// PESEL: 11 digits, a correct check digit and a real birth date, whose century is encoded in
/// the month (+80 for 1800s, +0 for 1900s, +20 for 2000s, +40 for 2100s, +60 for 2200s).
bool isValidPesel(std::string_view text);

/// The birth date encoded in a valid PESEL, or std::nullopt when the PESEL is not valid.
std::optional<CalendarDate> peselBirthDate(std::string_view pesel);

/// NIP: 10 digits without separators; weights 6,5,7,2,3,4,5,6,7, sum mod 11 is the last digit
/// (a remainder of 10 means no valid NIP has these first nine digits).
bool isValidNip(std::string_view text);

/// REGON: 9 digits (weights 8,9,2,3,4,5,6,7) or 14 digits (weights 2,4,8,5,0,9,7,3,6,1,2,4,8)
/// whose first nine digits are themselves a valid REGON (a local unit extends its entity's
/// number); a remainder of 10 counts as check digit 0.
bool isValidRegon(std::string_view text);

/// KRS number: exactly 10 digits (leading zeros included, as printed in the register).
bool isValidKrs(std::string_view text);

/// Polish postal code "NN-NNN".
bool isValidPostalCode(std::string_view text);

/// A phone number as people write it: 7 to 20 characters of digits, spaces and "-", with an
/// optional leading "+"; it ends with a digit.
bool isValidPhone(std::string_view text);

/// A JSON Schema "format" name Kooperdoc asserts, with the violation code it reports.
struct Format {
    std::string_view name;        ///< as written in schema.json, e.g. "postal-code"
    bool (*check)(std::string_view);
    std::string_view code;        ///< e.g. "value.postal_code"
    std::string_view expectedPl;  ///< completes "… nie zawiera …", e.g. "prawidłowego kodu pocztowego"
    std::string_view expectedEn;  ///< completes "… is not …", e.g. "a valid postal code"
};

/// The format called `name`, or nullptr when Kooperdoc does not know it.
const Format* findFormat(std::string_view name);

}  // namespace kooperdoc::templates
