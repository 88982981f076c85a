// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "ErrorReason.h"
#include "TempDir.h"
#include "kooperdoc/audit/Trail.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/pdf/Attachments.h"
#include "kooperdoc/service/AuditCard.h"
#include "kooperdoc/service/DocumentIssuer.h"
#include "kooperdoc/service/RevisionIntake.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/Pades.h"
#include "kooperdoc/signing/UploadReview.h"
#include "kooperdoc/signing/PdfSignatureWriter.h"
#include "kooperdoc/verify/Verifier.h"

using namespace kooperdoc;
using kooperdoc::testing::TempDir;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

Poco::JSON::Object::Ptr entryOf(const audit::AuditEntry& entry) {
    Poco::JSON::Parser parser;
    return parser.parse(entry.canonical).extract<Poco::JSON::Object::Ptr>();
}

/// A store, an audit log and the development seal in a fresh directory.
struct Fixture {
    TempDir dir{"kooperdoc-issuer"};
    std::unique_ptr<storage::DocumentStore> store;
    std::unique_ptr<audit::AuditLog> log;
    std::string caPem;
    service::Sealer sealer;
    std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

    Fixture() {
        store = std::make_unique<storage::DocumentStore>(storage::openRepository(storage::DatabaseConfig::parse("sqlite:" + dir.file("kd.db"))),
                                                         storage::BlobStore(dir.file("blobs")),
                                                         storage::MasterKey::loadOrCreate(dir.file("master.key")));
        store->putTenant("ops-a", "{}", now);
        log = std::make_unique<audit::AuditLog>(store->repository().auditStore(),
                                                audit::CheckpointSigner::fromPem("test.local/audit", audit::CheckpointSigner::generatePem()));
        signing::writeDevelopmentIdentity(dir.file("dev"), now - 3600);
        caPem = slurp(dir.file("dev/ca.pem"));
        const auto identity = std::make_shared<signing::SigningIdentity>(
            signing::SigningIdentity::fromPem(slurp(dir.file("dev/seal.pem")), slurp(dir.file("dev/seal.key.pem"))));
        sealer = [identity, signedAt = now](const pdf::RenderedPdf& rendered) {
            std::vector<signing::FieldPlacement> fields;
            for (const auto& s : rendered.signatures) fields.push_back({s.field, s.page, s.x, s.y, s.width, s.height, s.caption});
            signing::SignatureOptions options;
            options.createInvisibleField = true;
            options.fieldName = "pieczec-kooperdoc";
            options.certify = true;
            options.signingTimeEpoch = signedAt;
            return signing::signAtLevel(signing::addSignatureFields(rendered.bytes, fields), *identity, options,
                                        signing::PadesLevel::kBB, {});
        };
    }

    service::IssueRequest request(const std::string& templateId = "m1-oswiadczenie-zgoda") const {
        const auto& tmpl = templates::Catalog::builtIn().get(templateId);
        service::IssueRequest r;
        r.tenantId = "ops-a";
        r.tmpl = &tmpl;
        r.input = parseJson(tmpl.samples().at("sample"));
        r.caseRef = "OPS.5101.1.2026";
        r.seal = true;
        r.now = now;
        r.actor = {"intake-test", "intake"};
        return r;
    }
};

}  // namespace

TEST_CASE("a sealed document carries its Karta audytu and trail, and the seal certifies them", "[service][audit]") {
    Fixture f;
    service::DocumentIssuer issuer(*f.store, storage::RetentionPolicies::builtIn(), *f.log, f.sealer);
    const auto request = f.request();
    const auto result = issuer.issue(request);
    const auto bytes = f.store->read("ops-a", result.documentId);
    CHECK(result.sha256 == sha256Hex(bytes));

    // The trail inside: one entry, document.rendered, naming the input the footer prints.
    const pdf::PdfReader reader(bytes);
    const auto files = pdf::readEmbeddedFiles(reader);
    REQUIRE(files.size() == 1);
    CHECK(files[0].name == audit::kTrailFileName);
    CHECK(files[0].associated);
    CHECK(files[0].relationship == "Supplement");
    const auto trail = audit::trailFromJson(files[0].bytes);
    CHECK(trail.documentId == result.documentId);
    const auto check = audit::checkTrail(trail, "test.local/audit", f.log->signer().publicKeyPem());
    CHECK(check.ok);
    REQUIRE(trail.receipts.size() == 1);
    const auto entry = entryOf(trail.receipts[0].entry);
    CHECK(entry->getValue<std::string>("type") == "document.rendered");
    CHECK(entry->getValue<std::string>("role") == "intake");
    CHECK(entry->getObject("details")->getValue<std::string>("input_sha256") == sha256Hex(canonicalJson(request.input)));
    CHECK(entry->getObject("details")->getValue<std::string>("template") == "m1-oswiadczenie-zgoda");

    // Another audit key does not accept it: trust comes from the key the auditor holds.
    CHECK_FALSE(audit::checkTrail(trail, "test.local/audit", audit::CheckpointSigner::fromPem("test.local/audit",
                                                                                               audit::CheckpointSigner::generatePem())
                                                                        .publicKeyPem())
                    .ok);

    // The seal covers the whole file, the trail and the card page included.
    verify::VerifyOptions options;
    options.trustAnchorsDer = signing::readCertificates(f.caPem);
    const auto report = verify::verifyPdf(bytes, options);
    REQUIRE(report.signatures.size() == 1);
    CHECK(report.allPassed());

    // After the commit: created and sealed name the stored bytes.
    auto& auditStore = f.store->repository().auditStore();
    const auto entries = auditStore.entries(0, auditStore.size());
    REQUIRE(entries.size() == 3);
    CHECK(entryOf(entries[1])->getValue<std::string>("type") == "document.created");
    CHECK(entryOf(entries[1])->getValue<std::string>("document_sha256") == result.sha256);
    CHECK(entryOf(entries[2])->getValue<std::string>("type") == "document.sealed");
    CHECK(audit::verifyLog(auditStore, "test.local/audit", f.log->signer().publicKeyPem()).ok);
}

TEST_CASE("a retried request returns the first document and logs nothing more", "[service][audit]") {
    Fixture f;
    service::DocumentIssuer issuer(*f.store, storage::RetentionPolicies::builtIn(), *f.log, f.sealer);
    auto request = f.request();
    request.idempotencyKey = "req-1";
    const auto first = issuer.issue(request);
    const auto logged = f.store->repository().auditStore().size();
    const auto again = issuer.issue(request);
    CHECK(again.replayed);
    CHECK(again.documentId == first.documentId);
    CHECK(again.sha256 == first.sha256);
    CHECK(f.store->repository().auditStore().size() == logged);

    request.caseRef = "OPS.5101.2.2026";
    try {
        issuer.issue(request);
        FAIL("a reused key with another request must be refused");
    } catch (const Error& e) {
        CHECK(e.reason() == "storage.idempotency_conflict");
    }
    CHECK(f.store->repository().auditStore().size() == logged);
    CHECK(f.store->repository().documents("ops-a").size() == 1);
}

TEST_CASE("invalid data is refused before anything is logged or stored", "[service][audit]") {
    Fixture f;
    service::DocumentIssuer issuer(*f.store, storage::RetentionPolicies::builtIn(), *f.log, f.sealer);
    auto request = f.request();
    request.input = parseJson("{}");
    CHECK_THROWS_AS(issuer.issue(request), ValidationError);
    CHECK(f.store->repository().auditStore().size() == 0);
    CHECK(f.store->repository().documents("ops-a").empty());
}

TEST_CASE("an unsealed document has no trail inside and is logged as created", "[service][audit]") {
    Fixture f;
    service::DocumentIssuer issuer(*f.store, storage::RetentionPolicies::builtIn(), *f.log);
    auto request = f.request();
    request.seal = false;
    const auto result = issuer.issue(request);
    const auto bytes = f.store->read("ops-a", result.documentId);
    CHECK(pdf::readEmbeddedFiles(pdf::PdfReader(bytes)).empty());
    auto& auditStore = f.store->repository().auditStore();
    REQUIRE(auditStore.size() == 1);
    CHECK(entryOf(auditStore.entries(0, 1)[0])->getValue<std::string>("type") == "document.created");

    request.seal = true;
    try {
        issuer.issue(request);
        FAIL("sealing without a seal must be refused");
    } catch (const Error& e) {
        CHECK(e.reason() == "signing.unavailable");
    }
}

TEST_CASE("the companion card carries the trail and the exported document byte for byte", "[service][audit]") {
    Fixture f;
    service::DocumentIssuer issuer(*f.store, storage::RetentionPolicies::builtIn(), *f.log, f.sealer);
    const auto result = issuer.issue(f.request());
    const auto bytes = f.store->read("ops-a", result.documentId);
    const auto card = service::renderAuditCard(service::documentTrail(*f.log, result.documentId), f.now,
                                               service::CarriedDocument{result.documentId + ".pdf", bytes});
    const auto files = pdf::readEmbeddedFiles(pdf::PdfReader(card));
    REQUIRE(files.size() == 2);
    const auto trail = std::find_if(files.begin(), files.end(), [](const auto& file) { return file.name == audit::kTrailFileName; });
    const auto carried = std::find_if(files.begin(), files.end(), [&](const auto& file) { return file.name == result.documentId + ".pdf"; });
    REQUIRE(trail != files.end());
    REQUIRE(carried != files.end());
    CHECK(carried->bytes == bytes);
    CHECK(carried->relationship == "Source");
    CHECK(carried->associated);
    const auto parsed = audit::trailFromJson(trail->bytes);
    CHECK(parsed.receipts.size() == 3);  // rendered, created, sealed
    CHECK(audit::checkTrail(parsed, "test.local/audit", f.log->signer().publicKeyPem()).ok);
}

TEST_CASE("two signed uploads of the same revision at once: one is stored, the other refused, the chain intact",
          "[service][revisions][concurrency]") {
    Fixture f;
    service::DocumentIssuer issuer(*f.store, storage::RetentionPolicies::builtIn(), *f.log, f.sealer);
    const signing::SigningIdentity person =
        signing::SigningIdentity::fromPem(slurp(f.dir.file("dev/person.pem")), slurp(f.dir.file("dev/person.key.pem")));
    verify::VerifyOptions verifyOptions;
    verifyOptions.trustAnchorsDer = signing::readCertificates(f.caPem);
    int conflicts = 0;
    // A few rounds: which of the two is stored, and whether the loser lost in the review or at
    // the store, is up to the scheduler; that exactly one is stored is not.
    for (int round = 0; round < 3; ++round) {
        auto request = f.request();
        request.idempotencyKey = "round-" + std::to_string(round);
        const auto issued = issuer.issue(request);
        const auto sealed = f.store->read("ops-a", issued.documentId);
        // Two different, valid signatures of the same field over the same sealed revision.
        std::string uploads[2];
        for (int i = 0; i < 2; ++i) {
            signing::SignatureOptions options;
            options.fieldName = "osoba-1";
            options.signingTimeEpoch = f.now + 60 + i;
            uploads[i] = signing::signAtLevel(sealed, person, options, signing::PadesLevel::kBB, {});
            REQUIRE(signing::reviewSignedUpload(sealed, uploads[i]).accepted);
        }
        REQUIRE(uploads[0] != uploads[1]);

        struct Outcome {
            bool accepted = false;
            std::string reason;
        };
        Outcome outcomes[2];
        std::atomic<int> ready{0};
        std::vector<std::thread> uploaders;
        for (int i = 0; i < 2; ++i) {
            uploaders.emplace_back([&, i] {
                ++ready;
                while (ready < 2) std::this_thread::yield();
                try {
                    const auto intake = service::addRevision(*f.store, *f.log, {"animator-" + std::to_string(i), "animator"}, "ops-a",
                                                             issued.documentId, uploads[i], "signed_upload", f.now + 60);
                    outcomes[i] = {intake.accepted, intake.reason};
                } catch (const Error& e) {
                    outcomes[i] = {false, e.reason()};
                }
            });
        }
        for (auto& t : uploaders) t.join();

        INFO("round " << round << ": " << outcomes[0].reason << " / " << outcomes[1].reason);
        REQUIRE(outcomes[0].accepted != outcomes[1].accepted);  // exactly one
        const int winner = outcomes[0].accepted ? 0 : 1;
        const auto& loser = outcomes[1 - winner];
        // Lost at the store (reviewed against revision 1 while the other was stored) or, when the
        // other was stored before its review began, in the review: never stored either way.
        CHECK((loser.reason == "storage.revision_conflict" || loser.reason == "upload.not_ours"));
        if (loser.reason == "storage.revision_conflict") ++conflicts;

        const auto revisions = f.store->repository().revisions(issued.documentId);
        REQUIRE(revisions.size() == 2);
        const auto first = f.store->read("ops-a", issued.documentId, 1);
        const auto second = f.store->read("ops-a", issued.documentId, 2);
        CHECK(first == sealed);
        CHECK(second == uploads[winner]);
        CHECK(second.compare(0, first.size(), first) == 0);  // the chain of incremental updates holds
        CHECK(signing::reviewSignedUpload(first, second).accepted);
        const auto report = verify::verifyPdf(second, verifyOptions);
        CHECK(report.signatures.size() == 2);
        CHECK(report.allPassed());
        CHECK(f.store->repository().document("ops-a", issued.documentId)->status == storage::DocumentStatus::kSigned);
    }
    // Only the stored upload was recorded as accepted; a conflict records nothing.
    auto& auditStore = f.store->repository().auditStore();
    int accepted = 0, rejected = 0;
    for (const auto& entry : auditStore.entries(0, auditStore.size())) {
        const auto type = entryOf(entry)->getValue<std::string>("type");
        if (type == "document.upload_accepted") ++accepted;
        if (type == "document.upload_rejected") ++rejected;
    }
    CHECK(accepted == 3);
    CHECK(rejected == 3 - conflicts);
    CHECK(audit::verifyLog(auditStore, "test.local/audit", f.log->signer().publicKeyPem()).ok);
    // The blobs of uploads refused at the store were removed again.
    CHECK(f.store->sweepOrphanBlobs(std::chrono::seconds(0)) == 0);
}
