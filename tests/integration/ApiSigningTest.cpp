// SPDX-License-Identifier: AGPL-3.0-or-later
// Signing and batch creation through the /v1 API of a real service: a person signs in the service
// with their own PKCS#12; a remote signer prepares, signs the attributes with openssl (the key
// never reaches the service), completes and finalizes; batches of JSON lines are answered line by
// line and replayed by their Idempotency-Key. Signatures are checked with poppler's pdfsig.
// Compiled twice, like ApiTest.cpp: api_tests (SQLite) and api_postgres_tests (PostgreSQL).
#include <catch2/catch.hpp>

#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "ApiClient.h"
#include "kooperdoc/core/Base64.h"
#include "kooperdoc/core/Digest.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;
using namespace kooperdoc::testing::api;
using Poco::JSON::Object;

namespace {

std::string toBase64(const std::string& bytes) { return base64(bytes); }

std::string fromBase64(const std::string& text) {
    auto bytes = unbase64(text);
    REQUIRE(bytes.has_value());
    return *bytes;
}

/// The development person (the service made it in DIR/identity) as a PKCS#12 with \p password.
std::string personP12(const Api& api, const std::string& password) {
    const auto file = api.dir() + "/person.p12";
    const auto made = runCommand("openssl pkcs12 -export -in " + quote(api.dir() + "/identity/person.pem") + " -inkey " +
                                 quote(api.dir() + "/identity/person.key.pem") + " -out " + quote(file) + " -passout pass:" +
                                 password + " 2>&1");
    INFO(made.output);
    REQUIRE(made.exitCode == 0);
    return readFile(file);
}

/// pdfsig exits 0 even on a digest mismatch: every "Signature Validation:" line must say valid,
/// and there must be \p expected of them at least.
void requireValidSignatures(const Api& api, const std::string& pdf, std::size_t expected) {
    const auto file = api.dir() + "/check-" + storage::randomId().substr(0, 8) + ".pdf";
    writeFile(file, pdf);
    const auto pdfsig = runCommand("pdfsig " + quote(file) + " 2>&1");
    INFO(pdfsig.output);
    std::size_t validations = 0, valid = 0;
    std::istringstream lines(pdfsig.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("Signature Validation:") == std::string::npos) continue;
        ++validations;
        if (line.find("Signature is Valid") != std::string::npos) ++valid;
    }
    CHECK(validations >= expected);
    CHECK(valid == validations);
    CHECK(pdfsig.output.find("Digest Mismatch") == std::string::npos);
}

Reply postJson(const Api& api, const std::string& path, const std::string& key, const Object::Ptr& body) {
    return api.call("POST", path, key, stringify(body), "application/json");
}

Object::Ptr signBody(const std::string& field, const std::string& p12, const std::string& password) {
    Object::Ptr body = new Object;
    body->set("field", field);
    body->set("pkcs12", toBase64(p12));
    body->set("password", password);
    return body;
}

int revisionCount(const Api& api, const std::string& id) {
    const auto reply = api.call("GET", "/v1/documents/" + id, api.key("gops/animator"));
    REQUIRE(reply.status == 200);
    return static_cast<int>(reply.json()->getArray("revisions")->size());
}

/// A prepared remote signature of the development person on \p field: the service's answer.
Object::Ptr prepare(const Api& api, const std::string& id, const std::string& field) {
    Object::Ptr body = new Object;
    body->set("field", field);
    body->set("certificate", readFile(api.dir() + "/identity/person.pem"));
    const auto reply = postJson(api, "/v1/documents/" + id + "/signatures", api.key("gops/animator"), body);
    INFO(reply.body);
    REQUIRE(reply.status == 201);
    return reply.json();
}

/// What the card does: SHA-256 + the private key over the signed attributes, with openssl.
std::string signOnCard(const Api& api, const std::string& toBeSigned, const std::string& keyFile) {
    const auto tbs = api.dir() + "/tbs-" + storage::randomId().substr(0, 8) + ".der";
    writeFile(tbs, fromBase64(toBeSigned));
    const auto made = runCommand("openssl dgst -sha256 -sign " + quote(keyFile) + " -out " + quote(tbs + ".sig") + " " + quote(tbs) + " 2>&1");
    INFO(made.output);
    REQUIRE(made.exitCode == 0);
    return readFile(tbs + ".sig");
}

Reply complete(const Api& api, const std::string& id, const Object::Ptr& session, const std::string& signature,
               const std::string& key) {
    Object::Ptr body = new Object;
    body->set("state", session->getValue<std::string>("state"));
    body->set("signature", toBase64(signature));
    return postJson(api, "/v1/documents/" + id + "/signatures/" + session->getValue<std::string>("session") + "/complete", key, body);
}

Reply finalize(const Api& api, const std::string& id, const Object::Ptr& session, const std::string& key) {
    Object::Ptr body = new Object;
    body->set("state", session->getValue<std::string>("state"));
    return postJson(api, "/v1/documents/" + id + "/signatures/" + session->getValue<std::string>("session") + "/finalize", key, body);
}

std::vector<Object::Ptr> ndjson(const std::string& text) {
    std::vector<Object::Ptr> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) lines.push_back(parse(line));
    }
    return lines;
}

std::string batchLine(const std::string& caseNumber, bool valid = true) {
    auto request = Api::sampleRequest(caseNumber);
    if (!valid) request->getObject("data")->set("date", "2026-13-45");
    return stringify(request);
}

std::size_t documentCount(const Api& api, const std::string& tenant = "gops") {
    const auto reply = api.call("GET", "/v1/documents", api.key(tenant + "/animator"));
    REQUIRE(reply.status == 200);
    return reply.json()->getArray("documents")->size();
}

}  // namespace

TEST_CASE("a person signs a document in the service with their own PKCS#12", "[api][signing]") {
    Api api;
    const auto animator = api.key("gops/animator");
    const auto id = api.newDocument();
    const auto issued = api.call("GET", "/v1/documents/" + id + "/pdf", animator).body;
    const auto p12 = personP12(api, "tajne-hasło");
    const auto path = "/v1/documents/" + id + "/sign";

    // A wrong password, a field the document does not have: 422 with the library's reason.
    const auto wrongPassword = postJson(api, path, animator, signBody("osoba-1", p12, "zgadywane"));
    INFO(wrongPassword.body);
    CHECK(wrongPassword.status == 422);
    CHECK(wrongPassword.errorCode() == "identity.bad_password");
    CHECK(wrongPassword.body.find("tajne") == std::string::npos);
    const auto noField = postJson(api, path, animator, signBody("nie-ma-takiego", p12, "tajne-hasło"));
    CHECK(noField.status == 422);
    CHECK(noField.errorCode() == "signature.field_unknown");
    const auto notBase64 = api.call("POST", path, animator, R"({"field":"osoba-1","pkcs12":"%%%","password":"x"})", "application/json");
    CHECK(notBase64.status == 400);
    const auto missing = api.call("POST", path, animator, R"({"field":"osoba-1"})", "application/json");
    CHECK(missing.status == 422);
    CHECK(missing.body.find("/pkcs12") != std::string::npos);
    CHECK(revisionCount(api, id) == 1);

    // Signed: revision 2, the document signed, the seal and the person's signature both valid.
    const auto signedReply = postJson(api, path, animator, signBody("osoba-1", p12, "tajne-hasło"));
    INFO(signedReply.body);
    REQUIRE(signedReply.status == 201);
    const auto answer = signedReply.json();
    CHECK(answer->getValue<int>("revision") == 2);
    CHECK(answer->getValue<std::string>("status") == "signed");
    CHECK(answer->getObject("verdict")->getValue<std::string>("indication") == "TOTAL-PASSED");
    const auto signedPdf = api.call("GET", "/v1/documents/" + id + "/pdf", animator).body;
    CHECK(signedPdf.compare(0, issued.size(), issued) == 0);  // an incremental update
    CHECK(sha256Hex(signedPdf) == answer->getValue<std::string>("sha256"));
    requireValidSignatures(api, signedPdf, 2);

    // The same field again is a state conflict; another field signs on top.
    const auto again = postJson(api, path, animator, signBody("osoba-1", p12, "tajne-hasło"));
    CHECK(again.status == 409);
    CHECK(again.errorCode() == "signature.field_signed");
    const auto second = postJson(api, path, animator, signBody("osoba-2", p12, "tajne-hasło"));
    INFO(second.body);
    CHECK(second.status == 201);
    CHECK(revisionCount(api, id) == 3);
    requireValidSignatures(api, api.call("GET", "/v1/documents/" + id + "/pdf", animator).body, 3);

    // Recorded like an accepted upload, and as a signature made in the service.
    const auto trail = api.call("GET", "/v1/documents/" + id + "/audit", api.key("gops/auditor")).body;
    CHECK(trail.find("document.upload_accepted") != std::string::npos);
    CHECK(trail.find("document.signed") != std::string::npos);
    CHECK(trail.find("in_service") != std::string::npos);

    // Another tenant's animator: 404, exactly like a document that does not exist.
    const auto foreign = postJson(api, path, api.key("mops/animator"), signBody("osoba-3", p12, "tajne-hasło"));
    CHECK(foreign.status == 404);
    CHECK(foreign.errorCode() == "storage.document_unknown");
    CHECK(revisionCount(api, id) == 3);
}

TEST_CASE("remote signing: prepare, sign on the card, complete, finalize", "[api][signing]") {
    Api api;
    const auto animator = api.key("gops/animator");
    const auto id = api.newDocument();
    const auto personKey = api.dir() + "/identity/person.key.pem";

    const auto session = prepare(api, id, "osoba-1");
    CHECK(session->getValue<std::string>("session").size() == 32);
    CHECK(session->getValue<int>("revision") == 1);
    CHECK(!session->getValue<std::string>("expiresAt").empty());
    const auto toBeSigned = session->getValue<std::string>("toBeSigned");
    CHECK(session->getValue<std::string>("digest") == sha256Hex(fromBase64(toBeSigned)));
    CHECK(session->getValue<std::string>("byteRangeDigest").size() == 64);
    // The state is sealed: nothing of the document is readable in it.
    CHECK(session->getValue<std::string>("state").find("osoba-1") == std::string::npos);

    // Finalize before complete: a state conflict.
    CHECK(finalize(api, id, session, animator).status == 409);

    // A tampered signature and one made by another key: 422, the session still usable.
    auto signature = signOnCard(api, toBeSigned, personKey);
    auto tampered = signature;
    tampered[tampered.size() / 2] ^= 1;
    const auto bad = complete(api, id, session, tampered, animator);
    INFO(bad.body);
    CHECK(bad.status == 422);
    CHECK(bad.errorCode().rfind("signature.", 0) == 0);
    const auto otherKey = api.dir() + "/other.key.pem";
    REQUIRE(runCommand("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + quote(otherKey) + " 2>&1").exitCode == 0);
    const auto foreignSignature = complete(api, id, session, signOnCard(api, toBeSigned, otherKey), animator);
    CHECK(foreignSignature.status == 422);
    CHECK(foreignSignature.errorCode() == "signature.invalid");

    // The state belongs to its session, document and tenant.
    Object::Ptr moved = new Object;
    moved->set("session", std::string(32, 'a'));
    moved->set("state", session->getValue<std::string>("state"));
    CHECK(complete(api, id, moved, signature, animator).status == 404);
    const auto otherDocument = api.newDocument();
    CHECK(complete(api, otherDocument, session, signature, animator).status == 404);
    const auto mopsDocument = api.newDocument("mops");
    CHECK(complete(api, mopsDocument, session, signature, api.key("mops/animator")).status == 404);
    CHECK(complete(api, id, session, signature, api.key("mops/animator")).status == 404);

    const auto completed = complete(api, id, session, signature, animator);
    INFO(completed.body);
    REQUIRE(completed.status == 200);
    CHECK(completed.json()->getValue<bool>("completed"));
    const auto finalized = finalize(api, id, completed.json(), animator);
    INFO(finalized.body);
    REQUIRE(finalized.status == 201);
    CHECK(finalized.json()->getValue<int>("revision") == 2);
    CHECK(finalized.json()->getObject("verdict")->getValue<std::string>("indication") == "TOTAL-PASSED");
    CHECK(revisionCount(api, id) == 2);
    requireValidSignatures(api, api.call("GET", "/v1/documents/" + id + "/pdf", animator).body, 2);
    CHECK(api.call("GET", "/v1/documents/" + id + "/audit", api.key("gops/auditor")).body.find("remote") != std::string::npos);

    // The same state again: the document moved on (its own revision), so 409, nothing stored.
    const auto replay = finalize(api, id, completed.json(), animator);
    CHECK(replay.status == 409);
    CHECK(replay.errorCode() == "signing.document_changed");
    CHECK(revisionCount(api, id) == 2);
}

TEST_CASE("remote signing: a revision added after prepare makes finalize a 409", "[api][signing]") {
    Api api;
    const auto animator = api.key("gops/animator");
    const auto id = api.newDocument();
    const auto session = prepare(api, id, "osoba-1");
    const auto completed = complete(api, id, session, signOnCard(api, session->getValue<std::string>("toBeSigned"),
                                                                 api.dir() + "/identity/person.key.pem"), animator);
    REQUIRE(completed.status == 200);

    // Someone else signs another field in the meantime.
    const auto other = postJson(api, "/v1/documents/" + id + "/sign", animator, signBody("osoba-2", personP12(api, "x"), "x"));
    INFO(other.body);
    REQUIRE(other.status == 201);

    const auto late = finalize(api, id, completed.json(), animator);
    INFO(late.body);
    CHECK(late.status == 409);
    CHECK(late.errorCode() == "signing.document_changed");
    CHECK(revisionCount(api, id) == 2);
    // Preparing again on the newest revision works.
    const auto fresh = prepare(api, id, "osoba-1");
    CHECK(fresh->getValue<int>("revision") == 2);
}

TEST_CASE("a batch of JSON lines is answered line by line and replayed by its Idempotency-Key", "[api][batch]") {
    Api api;
    const auto intake = api.key("gops/intake");
    const auto before = documentCount(api);
    const std::string body = batchLine("B-1") + "\n" + batchLine("B-2") + "\n" + batchLine("B-3", false) + "\n" + batchLine("B-4") +
                             "\r\n" + batchLine("B-5") + "\n";
    const auto first = api.call("POST", "/v1/documents/batch", intake, body, "application/x-ndjson", {{"Idempotency-Key", "batch-7"}});
    INFO(first.body);
    REQUIRE(first.status == 200);
    CHECK(first.contentType.rfind("application/x-ndjson", 0) == 0);
    CHECK(Poco::toLower(first.header("Transfer-Encoding")) == "chunked");
    const auto lines = ndjson(first.body);
    REQUIRE(lines.size() == 6);
    std::vector<std::string> ids;
    for (int n = 1; n <= 5; ++n) {
        const auto& line = lines[static_cast<std::size_t>(n - 1)];
        CHECK(line->getValue<int>("line") == n);
        if (n == 3) {
            CHECK(line->getValue<int>("status") == 422);
            const auto error = line->getObject("error");
            CHECK(!error->getValue<std::string>("code").empty());
            CHECK(error->getArray("violations")->getObject(0)->getValue<std::string>("pointer") == "/date");
            CHECK(!line->has("id"));
        } else {
            CHECK(line->getValue<int>("status") == 201);
            ids.push_back(line->getValue<std::string>("id"));
        }
    }
    const auto summary = lines.back()->getObject("summary");
    CHECK(summary->getValue<int>("total") == 5);
    CHECK(summary->getValue<int>("created") == 4);
    CHECK(summary->getValue<int>("failed") == 1);
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 4);
    CHECK(documentCount(api) == before + 4);  // the invalid line stored nothing

    // The connection dropped, the client resends the whole batch: the same documents, no new ones.
    const auto resent = api.call("POST", "/v1/documents/batch", intake, body, "application/x-ndjson", {{"Idempotency-Key", "batch-7"}});
    INFO(resent.body);
    REQUIRE(resent.status == 200);
    const auto again = ndjson(resent.body);
    REQUIRE(again.size() == 6);
    std::vector<std::string> replayedIds;
    for (std::size_t i = 0; i < 5; ++i) {
        if (i == 2) continue;
        CHECK(again[i]->getValue<int>("status") == 200);
        CHECK(again[i]->getValue<bool>("replayed"));
        replayedIds.push_back(again[i]->getValue<std::string>("id"));
    }
    CHECK(replayedIds == ids);
    CHECK(again.back()->getObject("summary")->getValue<int>("created") == 0);
    CHECK(again.back()->getObject("summary")->getValue<int>("replayed") == 4);
    CHECK(documentCount(api) == before + 4);

    // The corrected third line, resent under the same batch key, is created now: its key was never used.
    const std::string corrected = batchLine("B-1") + "\n" + batchLine("B-2") + "\n" + batchLine("B-3") + "\n" + batchLine("B-4") +
                                  "\n" + batchLine("B-5") + "\n";
    const auto fixed = ndjson(api.call("POST", "/v1/documents/batch", intake, corrected, "application/x-ndjson",
                                       {{"Idempotency-Key", "batch-7"}}).body);
    REQUIRE(fixed.size() == 6);
    CHECK(fixed[2]->getValue<int>("status") == 201);
    CHECK(fixed.back()->getObject("summary")->getValue<int>("created") == 1);
    CHECK(documentCount(api) == before + 5);

    // A line's own idempotencyKey wins; a malformed line is a 400 line; the others go on.
    auto own = Api::sampleRequest("B-OWN");
    own->set("idempotencyKey", "own-key-1");
    const auto mixed = ndjson(api.call("POST", "/v1/documents/batch", intake, stringify(own) + "\n{not json\n" + stringify(own) + "\n",
                                       "application/x-ndjson").body);
    REQUIRE(mixed.size() == 4);
    CHECK(mixed[0]->getValue<int>("status") == 201);
    CHECK(mixed[1]->getValue<int>("status") == 400);
    CHECK(mixed[1]->getObject("error")->getValue<std::string>("code") == "request.json_invalid");
    CHECK(mixed[2]->getValue<int>("status") == 200);
    CHECK(mixed[2]->getValue<std::string>("id") == mixed[0]->getValue<std::string>("id"));

    // Whole-batch refusals: wrong media type, no lines, and documents of one tenant only.
    CHECK(api.call("POST", "/v1/documents/batch", intake, body, "application/json").status == 415);
    CHECK(api.call("POST", "/v1/documents/batch", intake, "\n\n", "application/x-ndjson").status == 400);
    CHECK(documentCount(api, "mops") == 0);
}

TEST_CASE("a batch longer than kooperdoc.http.max_batch_lines or max_batch_bytes is refused whole", "[api][batch]") {
    Api api({{"kooperdoc.http.max_batch_lines", "2"}, {"kooperdoc.http.max_batch_bytes", "100000"}});
    const auto intake = api.key("gops/intake");
    const std::string three = batchLine("L-1") + "\n" + batchLine("L-2") + "\n" + batchLine("L-3") + "\n";
    const auto tooMany = api.call("POST", "/v1/documents/batch", intake, three, "application/x-ndjson");
    CHECK(tooMany.status == 413);
    CHECK(tooMany.errorCode() == "request.too_many_lines");
    const auto tooLarge = api.call("POST", "/v1/documents/batch", intake, std::string(100001, '\n'), "application/x-ndjson");
    CHECK(tooLarge.status == 413);
    CHECK(tooLarge.errorCode() == "request.too_large");
    CHECK(documentCount(api) == 0);
    const auto two = api.call("POST", "/v1/documents/batch", intake, batchLine("L-1") + "\n" + batchLine("L-2"), "application/x-ndjson");
    CHECK(two.status == 200);
    CHECK(documentCount(api) == 2);
}

TEST_CASE("every role meets the signing and batch endpoints as the role matrix says", "[api][signing][batch][roles]") {
    Api api;
    const auto document = api.newDocument();
    const auto session = prepare(api, document, "osoba-1");
    const auto p12 = personP12(api, "hasło");
    const auto sessionPath = "/v1/documents/" + document + "/signatures/" + session->getValue<std::string>("session");

    struct Cell {
        std::string method, path;
        std::set<std::string> roles;  ///< allowed besides admin
        int allowedStatus;            ///< what an allowed role gets for this request (none consumes anything shared)
        std::string body;
        std::string contentType;
    };
    Object::Ptr badSignature = new Object;
    badSignature->set("state", session->getValue<std::string>("state"));
    badSignature->set("signature", toBase64("not a signature"));
    Object::Ptr notCompleted = new Object;
    notCompleted->set("state", session->getValue<std::string>("state"));
    Object::Ptr prepareBody = new Object;
    prepareBody->set("field", "osoba-2");
    prepareBody->set("certificate", readFile(api.dir() + "/identity/person.pem"));
    const std::vector<Cell> matrix{
        {"POST", "/v1/documents/" + document + "/sign", {"animator"}, 422, stringify(signBody("osoba-1", p12, "nie-to")), "application/json"},
        {"POST", "/v1/documents/" + document + "/signatures", {"animator"}, 201, stringify(prepareBody), "application/json"},
        {"POST", sessionPath + "/complete", {"animator"}, 422, stringify(badSignature), "application/json"},
        {"POST", sessionPath + "/finalize", {"animator"}, 409, stringify(notCompleted), "application/json"},
        {"POST", "/v1/documents/batch", {"intake"}, 200, batchLine("ROLES"), "application/x-ndjson"},
    };
    int cells = 0;
    for (const auto& cell : matrix) {
        for (const std::string role : {"intake", "animator", "auditor", "dpo", "admin"}) {
            const bool allowed = role == "admin" || cell.roles.count(role) == 1;
            const auto reply = api.call(cell.method, cell.path, api.key("gops/" + role), cell.body, cell.contentType);
            INFO(role << " " << cell.method << " " << cell.path << " → " << reply.status << " " << reply.body.substr(0, 300));
            CHECK(reply.status == (allowed ? cell.allowedStatus : 403));
            if (!allowed) CHECK(reply.errorCode() == "auth.forbidden");
            ++cells;
        }
    }
    CHECK(cells == 5 * 5);
    CHECK(revisionCount(api, document) == 1);
    // No key at all: 401 everywhere.
    for (const auto& cell : matrix) CHECK(api.call(cell.method, cell.path, "", cell.body, cell.contentType).status == 401);
}
