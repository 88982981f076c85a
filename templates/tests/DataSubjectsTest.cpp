// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <set>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/templates/Catalog.h"
#include "kooperdoc/templates/DataSubjects.h"

using namespace kooperdoc;
using templates::Catalog;
using templates::DataSubject;
using templates::extractDataSubjects;

namespace {

std::vector<DataSubject> subjectsOfSample(const std::string& templateId, const std::string& sample) {
    const auto& tmpl = Catalog::builtIn().get(templateId);
    return extractDataSubjects(tmpl, parseJson(tmpl.samples().at(sample)));
}

std::vector<std::string> namesWithRole(const std::vector<DataSubject>& subjects, const std::string& role) {
    std::vector<std::string> names;
    for (const auto& s : subjects) {
        if (s.role == role) names.push_back(s.fullName);
    }
    return names;
}

}  // namespace

TEST_CASE("data subjects: every adult and minor of the consent form, with the pointer's segment as role") {
    const auto subjects = subjectsOfSample("m1-oswiadczenie-zgoda", "sample");
    CHECK(namesWithRole(subjects, "adults").size() == 3);
    CHECK(namesWithRole(subjects, "minors").size() == 4);
    CHECK(namesWithRole(subjects, "adults").front() == "Marta Żurawska");
    CHECK(subjects.size() == 7);

    const auto parent = subjectsOfSample("m1-oswiadczenie-zgoda", "sample-rodzic");
    CHECK(namesWithRole(parent, "adults") == std::vector<std::string>{"Ewelina Bąk"});
    CHECK(namesWithRole(parent, "minors") == std::vector<std::string>{"Oliwier Bąk"});
}

TEST_CASE("data subjects: a single object, a name string, and free text that names nobody") {
    CHECK(namesWithRole(subjectsOfSample("m1-oswiadczenie-poufnosci", "sample"), "declarant") ==
          std::vector<std::string>{"Joanna Jędrzejczyk"});
    // "/subject_name" is a name by itself; "/case_number" and "/attendees" items are handled apart.
    const auto protocol = subjectsOfSample("m3-protokol-zzk-a", "person");
    CHECK(namesWithRole(protocol, "subject_name") == std::vector<std::string>{"Jan Kowalczyk"});
    CHECK(namesWithRole(protocol, "case_number").empty());
    // "/prepared_by" is "name, function" free text: not a name to index.
    CHECK(subjectsOfSample("m1-lista-aktywnosci-uslug", "sample").empty());
}

TEST_CASE("data subjects: PESEL when the item has one, and a person named twice is listed once") {
    const auto& tmpl = Catalog::builtIn().get("m1-oswiadczenie-zgoda");
    const auto input = parseJson(R"({"adults": [{"name": "Anna Nowak", "pesel": "44051401359"}, {"name": "Anna Nowak", "pesel": "44051401359"}],
                                     "minors": [{"name": "Jan Nowak"}, {"name": 7}, {"other": "x"}]})");
    const auto subjects = extractDataSubjects(tmpl, input);
    REQUIRE(subjects.size() == 2);
    CHECK(subjects[0].fullName == "Anna Nowak");
    CHECK(subjects[0].pesel == "44051401359");
    CHECK(subjects[0].role == "adults");
    CHECK(subjects[1].fullName == "Jan Nowak");
    CHECK(subjects[1].pesel.empty());
    CHECK(extractDataSubjects(tmpl, parseJson("{}")).empty());
}

TEST_CASE("data subjects: every sample of every template yields named people from its identification pointers") {
    // Samples whose identification fields hold only free text ("name, function"), which names
    // nobody the index could match: the whole template, or one sample of it.
    const std::set<std::string> namesNobody = {"m1-lista-aktywnosci-uslug", "m1-karta-oczekiwan/sample-osoba"};
    for (const auto* tmpl : Catalog::builtIn().list()) {
        std::set<std::string> roles;
        for (const auto& entry : tmpl->metadata().personalData) {
            if (entry.category != "identification") continue;
            for (const auto& pointer : entry.fields) roles.insert(pointer.substr(pointer.rfind('/') + 1));
        }
        for (const auto& [name, text] : tmpl->samples()) {
            INFO(tmpl->metadata().id << " / " << name);
            std::vector<DataSubject> subjects;
            REQUIRE_NOTHROW(subjects = extractDataSubjects(*tmpl, parseJson(text)));
            if (namesNobody.count(tmpl->metadata().id) == 0 && namesNobody.count(tmpl->metadata().id + "/" + name) == 0) {
                CHECK_FALSE(subjects.empty());
            }
            for (const auto& subject : subjects) {
                INFO(subject.role);
                CHECK_FALSE(subject.fullName.empty());
                CHECK(roles.count(subject.role) == 1);
                CHECK(text.find(subject.fullName) != std::string::npos);  // taken from the input, unchanged
            }
        }
    }
}
