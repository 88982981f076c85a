// SPDX-License-Identifier: AGPL-3.0-or-later
// The store from the command line, end to end (issue 5): erasure leaves no trace of a person
// in any file Kooperdoc writes, the retention sweep proposes exactly what is due, a backup
// restores byte for byte, and an idempotency key cannot be reused for another request.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "CliSupport.h"
#include "StoreCliSupport.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/templates/Catalog.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;
namespace fs = std::filesystem;

namespace {

/// Every file the store writes: the SQLite database with its WAL and shared memory, and every blob.
std::vector<std::string> storeFiles(const std::string& dataDir) {
    std::vector<std::string> files;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        if (fs::exists(dataDir + "/kooperdoc.db" + suffix)) files.push_back(dataDir + "/kooperdoc.db" + suffix);
    }
    for (const auto& entry : fs::recursive_directory_iterator(dataDir + "/blobs")) {
        if (entry.is_regular_file()) files.push_back(entry.path().string());
    }
    return files;
}

/// grep -a, as an auditor would run it: the files that contain \p needle.
std::vector<std::string> filesContaining(const std::vector<std::string>& files, const std::string& needle) {
    std::vector<std::string> hits;
    for (const auto& f : files) {
        if (readFile(f).find(needle) != std::string::npos) hits.push_back(f);
    }
    return hits;
}

std::size_t blobCount(const std::string& dataDir) {
    std::size_t count = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dataDir + "/blobs")) count += entry.is_regular_file() ? 1 : 0;
    return count;
}

Poco::JSON::Object::Ptr jsonObject(const std::string& text) { return parseJson(text).extract<Poco::JSON::Object::Ptr>(); }

}  // namespace

TEST_CASE("storage CLI: erasing a person leaves their name in no file, while other people's documents still open") {
    StoreCli kd("storage-erasure");
    const std::string person = "Tadeusz Wiśniewski";
    const std::vector<std::string> traces = {person, "TADEUSZ WIŚNIEWSKI", "Wiśniewski", "WIŚNIEWSKI", "Ogrodowa 3/2"};

    const auto erased = kd.store("m1-oswiadczenie-zgoda", "sample-osoba", "--case GOPS/1/2026 --idempotency-key req-1");
    const auto family = kd.store("m1-oswiadczenie-zgoda", "sample", "--case GOPS/2/2026");
    const auto declaration = kd.store("m1-oswiadczenie-poufnosci", "sample", "--case GOPS/3/2026");
    REQUIRE(std::set<std::string>{erased, family, declaration}.size() == 3);

    // The search would find the person in the PDF itself: pdftotext shows the name.
    writeFile(kd.file("before.pdf"), kd.document(erased));
    REQUIRE(foldWhitespace(pdfText(kd.file("before.pdf"))).find(person) != std::string::npos);
    // The store never holds plain text, not even before the erasure.
    for (const auto& trace : traces) {
        INFO(trace);
        CHECK(filesContaining(storeFiles(kd.dataDir()), trace).empty());
    }

    // Found by name through the keyed index (the name read from stdin, not the command line).
    const auto found = kd.run("subject find --tenant gops - --json", person + "\n");
    REQUIRE(found.exitCode == 0);
    const auto subjects = parseJson(found.out).extract<Poco::JSON::Array::Ptr>();
    REQUIRE(subjects->size() == 1);
    const auto subject = subjects->getObject(0)->getValue<std::string>("subject_id");

    // The access request's export: the PDF and a manifest.
    REQUIRE(kd.run("subject export --tenant gops " + subject + " -o " + quote(kd.file("export.zip"))).exitCode == 0);
    const auto listing = runCommand("unzip -Z1 " + quote(kd.file("export.zip")));
    REQUIRE(listing.exitCode == 0);
    CHECK(listing.output.find("manifest.json") != std::string::npos);
    CHECK(listing.output.find(erased + "-r1.pdf") != std::string::npos);
    CHECK(runCommand("unzip -tq " + quote(kd.file("export.zip")) + " >/dev/null").exitCode == 0);
    fs::remove(kd.file("export.zip"));
    fs::remove(kd.file("before.pdf"));

    const auto erasure = kd.run("subject erase --tenant gops " + subject + " --json");
    REQUIRE(erasure.exitCode == 0);
    const auto outcomes = jsonObject(erasure.out)->getArray("documents");
    REQUIRE(outcomes->size() == 1);
    CHECK(outcomes->getObject(0)->getValue<std::string>("document_id") == erased);
    CHECK(outcomes->getObject(0)->getValue<std::string>("outcome") == "erased");

    // Nothing anywhere: database, WAL, shared memory, blobs, and everything the CLI printed.
    auto searched = storeFiles(kd.dataDir());
    searched.push_back(kd.file("cli.log"));
    for (const auto& trace : traces) {
        INFO(trace);
        CHECK(filesContaining(searched, trace).empty());
        const auto grep = runCommand("grep -rals " + quote(trace) + " " + quote(kd.dataDir()) + " " + quote(kd.file("cli.log")));
        CHECK(grep.output.empty());
    }
    const auto gone = kd.run("document get " + erased + " --tenant gops -o " + quote(kd.file("gone.pdf")));
    CHECK(gone.exitCode == 4);
    CHECK(gone.err.find("storage.document_erased") != std::string::npos);
    CHECK(kd.run("subject find --tenant gops -", person + "\n").exitCode == 1);

    // The other people's documents still open and say what they said.
    writeFile(kd.file("family.pdf"), kd.document(family));
    writeFile(kd.file("declaration.pdf"), kd.document(declaration));
    CHECK(foldWhitespace(pdfText(kd.file("family.pdf"))).find("Marta Żurawska") != std::string::npos);
    CHECK(foldWhitespace(pdfText(kd.file("declaration.pdf"))).find("Joanna Jędrzejczyk") != std::string::npos);
}

TEST_CASE("storage CLI: the dry-run sweep lists exactly the due documents, and approval needs the archive's consent") {
    StoreCli kd("storage-retention");
    const std::string at2026 = " --at 2026-01-15";
    // consent, B10 from the case's closure: due 2037-01-01.
    const auto consent = kd.store("m1-oswiadczenie-zgoda", "sample", "--case C-1" + at2026);
    // declaration, B5 from the end of cooperation (the case's closure): due 2032-01-01.
    const auto declaration = kd.store("m1-oswiadczenie-poufnosci", "sample", "--case C-2" + at2026);
    // case record, B10, its case still open: never due yet.
    kd.store("m3-protokol-zzk-a", "person", "--case C-3" + at2026);
    // institutional agreement, category A: never destroyed.
    kd.store("m1-porozumienie-pzk", "sample", "--case C-1" + at2026);
    // due like the first, but under a legal hold.
    const auto held = kd.store("m1-oswiadczenie-zgoda", "sample-rodzic", "--case C-2" + at2026);
    REQUIRE(kd.run("hold place --tenant gops --document " + held + " --reason 'postępowanie sądowe' --by iod" + at2026).exitCode == 0);
    REQUIRE(kd.run("case close C-1 --tenant gops --at 2026-02-01").exitCode == 0);
    REQUIRE(kd.run("case close C-2 --tenant gops --at 2026-02-01").exitCode == 0);

    const auto dry = kd.run("retention run --tenant gops --dry-run --at 2037-01-02 --json");
    REQUIRE(dry.exitCode == 0);
    const auto items = jsonObject(dry.out)->getArray("proposals")->getObject(0)->getArray("items");
    std::set<std::string> due;
    for (std::size_t i = 0; i < items->size(); ++i) due.insert(items->getObject(static_cast<unsigned>(i))->getValue<std::string>("document_id"));
    CHECK(due == std::set<std::string>{consent, declaration});
    // A dry run records nothing: a real run afterwards makes the one proposal.
    const auto report = kd.run("retention report --tenant gops --at 2037-01-02 --json");
    REQUIRE(report.exitCode == 0);
    CHECK(jsonObject(report.out)->getArray("gops")->size() == 5);

    const auto run = kd.run("retention run --tenant gops --at 2037-01-02 --json");
    REQUIRE(run.exitCode == 0);
    const auto proposal = jsonObject(run.out)->getArray("proposals")->getObject(0)->getValue<std::string>("proposal_id");
    CHECK(run.err.find("checked") != std::string::npos);  // progress on stderr

    const auto refused = kd.run("retention approve " + proposal + " --tenant gops --by iod --at 2037-01-03");
    CHECK(refused.exitCode == 4);
    CHECK(refused.err.find("retention.archive_consent_required") != std::string::npos);
    const auto early = kd.run("retention execute " + proposal + " --tenant gops --at 2037-01-03");
    CHECK(early.exitCode == 4);
    CHECK(early.err.find("retention.not_approved") != std::string::npos);

    REQUIRE(kd.run("retention approve " + proposal + " --tenant gops --by iod --archive-consent 'AP Lublin 12/2037' --at 2037-01-03")
                .exitCode == 0);
    const auto executed = kd.run("retention execute " + proposal + " --tenant gops --at 2037-01-04 --json");
    REQUIRE(executed.exitCode == 0);
    const auto records = parseJson(executed.out).extract<Poco::JSON::Array::Ptr>();
    CHECK(records->size() == 2);
    for (const auto& id : {consent, declaration}) {
        const auto gone = kd.run("document get " + id + " --tenant gops -o " + quote(kd.file("gone.pdf")));
        CHECK(gone.err.find("storage.document_erased") != std::string::npos);
    }
    kd.document(held);  // the held one stays readable
}

TEST_CASE("storage CLI: backup and restore give back every document byte for byte") {
    const std::string key = "KOOPERDOC_MASTER_KEY=" + quote("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
    StoreCli kd("storage-backup", key);
    std::vector<std::string> ids = {kd.store("m1-oswiadczenie-zgoda", "sample"), kd.store("m1-oswiadczenie-poufnosci", "sample"),
                                    kd.store("m3-protokol-zzk-a", "person"), kd.store("m1-porozumienie-pzk", "sample")};
    // A second revision, as an accepted upload would add (kind timestamp skips the signature review).
    writeFile(kd.file("revision.pdf"), kd.document(ids[0]) + "\n% an appended revision\n");
    REQUIRE(kd.run("document add-revision " + ids[0] + " --tenant gops " + quote(kd.file("revision.pdf")) + " --kind timestamp").exitCode == 0);

    std::map<std::string, std::string> originals;
    for (const auto& id : ids) originals[id] = kd.document(id);
    const auto firstRevision = kd.run("document get " + ids[0] + " --tenant gops --revision 1 -o " + quote(kd.file("r1.pdf")));
    REQUIRE(firstRevision.exitCode == 0);
    const auto revisionOne = readFile(kd.file("r1.pdf"));

    const auto backupDir = kd.file("backup");
    const auto backup = kd.run("backup --to " + quote(backupDir));
    REQUIRE(backup.exitCode == 0);
    CHECK(fs::exists(backupDir + "/backup.json"));
    CHECK_FALSE(fs::exists(backupDir + "/master.key"));
    CHECK(kd.run("backup --to " + quote(backupDir)).err.find("storage.backup_exists") != std::string::npos);

    const auto restored = kd.file("restored");
    const auto restore = kd.run("restore --from " + quote(backupDir), "", restored);
    REQUIRE(restore.exitCode == 0);
    CHECK(restore.out.find("4 document(s), 5 revision(s) verified") != std::string::npos);
    for (const auto& id : ids) CHECK(kd.document(id, restored) == originals[id]);
    REQUIRE(kd.run("document get " + ids[0] + " --tenant gops --revision 1 -o " + quote(kd.file("r1b.pdf")), "", restored).exitCode == 0);
    CHECK(readFile(kd.file("r1b.pdf")) == revisionOne);

    // Never over an existing store.
    const auto again = kd.run("restore --from " + quote(backupDir), "", restored);
    CHECK(again.exitCode == 4);
    CHECK(again.err.find("storage.restore_target_not_empty") != std::string::npos);
}

TEST_CASE("storage CLI: an idempotency key reused with another body is refused and stores nothing") {
    StoreCli kd("storage-idempotency");
    const auto first = kd.store("m1-oswiadczenie-zgoda", "sample-osoba", "--idempotency-key form-42");
    const auto replay = kd.run("store m1-oswiadczenie-zgoda " + quote(kd.file("m1-oswiadczenie-zgoda-sample-osoba.json")) +
                               " --tenant gops --idempotency-key form-42");
    REQUIRE(replay.exitCode == 0);
    CHECK(replay.out == first + "\n");
    const auto blobs = blobCount(kd.dataDir());

    writeFile(kd.file("other.json"), templates::Catalog::builtIn().get("m1-oswiadczenie-zgoda").samples().at("sample-rodzic"));
    const auto conflict = kd.run("store m1-oswiadczenie-zgoda " + quote(kd.file("other.json")) + " --tenant gops --idempotency-key form-42");
    CHECK(conflict.exitCode == 4);
    CHECK(conflict.err.find("storage.idempotency_conflict") != std::string::npos);

    const auto list = kd.run("document list --tenant gops --json");
    REQUIRE(list.exitCode == 0);
    CHECK(parseJson(list.out).extract<Poco::JSON::Array::Ptr>()->size() == 1);
    CHECK(blobCount(kd.dataDir()) == blobs);
    // Not even the people of the refused request were indexed.
    CHECK(kd.run("subject find --tenant gops -", "Ewelina Bąk\n").exitCode == 1);

    const auto unknown = kd.run("store m1-oswiadczenie-zgoda " + quote(kd.file("other.json")) + " --tenant nobody");
    CHECK(unknown.exitCode == 4);
    CHECK(unknown.err.find("storage.tenant_unknown") != std::string::npos);
}

TEST_CASE("storage CLI: a rectification stores a corrected version that supersedes the signed original") {
    StoreCli kd("storage-rectification");
    const auto original = kd.store("m1-oswiadczenie-zgoda", "sample-osoba", "--case C-7");
    REQUIRE(kd.run("document get " + original + " --tenant gops -o " + quote(kd.file("original.pdf"))).exitCode == 0);
    const auto corrected = kd.run("store m1-oswiadczenie-zgoda " + quote(kd.file("m1-oswiadczenie-zgoda-sample-osoba.json")) +
                                  " --tenant gops --supersedes " + original + " --relation corrected_version --json");
    REQUIRE(corrected.exitCode == 0);
    const auto list = kd.run("document list --tenant gops --json");
    REQUIRE(list.exitCode == 0);
    CHECK(list.out.find(original) != std::string::npos);
    CHECK(parseJson(list.out).extract<Poco::JSON::Array::Ptr>()->size() == 2);
    // The original is untouched, byte for byte.
    REQUIRE(kd.run("document get " + original + " --tenant gops -o " + quote(kd.file("again.pdf"))).exitCode == 0);
    CHECK(readFile(kd.file("again.pdf")) == readFile(kd.file("original.pdf")));
    const auto bad = kd.run("store m1-oswiadczenie-zgoda " + quote(kd.file("m1-oswiadczenie-zgoda-sample-osoba.json")) +
                            " --tenant gops --supersedes " + original + " --relation rewrite");
    CHECK(bad.exitCode == 2);
    CHECK(bad.err.find("storage.relation_invalid") != std::string::npos);
    CHECK(kd.run("store m1-oswiadczenie-zgoda " + quote(kd.file("m1-oswiadczenie-zgoda-sample-osoba.json")) +
                 " --tenant gops --supersedes " + original).exitCode == 2);
    CHECK(kd.run("audit verify").exitCode == 0);
}
