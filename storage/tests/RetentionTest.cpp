// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <regex>
#include <set>

#include "Process.h"
#include "TestPaths.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/Retention.h"

using namespace kooperdoc;
using namespace kooperdoc::storage;

namespace {

std::string reasonOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.reason() + ": " + e.what();
    }
    return "no error";
}

constexpr std::int64_t at(int year, int month, int day) {
    // Good enough for the test dates below (2020–2040).
    constexpr int kDaysBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    std::int64_t days = 0;
    for (int y = 1970; y < year; ++y) days += (y % 4 == 0) ? 366 : 365;
    days += kDaysBefore[month - 1] + (month > 2 && year % 4 == 0 ? 1 : 0) + day - 1;
    return days * 86400;
}

std::string rulesWith(const std::string& rule) {
    return R"({"schema":"kooperdoc.retention/1","rules":[)" + rule + "]}";
}

}  // namespace

TEST_CASE("JRWA periods count whole calendar years from 1 January after the event", "[storage][retention]") {
    CHECK(jrwaPeriodEnd(at(2026, 3, 15), 10) == at(2037, 1, 1));
    CHECK(jrwaPeriodEnd(at(2026, 12, 31) + 86399, 10) == at(2037, 1, 1));
    CHECK(jrwaPeriodEnd(at(2027, 1, 1), 5) == at(2033, 1, 1));
    CHECK(jrwaPeriodEnd(at(2024, 2, 29), 0) == at(2025, 1, 1));
}

TEST_CASE("archival categories parse as the JRWA writes them", "[storage][retention]") {
    CHECK(ArchivalCategory::parse("A").kind == ArchivalCategory::Kind::kA);
    const auto b10 = ArchivalCategory::parse("B10");
    CHECK(b10.kind == ArchivalCategory::Kind::kB);
    CHECK(b10.years == 10);
    CHECK(b10.needsArchiveConsent());
    const auto be5 = ArchivalCategory::parse("BE5");
    CHECK(be5.kind == ArchivalCategory::Kind::kBE);
    CHECK(be5.years == 5);
    CHECK(ArchivalCategory::parse("Bc").kind == ArchivalCategory::Kind::kBc);
    CHECK_FALSE(ArchivalCategory::parse("Bc").needsArchiveConsent());
    for (const char* bad : {"", "B", "B0", "C10", "BE", "B1000", "b10", "A5"}) {
        INFO(bad);
        CHECK(reasonOf([&] { ArchivalCategory::parse(bad); }).rfind("retention.category_invalid", 0) == 0);
    }
}

TEST_CASE("the built-in rules cover every retention class of the template catalogue, with sources", "[storage][retention]") {
    const auto& policies = RetentionPolicies::builtIn();
    std::set<std::string> classes;
    const std::regex retentionClass("\"retention_class\"\\s*:\\s*\"([a-z-]+)\"");
    for (const auto& entry : std::filesystem::directory_iterator(kooperdoc::testing::sourceDir() + "/templates/catalog")) {
        const std::string json = kooperdoc::testing::readFile(entry.path().string() + "/template.json");
        std::smatch match;
        REQUIRE(std::regex_search(json, match, retentionClass));
        classes.insert(match[1].str());
        const RetentionRule& rule = policies.ruleFor(entry.path().filename().string(), match[1].str());
        CHECK_FALSE(rule.source.empty());
    }
    CHECK(classes.size() == 5);
    // The seed's clause: consent-based data end with the consent's withdrawal.
    const auto& consent = policies.ruleFor("m1-oswiadczenie-zgoda", "consent");
    CHECK(consent.legalBasis == "consent");
    CHECK(consent.eraseOnConsentWithdrawal);
    CHECK(consent.source.find("4780") != std::string::npos);
    // Partnership agreements are archival material: never destroyed.
    CHECK(policies.ruleFor("m1-porozumienie-pzk", "institutional-agreement").category.kind == ArchivalCategory::Kind::kA);
    CHECK(reasonOf([&] { policies.ruleFor("x", "unknown-class"); }).rfind("retention.no_rule", 0) == 0);
}

TEST_CASE("a rule for one template wins over its class's rule", "[storage][retention]") {
    const auto policies = RetentionPolicies::fromJson(rulesWith(
        R"({"id":"c","retention_class":"case-record","legal_basis":"public_task","archival_category":"B10","trigger":"case_closed","action":"erase","source":"JRWA 4.1"},
           {"id":"t","template_id":"m2-monitoring","legal_basis":"public_task","archival_category":"B25","trigger":"case_closed","action":"erase","source":"JRWA 4.2"})"));
    CHECK(policies.ruleFor("m2-monitoring", "case-record").id == "t");
    CHECK(policies.ruleFor("m2-karta-planu-pracy", "case-record").id == "c");
}

TEST_CASE("invalid retention rules are refused with the rule and the key named", "[storage][retention]") {
    const std::string good =
        R"("legal_basis":"public_task","archival_category":"B10","trigger":"case_closed","action":"erase","source":"s")";
    const auto refused = [&](const std::string& json, const std::string& expected) {
        const std::string reason = reasonOf([&] { RetentionPolicies::fromJson(json); });
        INFO(json << "\n" << reason);
        CHECK(reason.rfind("retention.invalid", 0) == 0);
        CHECK(reason.find(expected) != std::string::npos);
    };
    refused("[]", "JSON object");
    refused(R"({"schema":"other","rules":[]})", "schema");
    refused(rulesWith(""), "non-empty");
    refused(rulesWith(R"({"id":"x",)" + good + "}"), "exactly one of retention_class, template_id");
    refused(rulesWith(R"({"id":"x","retention_class":"a",)" + good + R"(},{"id":"x","retention_class":"b",)" + good + "}"),
            "duplicate id");
    refused(rulesWith(R"({"id":"x","retention_class":"a",)" + good + R"(},{"id":"y","retention_class":"a",)" + good + "}"),
            "same documents");
    refused(rulesWith(R"({"id":"x","retention_class":"a","legal_basis":"whim","archival_category":"B10","trigger":"case_closed","action":"erase","source":"s"})"),
            "legal_basis");
    refused(rulesWith(R"({"id":"x","retention_class":"a","legal_basis":"public_task","archival_category":"A","trigger":"case_closed","action":"erase","source":"s"})"),
            "category A");
    refused(rulesWith(R"({"id":"x","retention_class":"a","legal_basis":"public_task","archival_category":"BE5","trigger":"created","action":"erase","source":"s"})"),
            "expert review");
    refused(rulesWith(R"({"id":"x","retention_class":"a","legal_basis":"public_task","archival_category":"B10","trigger":"someday","action":"erase","source":"s"})"),
            "trigger");
    refused(rulesWith(R"({"id":"x","retention_class":"a","legal_basis":"public_task","archival_category":"B10","trigger":"case_closed","action":"erase","erase_on_consent_withdrawal":true,"source":"s"})"),
            "consent-based");
    refused(rulesWith(R"({"id":"x","retention_class":"a","legal_basis":"public_task","archival_category":"B10","trigger":"case_closed","action":"erase"})"),
            "source");
}
