// SPDX-License-Identifier: AGPL-3.0-or-later
// The audit trail from the command line, end to end (issue 6): a busy log verifies, each way of
// tampering with its rows (sqlite3 on the database file, as an operator with shell access would)
// is caught with its own problem code, an erased person leaves no trace in the log while it goes
// on verifying, and a document's "Karta audytu" proves its history with nothing but the file and
// the audit public key — checked with poppler (pdfdetach) and qpdf, not just our own reader.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "CliSupport.h"
#include "StoreCliSupport.h"
#include "VerifySupport.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/templates/Catalog.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;
namespace fs = std::filesystem;

namespace {

/// The store CLI with a checkpoint every 3 entries, so that a short test log has several
/// checkpoints to tamper with.
class AuditCli : public StoreCli {
public:
    explicit AuditCli(const std::string& name) : StoreCli(name, "", "kooperdoc.audit.checkpoint_every = 3\n") {}
};

int sql(const std::string& dataDir, const std::string& statement) {
    return runCommand("sqlite3 " + quote(dataDir + "/kooperdoc.db") + " " + quote(statement) + " 2>&1").exitCode;
}

Poco::JSON::Object::Ptr jsonObject(const std::string& text) { return parseJson(text).extract<Poco::JSON::Object::Ptr>(); }

/// `audit verify --json` on a data directory: {ok, problem, first_bad_index, …}.
Poco::JSON::Object::Ptr verify(StoreCli& kd, const std::string& dataDir, const std::string& extra = "") {
    const auto outcome = kd.run("audit verify --json " + extra, "", dataDir);
    INFO(outcome.out << outcome.err);
    REQUIRE((outcome.exitCode == 0 || outcome.exitCode == 1));
    auto result = jsonObject(outcome.out);
    CHECK(result->getValue<bool>("ok") == (outcome.exitCode == 0));
    return result;
}

}  // namespace

TEST_CASE("audit CLI: a busy log verifies, and every tamper vector is caught with its problem code") {
    AuditCli kd("audit-tamper");
    const auto first = kd.store("m1-oswiadczenie-zgoda", "sample-osoba", "--case GOPS/1/2026 --actor u-17 --role animator");
    const auto second = kd.store("m1-oswiadczenie-zgoda", "sample", "--case GOPS/2/2026");
    const auto third = kd.store("m1-oswiadczenie-poufnosci", "sample", "--case GOPS/3/2026");
    for (const auto& id : {first, second, third}) {
        REQUIRE(kd.run("document get " + id + " --tenant gops -o " + quote(kd.file(id + ".pdf"))).exitCode == 0);
    }
    REQUIRE(kd.run("hold place --tenant gops --document " + third + " --reason kontrola --by u-1").exitCode == 0);

    // A name is refused as an actor before anything changes.
    const auto named = kd.run("document get " + first + " --tenant gops -o " + quote(kd.file("x.pdf")) + " --actor 'Jan Kowalski'");
    CHECK(named.exitCode == 2);
    CHECK_FALSE(fs::exists(kd.file("x.pdf")));

    const auto healthy = verify(kd, kd.dataDir());
    REQUIRE(healthy->getValue<bool>("ok"));
    const auto entries = healthy->getValue<int>("entries");
    CHECK(entries == 8);  // tenant, 3 × created, 3 × downloaded, hold; the refused actor added nothing
    CHECK(healthy->getValue<int>("checkpoints") == 2);  // at 3 and 6
    CHECK(kd.run("audit verify").exitCode == 0);

    // An auditor saves a checkpoint now; the log goes on growing.
    const auto trusted = kd.run("audit checkpoint");
    REQUIRE(trusted.exitCode == 0);
    writeFile(kd.file("trusted.txt"), trusted.out);
    kd.store("m1-oswiadczenie-poufnosci", "sample", "--case GOPS/4/2026");
    CHECK(verify(kd, kd.dataDir(), "--trusted-checkpoint " + quote(kd.file("trusted.txt")))->getValue<bool>("ok"));

    SECTION("an edited entry breaks the chain at that entry") {
        const auto copy = kd.copyData("edited");
        REQUIRE(sql(copy, "UPDATE audit_entries SET entry = replace(entry, '\"role\":\"animator\"', '\"role\":\"dpo\"') WHERE idx = 1") == 0);
        const auto result = verify(kd, copy);
        CHECK(result->getValue<std::string>("problem") == "audit.chain");
        CHECK(result->getValue<int>("first_bad_index") == 1);
    }
    SECTION("a deleted middle row leaves a gap") {
        const auto copy = kd.copyData("deleted");
        REQUIRE(sql(copy, "DELETE FROM audit_entries WHERE idx = 4") == 0);
        const auto result = verify(kd, copy);
        CHECK(result->getValue<std::string>("problem") == "audit.entry_index");
        CHECK(result->getValue<int>("first_bad_index") == 4);
    }
    SECTION("two swapped rows are out of place") {
        const auto copy = kd.copyData("swapped");
        REQUIRE(sql(copy, "UPDATE audit_entries SET idx = -1 WHERE idx = 2; UPDATE audit_entries SET idx = 2 WHERE idx = 3; "
                          "UPDATE audit_entries SET idx = 3 WHERE idx = -1") == 0);
        const auto result = verify(kd, copy);
        CHECK(result->getValue<std::string>("problem") == "audit.entry_index");
        CHECK(result->getValue<int>("first_bad_index") == 2);
    }
    SECTION("the newest rows deleted with their checkpoints pass alone, but not against the auditor's checkpoint") {
        const auto copy = kd.copyData("truncated");
        REQUIRE(sql(copy, "DELETE FROM audit_entries WHERE idx >= 6; DELETE FROM audit_checkpoints WHERE size > 6") == 0);
        CHECK(verify(kd, copy)->getValue<bool>("ok"));  // consistent in itself: only an outside checkpoint tells
        const auto result = verify(kd, copy, "--trusted-checkpoint " + quote(kd.file("trusted.txt")));
        CHECK(result->getValue<std::string>("problem") == "audit.truncated");
        CHECK(result->getValue<int>("first_bad_index") == 6);
        const auto text = kd.run("audit verify --trusted-checkpoint " + quote(kd.file("trusted.txt")), "", copy);
        CHECK(text.exitCode == 1);
        CHECK(text.out.find("audit.truncated") != std::string::npos);
    }
    SECTION("a checkpoint note signed by another key is refused") {
        AuditCli other("audit-other-key");
        const auto foreign = other.run("audit checkpoint");
        REQUIRE(foreign.exitCode == 0);
        writeFile(kd.file("foreign.txt"), foreign.out);
        const auto copy = kd.copyData("foreign");
        REQUIRE(sql(copy, "UPDATE audit_checkpoints SET note = CAST(readfile('" + kd.file("foreign.txt") +
                              "') AS TEXT) WHERE size = (SELECT MIN(size) FROM audit_checkpoints)") == 0);
        CHECK(verify(kd, copy)->getValue<std::string>("problem") == "audit.checkpoint_signature");
        // The other key's own public key does not make this log verify either.
        writeFile(kd.file("other.pem"), other.run("audit public-key").out);
        CHECK_FALSE(verify(kd, kd.dataDir(), "--public-key " + quote(kd.file("other.pem")))->getValue<bool>("ok"));
    }
}

TEST_CASE("audit CLI: after a subject's erasure the log still verifies and names nobody") {
    AuditCli kd("audit-erasure");
    const std::string person = "Tadeusz Wiśniewski";
    const auto erased = kd.store("m1-oswiadczenie-zgoda", "sample-osoba", "--case GOPS/1/2026");
    kd.store("m1-oswiadczenie-zgoda", "sample", "--case GOPS/2/2026");
    writeFile(kd.file("name.txt"), person + "\n");
    const auto found = runCommand("SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + quote(cli()) + " subject find --tenant gops - --json --data-dir " +
                                  quote(kd.dataDir()) + " <" + quote(kd.file("name.txt")));
    REQUIRE(found.exitCode == 0);
    const auto subject = parseJson(found.output).extract<Poco::JSON::Array::Ptr>()->getObject(0)->getValue<std::string>("subject_id");
    REQUIRE(kd.run("subject export --tenant gops " + subject + " -o " + quote(kd.file("export.zip"))).exitCode == 0);
    const auto erasure = kd.run("subject erase --tenant gops " + subject + " --role dpo --actor dpo-1");
    REQUIRE(erasure.exitCode == 0);

    CHECK(verify(kd, kd.dataDir())->getValue<bool>("ok"));
    const auto rows = runCommand("sqlite3 " + quote(kd.database()) + " 'SELECT entry FROM audit_entries; SELECT note FROM audit_checkpoints'");
    REQUIRE(rows.exitCode == 0);
    // The erasure is in the log: by pseudonymous subject id and document id, with its outcome.
    CHECK(rows.output.find("\"type\":\"subject.erased\"") != std::string::npos);
    CHECK(rows.output.find("\"subject\":\"" + subject + "\"") != std::string::npos);
    CHECK(rows.output.find("\"document\":\"" + erased + "\"") != std::string::npos);
    CHECK(rows.output.find("\"outcome\":\"erased\"") != std::string::npos);
    for (const std::string& trace : {person, std::string("Wiśniewski"), std::string("WIŚNIEWSKI"), std::string("Tadeusz"), std::string("Ogrodowa")}) {
        INFO(trace);
        CHECK(rows.output.find(trace) == std::string::npos);
    }
    // Nor anything shaped like a PESEL: eleven digits standing alone (inside a hex hash or a
    // base64 signature such runs occur by chance and name nobody).
    CHECK_FALSE(std::regex_search(rows.output, std::regex("(^|[^0-9A-Za-z+/=])[0-9]{11}([^0-9A-Za-z+/=]|$)")));
}

TEST_CASE("audit CLI: the Karta audytu proves a sealed document's history offline") {
    AuditCli kd("audit-card");
    const auto id = kd.store("m1-oswiadczenie-poufnosci", "sample",
                             "--case GOPS/3/2026 --seal --level B-B --identity " + quote(kd.file("identity")));
    REQUIRE(kd.run("document get " + id + " --tenant gops -o " + quote(kd.file("stored.pdf"))).exitCode == 0);
    const auto exported = kd.run("document export " + id + " --tenant gops -o " + quote(kd.file("out.pdf")));
    REQUIRE(exported.exitCode == 0);
    const auto card = kd.file("out-karta-audytu.pdf");
    REQUIRE(fs::exists(card));
    // The document goes out byte for byte as stored: its seal is untouched.
    CHECK(readFile(kd.file("out.pdf")) == readFile(kd.file("stored.pdf")));
    CHECK(runCommand("pdfsig " + quote(kd.file("out.pdf")) + " 2>&1").output.find("Signature Validation: Signature is Valid") !=
          std::string::npos);

    const auto publicKey = kd.run("audit public-key");
    REQUIRE(publicKey.exitCode == 0);
    writeFile(kd.file("audit.pem"), publicKey.out);

    // Independent tools: qpdf finds the card sound, poppler lists and extracts the attachment.
    CHECK(runCommand("qpdf --check " + quote(card) + " >/dev/null 2>&1").exitCode == 0);
    const auto listing = runCommand("pdfdetach -list " + quote(card));
    REQUIRE(listing.exitCode == 0);
    CHECK(listing.output.find("kooperdoc-audit.json") != std::string::npos);
    // poppler 22.12's -savefile does not find names it lists: save by the number -list gives.
    const auto save = [&](const std::string& name, const std::string& to) {
        std::smatch match;
        REQUIRE(std::regex_search(listing.output, match, std::regex("(\\d+): " + std::regex_replace(name, std::regex("[.-]"), "\\$&"))));
        REQUIRE(runCommand("pdfdetach -save " + match[1].str() + " -o " + quote(to) + " " + quote(card)).exitCode == 0);
    };
    save("kooperdoc-audit.json", kd.file("trail.json"));
    // The card carries the exported file byte for byte, so one file holds the document and its trail.
    save(id + ".pdf", kd.file("carried.pdf"));
    CHECK(readFile(kd.file("carried.pdf")) == readFile(kd.file("out.pdf")));
    const auto trail = readFile(kd.file("trail.json"));
    // Byte-identical to what the card says it attached (its SHA-256 is printed on the page).
    CHECK(foldWhitespace(pdfText(card)).find(sha256Hex(trail)) != std::string::npos);
    const auto text = foldWhitespace(pdfText(card));
    CHECK(text.find("Karta audytu") != std::string::npos);
    CHECK(text.find("Utworzenie dokumentu") != std::string::npos);
    CHECK(text.find("Opieczętowanie dokumentu") != std::string::npos);

    // Offline: no --data-dir, no configuration, just the file and the public key.
    const auto offline = [&](const std::string& args) {
        return runCommand(quote(cli()) + " audit check " + args + " 2>&1");
    };
    const auto passed = offline(quote(card) + " --public-key " + quote(kd.file("audit.pem")) + " --document " + quote(kd.file("out.pdf")));
    INFO(passed.output);
    CHECK(passed.exitCode == 0);
    // Without --document the card's carried copy is what the trail must name.
    const auto alone = offline(quote(card) + " --public-key " + quote(kd.file("audit.pem")));
    CHECK(alone.exitCode == 0);
    CHECK(alone.output.find("bound to carried:" + id + ".pdf") != std::string::npos);
    CHECK(offline(quote(kd.file("trail.json")) + " --public-key " + quote(kd.file("audit.pem"))).exitCode == 0);
    CHECK(offline(quote(card) + " --public-key " + quote(kd.file("audit.pem")) + " --origin other.example/audit").exitCode == 1);
    // The card does not vouch for another file.
    CHECK(offline(quote(card) + " --public-key " + quote(kd.file("audit.pem")) + " --document " + quote(kd.file("trail.json")))
              .output.find("audit.document_not_in_trail") != std::string::npos);

    SECTION("another public key") {
        AuditCli other("audit-card-other");
        writeFile(kd.file("other.pem"), other.run("audit public-key").out);
        const auto refused = offline(quote(card) + " --public-key " + quote(kd.file("other.pem")));
        CHECK(refused.exitCode == 1);
        CHECK(refused.output.find("audit.receipt_invalid") != std::string::npos);
    }
    SECTION("one byte of an attached entry changed") {
        // The attachment is stored unfiltered, so the entry's bytes are in the file as they are.
        auto bytes = readFile(card);
        const auto at = bytes.find("document.created");
        REQUIRE(at != std::string::npos);
        bytes[at + 9] = 'k';  // "document.kreated"
        writeFile(kd.file("tampered.pdf"), bytes);
        const auto refused = offline(quote(kd.file("tampered.pdf")) + " --public-key " + quote(kd.file("audit.pem")));
        CHECK(refused.exitCode == 1);
        CHECK(refused.output.find("audit.receipt_invalid") != std::string::npos);
    }
}

TEST_CASE("audit CLI: a sealed document carries its own trail, certified by the seal") {
    AuditCli kd("audit-sealed");
    const std::string seal = "--seal --level B-B --identity " + quote(kd.file("identity"));
    const auto id = kd.store("m1-oswiadczenie-poufnosci", "sample", "--case GOPS/4/2026 " + seal);
    const auto other = kd.store("m1-oswiadczenie-poufnosci", "sample", "--case GOPS/5/2026 " + seal);
    REQUIRE(kd.run("document get " + id + " --tenant gops -o " + quote(kd.file("sealed.pdf"))).exitCode == 0);
    REQUIRE(kd.run("audit prove " + other + " -o " + quote(kd.file("other.json"))).exitCode == 0);
    writeFile(kd.file("audit.pem"), kd.run("audit public-key").out);
    const auto sealed = kd.file("sealed.pdf");

    // Independent tools: the seal is valid over the whole file, the trail is an attachment, the
    // last page is the card, and qpdf finds the structure sound.
    const auto pdfsig = runCommand("pdfsig " + quote(sealed) + " 2>&1").output;
    INFO(pdfsig);
    CHECK(pdfsig.find("Signature Validation: Signature is Valid") != std::string::npos);
    CHECK(pdfsig.find("Total document signed") != std::string::npos);
    CHECK(runCommand("qpdf --check " + quote(sealed) + " >/dev/null 2>&1").exitCode == 0);
    CHECK(runCommand("pdfdetach -list " + quote(sealed)).output.find("kooperdoc-audit.json") != std::string::npos);
    const auto text = foldWhitespace(pdfText(sealed));
    const auto card = text.rfind("Karta audytu");
    REQUIRE(card != std::string::npos);
    CHECK(text.find("Wygenerowanie pliku PDF", card) != std::string::npos);
    CHECK(text.find("przyjmowanie", card) == std::string::npos);  // the role of the CLI is admin
    // The entry names the input SHA-256 the footer prints on every page.
    const std::regex footer("SHA-256 danych: ([0-9a-f]{64})");
    std::smatch match;
    REQUIRE(std::regex_search(text, match, footer));
    CHECK(text.find(match[1].str(), card) != std::string::npos);

    const auto offline = [&](const std::string& file) {
        return runCommand(quote(cli()) + " audit check " + quote(file) + " --public-key " + quote(kd.file("audit.pem")) + " 2>&1");
    };
    const auto passed = offline(sealed);
    INFO(passed.output);
    CHECK(passed.exitCode == 0);
    CHECK(passed.output.find("bound to document") != std::string::npos);

    // An auditor's verification of the stored document is itself an event of its history.
    const auto verified = kd.run("document verify " + id + " --tenant gops --role auditor --actor auditor-1 --trust " +
                                 quote(kd.file("identity/ca.pem")));
    INFO(verified.out << verified.err);
    CHECK(verified.exitCode == 0);
    CHECK(verified.out.find("TOTAL-PASSED") != std::string::npos);
    const auto proven = kd.run("audit prove " + id);
    REQUIRE(proven.exitCode == 0);
    CHECK(proven.out.find(R"(\"outcome\":\"passed\")") != std::string::npos);
    CHECK(proven.out.find(R"(\"type\":\"document.verified\")") != std::string::npos);
    CHECK(kd.run("document verify " + id + " --tenant gops").exitCode == 1);  // no trust anchor: not TOTAL-PASSED

    SECTION("another document's genuine trail swapped in by a later revision") {
        // Every receipt of that trail is valid under the audit key; it is about another document.
        auto bytes = readFile(sealed);
        const auto json = bytes.find("\"format\": \"kooperdoc.audit-trail/1\"");
        REQUIRE(json != std::string::npos);
        const auto objectStart = bytes.rfind(" 0 obj", json);
        const auto number = std::stoi(bytes.substr(bytes.rfind('\n', objectStart) + 1));
        const auto swapped = readFile(kd.file("other.json"));
        writeFile(kd.file("swapped.pdf"),
                  appendUpdate(bytes, number, "<< /Type /EmbeddedFile /Subtype /application#2Fjson /Length " +
                                                  std::to_string(swapped.size()) + " >>\nstream\n" + swapped + "\nendstream"));
        const auto refused = offline(kd.file("swapped.pdf"));
        INFO(refused.output);
        CHECK(refused.exitCode == 1);
        CHECK(refused.output.find("audit.trail_other_document") != std::string::npos);
    }
}
