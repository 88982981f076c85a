// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/templates/Formats.h"

#include <array>
#include <cstddef>

namespace kooperdoc::templates {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool allDigits(std::string_view text) {
    for (char c : text) {
        if (!isDigit(c)) return false;
    }
    return true;
}

int digitAt(std::string_view text, std::size_t index) { return text[index] - '0'; }

/// Reads `count` digits at `pos` as a number; -1 when any of them is not a digit.
int readNumber(std::string_view text, std::size_t pos, std::size_t count) {
    if (pos + count > text.size()) return -1;
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (!isDigit(text[i])) return -1;
        value = value * 10 + digitAt(text, i);
    }
    return value;
}

bool isLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

template <std::size_t N>
int weightedSum(std::string_view digits, const std::array<int, N>& weights) {
    int sum = 0;
    for (std::size_t i = 0; i < N; ++i) sum += digitAt(digits, i) * weights[i];
    return sum;
}

bool isAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool isAtext(char c) {
    if (isAsciiLetter(c) || isDigit(c)) return true;
    constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
    return kSpecials.find(c) != std::string_view::npos;
}

bool isValidDomain(std::string_view domain) {
    if (domain.empty() || domain.size() > 253) return false;
    std::size_t labels = 0;
    std::string_view last;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = domain.find('.', start);
        const std::string_view label =
            domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label) {
            if (!isAsciiLetter(c) && !isDigit(c) && c != '-') return false;
        }
        ++labels;
        last = label;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    // An all-digit last label is an IPv4 address or a typo, never a top-level domain.
    return labels >= 2 && !allDigits(last);
}

/// Parses "HH:MM:SS[.frac]" at `pos`; advances `pos`. Seconds may be 60 (checked by the caller).
bool parseTime(std::string_view text, std::size_t& pos, int& hour, int& minute, int& second) {
    hour = readNumber(text, pos, 2);
    if (hour < 0 || hour > 23 || pos + 2 >= text.size() || text[pos + 2] != ':') return false;
    minute = readNumber(text, pos + 3, 2);
    if (minute < 0 || minute > 59 || pos + 5 >= text.size() || text[pos + 5] != ':') return false;
    second = readNumber(text, pos + 6, 2);
    if (second < 0 || second > 60) return false;
    pos += 8;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t digitsStart = pos;
        while (pos < text.size() && isDigit(text[pos])) ++pos;
        if (pos == digitsStart) return false;
    }
    return true;
}

}  // namespace

bool isRealDay(int year, int month, int day) {
    if (month < 1 || month > 12 || day < 1) return false;
    constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int last = (month == 2 && isLeapYear(year)) ? 29 : kDays[static_cast<std::size_t>(month - 1)];
    return day <= last;
}

std::optional<CalendarDate> parseDate(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    const int year = readNumber(text, 0, 4);
    const int month = readNumber(text, 5, 2);
    const int day = readNumber(text, 8, 2);
    if (year < 0 || month < 0 || day < 0 || !isRealDay(year, month, day)) return std::nullopt;
    return CalendarDate{year, month, day};
}

bool isValidDate(std::string_view text) { return parseDate(text).has_value(); }

bool isValidDateTime(std::string_view text) {
    if (text.size() < 20 || !isValidDate(text.substr(0, 10)) || (text[10] != 'T' && text[10] != 't')) return false;
    std::size_t pos = 11;
    int hour = 0;
    int minute = 0;
    int second = 0;
    if (!parseTime(text, pos, hour, minute, second) || pos >= text.size()) return false;
    int offsetMinutes = 0;
    if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
        const int offsetHour = readNumber(text, pos + 1, 2);
        const int offsetMinute = readNumber(text, pos + 4, 2);
        if (offsetHour < 0 || offsetHour > 23 || offsetMinute < 0 || offsetMinute > 59 || text[pos + 3] != ':') {
            return false;
        }
        offsetMinutes = (offsetHour * 60 + offsetMinute) * (text[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return false;
    }
    if (pos != text.size()) return false;
    if (second == 60) {
        // A leap second is inserted at the end of a UTC day, so local 23:59:60 exists only in UTC.
        constexpr int kMinutesPerDay = 24 * 60;
        const int utcMinutes = ((hour * 60 + minute - offsetMinutes) % kMinutesPerDay + kMinutesPerDay) % kMinutesPerDay;
        if (utcMinutes != kMinutesPerDay - 1) return false;
    }
    return true;
}

bool isValidEmail(std::string_view text) {
    if (text.size() > 254) return false;
    const std::size_t at = text.rfind('@');
    if (at == std::string_view::npos) return false;
    const std::string_view local = text.substr(0, at);
    if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
    char previous = '\0';
    for (char c : local) {
        if (c == '.' && previous == '.') return false;
        if (c != '.' && !isAtext(c)) return false;
        previous = c;
    }
    return isValidDomain(text.substr(at + 1));
}

std::optional<CalendarDate> peselBirthDate(std::string_view pesel) {
    if (pesel.size() != 11 || !allDigits(pesel)) return std::nullopt;
    constexpr std::array<int, 10> kWeights = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
    const int check = (10 - weightedSum(pesel, kWeights) % 10) % 10;
    if (check != digitAt(pesel, 10)) return std::nullopt;
    const int twoDigitYear = readNumber(pesel, 0, 2);
    const int encodedMonth = readNumber(pesel, 2, 2);
    const int day = readNumber(pesel, 4, 2);
    // The month carries the century: 1–12 for 1900s, 21–32 for 2000s, 41–52, 61–72, 81–92 (1800s).
    constexpr std::array<int, 5> kCenturies = {1900, 2000, 2100, 2200, 1800};
    const int block = encodedMonth / 20;
    const int month = encodedMonth % 20;
    const int year = kCenturies[static_cast<std::size_t>(block)] + twoDigitYear;
    if (!isRealDay(year, month, day)) return std::nullopt;
    return CalendarDate{year, month, day};
}

bool isValidPesel(std::string_view text) { return peselBirthDate(text).has_value(); }

bool isValidNip(std::string_view text) {
    if (text.size() != 10 || !allDigits(text)) return false;
    constexpr std::array<int, 9> kWeights = {6, 5, 7, 2, 3, 4, 5, 6, 7};
    const int check = weightedSum(text, kWeights) % 11;
    return check != 10 && check == digitAt(text, 9);
}

bool isValidRegon(std::string_view text) {
    if ((text.size() != 9 && text.size() != 14) || !allDigits(text)) return false;
    constexpr std::array<int, 8> kWeights9 = {8, 9, 2, 3, 4, 5, 6, 7};
    const int check9 = weightedSum(text, kWeights9) % 11 % 10;
    if (check9 != digitAt(text, 8)) return false;
    if (text.size() == 9) return true;
    constexpr std::array<int, 13> kWeights14 = {2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8};
    return weightedSum(text, kWeights14) % 11 % 10 == digitAt(text, 13);
}

bool isValidKrs(std::string_view text) { return text.size() == 10 && allDigits(text); }

bool isValidPostalCode(std::string_view text) {
    return text.size() == 6 && text[2] == '-' && allDigits(text.substr(0, 2)) && allDigits(text.substr(3));
}

bool isValidPhone(std::string_view text) {
    if (text.size() < 7 || text.size() > 20 || !isDigit(text.back())) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool allowed = isDigit(c) || c == ' ' || c == '-' || (c == '+' && i == 0);
        if (!allowed) return false;
    }
    return true;
}

const Format* findFormat(std::string_view name) {
    static constexpr std::array<Format, 9> kFormats = {{
        {"date", isValidDate, "value.date", "prawidłowej daty w formacie RRRR-MM-DD",
         "a valid date (YYYY-MM-DD)"},
        {"date-time", isValidDateTime, "value.date_time",
         "prawidłowej daty z godziną (RFC 3339, np. 2024-05-14T09:30:00+02:00)",
         "a valid RFC 3339 date-time (e.g. 2024-05-14T09:30:00+02:00)"},
        {"email", isValidEmail, "value.email", "prawidłowego adresu e-mail", "a valid e-mail address"},
        {"pesel", isValidPesel, "value.pesel",
         "prawidłowego numeru PESEL (11 cyfr, poprawna data urodzenia i cyfra kontrolna)",
         "a valid PESEL (11 digits, a real birth date and a correct check digit)"},
        {"nip", isValidNip, "value.nip", "prawidłowego numeru NIP (10 cyfr bez kresek, poprawna cyfra kontrolna)",
         "a valid NIP (10 digits without dashes, a correct check digit)"},
        {"regon", isValidRegon, "value.regon", "prawidłowego numeru REGON (9 lub 14 cyfr, poprawna cyfra kontrolna)",
         "a valid REGON (9 or 14 digits, a correct check digit)"},
        {"krs", isValidKrs, "value.krs", "prawidłowego numeru KRS (10 cyfr)", "a valid KRS number (10 digits)"},
        {"postal-code", isValidPostalCode, "value.postal_code", "prawidłowego kodu pocztowego (00-000)",
         "a valid postal code (00-000)"},
        {"phone", isValidPhone, "value.phone",
         "prawidłowego numeru telefonu (7–20 znaków: cyfry, spacje, „-”, „+” na początku)",
         "a valid phone number (7–20 characters: digits, spaces, \"-\", a leading \"+\")"},
    }};
    for (const auto& format : kFormats) {
        if (format.name == name) return &format;
    }
    return nullptr;
}

}  // namespace kooperdoc::templates
