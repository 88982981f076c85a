// SPDX-License-Identifier: AGPL-3.0-or-later
// Every template's sample, rendered through the CLI, checked with poppler and qpdf.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include "CliSupport.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/templates/Catalog.h"
#include "kooperdoc/templates/Engine.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;

namespace {

std::vector<std::string> expectedPhrases(const std::string& id) {
    std::vector<std::string> phrases;
    std::istringstream in(readFile(sourceDir() + "/templates/catalog/" + id + "/samples/sample.expect.txt"));
    std::string line;
    while (std::getline(in, line)) {
        line = foldWhitespace(line);
        if (!line.empty()) phrases.push_back(line);
    }
    return phrases;
}

int pageCount(const std::string& pdf) {
    std::smatch m;
    const auto info = runCommand("pdfinfo " + quote(pdf)).output;
    return std::regex_search(info, m, std::regex("Pages:\\s+(\\d+)")) ? std::stoi(m[1]) : -1;
}

}  // namespace

TEST_CASE("every template's sample renders through the CLI into a PDF that poppler and qpdf accept",
          "[cli][templates]") {
    const auto dir = scratchDir("samples");
    const bool updateGolden = std::getenv("KOOPERDOC_UPDATE_GOLDEN") != nullptr;
    for (const auto* tmpl : templates::Catalog::builtIn().list()) {
        const auto& id = tmpl->metadata().id;
        INFO("template " << id);
        const auto input = sourceDir() + "/templates/catalog/" + id + "/samples/sample.json";
        const auto pdf = dir + "/" + id + ".pdf";
        const auto rendered = renderCli(id, input, pdf);
        REQUIRE(rendered.exitCode == 0);

        const auto text = foldWhitespace(pdfText(pdf));
        const auto phrases = expectedPhrases(id);
        CHECK(phrases.size() >= 8);
        for (const auto& phrase : phrases) {
            INFO("phrase: " << phrase);
            CHECK(text.find(phrase) != std::string::npos);
        }
        // Slash variants resolve from the data; the form's raw alternatives never reach paper.
        for (const char* raw : {"wyrażam/y", "osoby/rodziny/grupy", "radna/y", "reprezentowanym/ą", "……"}) {
            CHECK(text.find(raw) == std::string::npos);
        }

        const auto check = runCommand("qpdf --check " + quote(pdf) + " 2>&1");
        CHECK(check.exitCode == 0);
        CHECK(check.output.find("No syntax or stream encoding errors found") != std::string::npos);

        const auto fonts = runCommand("pdffonts " + quote(pdf)).output;
        CHECK(std::regex_search(fonts, std::regex("DejaVuSans\\s+CID TrueType\\s+Identity-H\\s+yes yes yes")));
        CHECK(std::regex_search(fonts, std::regex("DejaVuSans-Bold\\s+CID TrueType\\s+Identity-H\\s+yes yes yes")));

        // Golden: the page-by-page text under a fixed epoch. A change here is a change to what
        // people sign; review it, then regenerate with KOOPERDOC_UPDATE_GOLDEN=1.
        const auto layoutText = pdfText(pdf, true);
        const auto goldenPath = sourceDir() + "/tests/golden/" + id + ".txt";
        if (updateGolden) writeFile(goldenPath, layoutText);
        const auto golden = readFile(goldenPath);
        CHECK(layoutText == golden);
        const auto goldenPages = std::count(golden.begin(), golden.end(), '\f');
        CHECK(pageCount(pdf) == goldenPages);

        // Deterministic: the same input and epoch give the same bytes.
        const auto again = dir + "/" + id + "-again.pdf";
        REQUIRE(renderCli(id, input, again).exitCode == 0);
        CHECK(readFile(pdf) == readFile(again));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("the CLI lists templates, prints schemas and samples, and honours its exit codes", "[cli]") {
    const auto list = runCommand(quote(cli()) + " templates --json");
    REQUIRE(list.exitCode == 0);
    const auto parsed = parseJson(list.output).extract<Poco::JSON::Array::Ptr>();
    CHECK(parsed->size() == templates::Catalog::builtIn().list().size());
    const auto first = parsed->getObject(0);
    for (const char* key : {"id", "version", "kind", "title"}) CHECK(first->has(key));

    const auto id = first->getValue<std::string>("id");
    const auto schema = runCommand(quote(cli()) + " schema " + id);
    CHECK(schema.exitCode == 0);
    CHECK(parseJson(schema.output).extract<Poco::JSON::Object::Ptr>()->has("properties"));

    const auto dir = scratchDir("cli");
    // A sample piped through stdin renders.
    CHECK(runCommand(quote(cli()) + " sample " + id + " | SOURCE_DATE_EPOCH=1 " + quote(cli()) + " render " + id +
                     " - -o " + quote(dir + "/stdin.pdf"))
              .exitCode == 0);
    CHECK(std::filesystem::file_size(dir + "/stdin.pdf") > 1000);

    CHECK(runCommand(quote(cli()) + " render 2>/dev/null").exitCode == 2);
    CHECK(runCommand(quote(cli()) + " render no-such-template x.json -o x.pdf 2>/dev/null").exitCode == 2);
    CHECK(runCommand(quote(cli()) + " frobnicate 2>/dev/null").exitCode == 2);
    CHECK(runCommand(quote(cli()) + " render " + id + " - -o x.pdf --bogus 2>/dev/null </dev/null").exitCode == 2);
    CHECK(runCommand("SOURCE_DATE_EPOCH=yesterday " + quote(cli()) + " render " + id + " " +
                     quote(sourceDir() + "/templates/catalog/" + id + "/samples/sample.json") + " -o " +
                     quote(dir + "/x.pdf") + " 2>/dev/null")
              .exitCode == 2);

    // Invalid input: exit 3, every violation as JSON on stdout with --json, no PDF written.
    writeFile(dir + "/bad.json", R"({"no_such_field": true})");
    const auto invalid = runCommand(quote(cli()) + " render " + id + " " + quote(dir + "/bad.json") + " -o " +
                                    quote(dir + "/bad.pdf") + " --json");
    CHECK(invalid.exitCode == 3);
    const auto report = parseJson(invalid.output).extract<Poco::JSON::Object::Ptr>();
    CHECK(report->getValue<std::string>("code") == "request.invalid");
    const auto violations = report->getArray("violations");
    REQUIRE(violations->size() >= 2);  // the unknown field and at least one missing required one
    bool unknownReported = false;
    for (std::size_t i = 0; i < violations->size(); ++i) {
        const auto v = violations->getObject(static_cast<unsigned>(i));
        unknownReported |= v->getValue<std::string>("pointer") == "/no_such_field" &&
                           v->getValue<std::string>("code") == "schema.additional_property";
        CHECK_FALSE(v->getValue<std::string>("message_pl").empty());
    }
    CHECK(unknownReported);
    CHECK_FALSE(std::filesystem::exists(dir + "/bad.pdf"));

    writeFile(dir + "/broken.json", "{\"a\": ");
    CHECK(runCommand(quote(cli()) + " render " + id + " " + quote(dir + "/broken.json") + " -o " +
                     quote(dir + "/b.pdf") + " 2>/dev/null")
              .exitCode == 3);

    for (const char* command : {"templates", "schema", "sample", "render", "validate", "serve", "help"}) {
        INFO(command);
        const auto help = runCommand(quote(cli()) + " " + command + " --help");
        CHECK(help.exitCode == 0);
        CHECK(help.output.find("usage: kooperdoc") != std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("hostile input values appear literally in the PDF", "[cli][security]") {
    // Replace one printed string of a sample with text that looks like Mustache, HTML, our
    // markup and PDF operators; the PDF must show exactly that text.
    const std::string hostile = "{{tenant.nip}} <b>x</b> </p><pagebreak/> ) Tj BT /F1 99 Tf ET (zażółć &amp;";
    const auto dir = scratchDir("hostile");
    bool tested = false;
    for (const auto* tmpl : templates::Catalog::builtIn().list()) {
        auto sample = parseJson(tmpl->samples().at("sample"));
        const auto& id = tmpl->metadata().id;
        REQUIRE(renderCli(id, sourceDir() + "/templates/catalog/" + id + "/samples/sample.json", dir + "/orig.pdf")
                    .exitCode == 0);
        const auto originalText = foldWhitespace(pdfText(dir + "/orig.pdf"));
        Poco::JSON::Object::Ptr object = sample.extract<Poco::JSON::Object::Ptr>();
        for (const auto& [key, value] : *object) {
            // A top-level string the sample prints verbatim and that accepts free text.
            if (!value.isString()) continue;
            const auto original = value.extract<std::string>();
            if (original.size() < 8 || originalText.find(foldWhitespace(original)) == std::string::npos) continue;
            object->set(key, hostile);
            if (!templates::validateInput(*tmpl, sample).empty()) {
                object->set(key, original);
                continue;
            }
            std::ostringstream json;
            Poco::JSON::Stringifier::stringify(sample, json);
            writeFile(dir + "/in.json", json.str());
            INFO("template " << id << ", field " << key);
            REQUIRE(renderCli(id, dir + "/in.json", dir + "/out.pdf").exitCode == 0);
            CHECK(foldWhitespace(pdfText(dir + "/out.pdf")).find(foldWhitespace(hostile)) != std::string::npos);
            CHECK(runCommand("qpdf --check " + quote(dir + "/out.pdf") + " >/dev/null 2>&1").exitCode == 0);
            tested = true;
            break;
        }
        if (tested) break;
    }
    CHECK(tested);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a 300-row list of services paginates cleanly, header on every page, no row lost", "[cli][table]") {
    // The Gminno-powiatowa lista aktywności i usług with 300 activities in one group.
    const std::string id = "m1-lista-aktywnosci-uslug";
    auto sample = parseJson(templates::Catalog::builtIn().get(id).samples().at("sample"));
    Poco::JSON::Object::Ptr groups = sample.extract<Poco::JSON::Object::Ptr>()->getObject("groups");
    Poco::JSON::Array::Ptr rows = new Poco::JSON::Array;
    for (int i = 1; i <= 300; ++i) {
        Poco::JSON::Object::Ptr row = new Poco::JSON::Object;
        row->set("activity", "Zajęcia nr " + std::to_string(i));
        row->set("provider", "Ośrodek " + std::to_string(i % 7 + 1));
        row->set("locality", "Łaziska");
        row->set("schedule", "środy 16.00");
        row->set("recipients", "dorośli");
        row->set("conditions", "bezpłatne");
        row->set("area", "aktywizacja");
        rows->add(row);
    }
    groups->set("children_youth", rows);
    const auto dir = scratchDir("300rows");
    std::ostringstream json;
    Poco::JSON::Stringifier::stringify(sample, json);
    writeFile(dir + "/in.json", json.str());
    REQUIRE(renderCli(id, dir + "/in.json", dir + "/out.pdf").exitCode == 0);
    CHECK(runCommand("qpdf --check " + quote(dir + "/out.pdf") + " >/dev/null 2>&1").exitCode == 0);
    const int pages = pageCount(dir + "/out.pdf");
    REQUIRE(pages > 8);
    int next = 1;
    for (int page = 1; page <= pages; ++page) {
        const auto text = foldWhitespace(runCommand("pdftotext -f " + std::to_string(page) + " -l " + std::to_string(page) +
                                                    " " + quote(dir + "/out.pdf") + " -")
                                             .output);
        INFO("page " << page);
        CHECK(text.find("Strona " + std::to_string(page) + " z " + std::to_string(pages)) != std::string::npos);
        if (next <= 300 && text.find("Zajęcia nr " + std::to_string(next) + " ") != std::string::npos) {
            // Every page holding rows of the long table repeats its header row.
            CHECK(text.find("ODBIORCY") != std::string::npos);
            CHECK(text.find("WARUNKI") != std::string::npos);
        }
        while (next <= 300 && text.find("Zajęcia nr " + std::to_string(next) + " ") != std::string::npos) ++next;
    }
    CHECK(next == 301);
    std::filesystem::remove_all(dir);
}
