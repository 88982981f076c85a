// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The CLI against one data directory with one tenant, for the storage and audit tests.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "CliSupport.h"
#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::testing {

inline const char* const kTenantProfile = R"({
  "name": "Gminny Ośrodek Pomocy Społecznej w Przykładowie", "short_name": "GOPS w Przykładowie", "kind": "OPS",
  "address": "ul. Przykładowa 1, 00-001 Przykładowo", "city": "Przykładowo", "nip": "5261040828", "regon": "123456785",
  "email": "sekretariat@gops.przykladowo.example", "dpo_email": "iod@gops.przykladowo.example",
  "withdrawal_address": "GOPS w Przykładowie, ul. Przykładowa 1, 00-001 Przykładowo, pokój 12",
  "archival_period": "10 lat, licząc od 1 stycznia roku następującego po zakończeniu współpracy"
})";

struct Outcome {
    int exitCode = -1;
    std::string out, err;
};

/// Runs the CLI against one data directory; everything it prints is also appended to the
/// test's log, which the erasure test searches like an operator's log files.
class StoreCli {
public:
    /// \p environment: assignments put before the command (e.g. KOOPERDOC_MASTER_KEY=…);
    /// \p configuration: the text of a --config file, when the test needs other settings.
    explicit StoreCli(const std::string& name, std::string environment = "", const std::string& configuration = "")
        : dir_(scratchDir(name)), environment_(std::move(environment)) {
        if (!configuration.empty()) {
            writeFile(file("kooperdoc.properties"), configuration);
            environment_ += " KOOPERDOC_CONFIG=" + quote(file("kooperdoc.properties"));
        }
        writeFile(file("tenant.json"), kTenantProfile);
        REQUIRE(run("tenant put gops --profile " + quote(file("tenant.json"))).exitCode == 0);
    }

    std::string file(const std::string& name) const { return dir_ + "/" + name; }
    std::string dataDir() const { return dir_ + "/data"; }
    std::string database() const { return dataDir() + "/kooperdoc.db"; }
    std::string log() const { return readFile(file("cli.log")); }

    Outcome run(const std::string& args, const std::string& input = "", const std::string& dataDir = "") {
        const auto errFile = file("stderr.txt");
        std::string command = "SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + environment_ + " " + quote(cli()) +
                              " --data-dir " + quote(dataDir.empty() ? this->dataDir() : dataDir) + " " + args + " 2>" +
                              quote(errFile);
        if (!input.empty()) {
            writeFile(file("stdin.txt"), input);
            command += " <" + quote(file("stdin.txt"));
        }
        const auto result = runCommand(command);
        Outcome outcome{result.exitCode, result.output, readFile(errFile)};
        std::ofstream(file("cli.log"), std::ios::app) << outcome.out << outcome.err;
        INFO("kooperdoc " << args << "\n" << outcome.out << outcome.err);
        return outcome;
    }

    /// Stores a sample of the built-in catalogue; returns the new document's id.
    std::string store(const std::string& templateId, const std::string& sample, const std::string& extra = "") {
        const auto input = file(templateId + "-" + sample + ".json");
        writeFile(input, templates::Catalog::builtIn().get(templateId).samples().at(sample));
        const auto outcome = run("store " + templateId + " " + quote(input) + " --tenant gops " + extra);
        INFO(outcome.err);
        REQUIRE(outcome.exitCode == 0);
        auto id = outcome.out;
        while (!id.empty() && id.back() == '\n') id.pop_back();
        REQUIRE(id.rfind("KD-", 0) == 0);
        return id;
    }

    std::string document(const std::string& id, const std::string& dataDir = "") {
        const auto pdf = file(id + ".pdf");
        std::filesystem::remove(pdf);
        const auto outcome = run("document get " + id + " --tenant gops -o " + quote(pdf), "", dataDir);
        REQUIRE(outcome.exitCode == 0);
        return readFile(pdf);
    }

    /// A copy of the data directory (database, WAL and keys) to tamper with.
    std::string copyData(const std::string& name) const {
        const auto copy = file(name);
        std::filesystem::remove_all(copy);
        std::filesystem::copy(dataDir(), copy, std::filesystem::copy_options::recursive);
        return copy;
    }

private:
    std::string dir_;
    std::string environment_;
};

}  // namespace kooperdoc::testing
