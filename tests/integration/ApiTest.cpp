// SPDX-License-Identifier: AGPL-3.0-or-later
// The /v1 API of a real `kooperdoc serve --port 0 --data-dir TMP`, spoken to over HTTP with
// Poco's client: issue, idempotency, validation, limits, authentication, tenant isolation, the
// whole role × endpoint matrix, uploads, verification, the data protection officer's tools and
// the OpenAPI document against the live routes. Compiled twice: api_tests (SQLite) and
// api_postgres_tests (a fresh database in the throw-away cluster, KOOPERDOC_TEST_POSTGRES).
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "ApiClient.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;
using namespace kooperdoc::testing::api;
using Poco::JSON::Object;

TEST_CASE("the API issues a sealed document, replays it, refuses bad requests and keeps tenants apart", "[api]") {
    Api api;
    const auto intake = api.key("gops/intake");

    // Created and sealed: pdfsig (NSS) finds a valid signature in what GET …/pdf hands out.
    auto request = Api::sampleRequest();
    Poco::JSON::Array::Ptr subjects = new Poco::JSON::Array;
    Object::Ptr subject = new Object;
    subject->set("name", "Zofia Kęsik");
    subjects->add(subject);
    request->set("subjects", subjects);
    const auto created = api.create(intake, request, "retry-1");
    INFO(created.body);
    REQUIRE(created.status == 201);
    const auto id = created.json()->getValue<std::string>("id");
    CHECK(std::regex_match(id, std::regex("KD(-[0-9A-F]{4}){4}")));
    CHECK(created.header("Location") == "/v1/documents/" + id);
    CHECK(!created.header("X-Request-Id").empty());

    const auto pdf = api.call("GET", "/v1/documents/" + id + "/pdf", intake);
    REQUIRE(pdf.status == 200);
    CHECK(pdf.contentType == "application/pdf");
    writeFile(api.dir() + "/doc.pdf", pdf.body);
    const auto pdfsig = runCommand("pdfsig " + quote(api.dir() + "/doc.pdf") + " 2>&1");
    INFO(pdfsig.output);
    CHECK(pdfsig.output.find("Signature is Valid") != std::string::npos);

    // The same Idempotency-Key and body: the first document; another body: 409.
    const auto retry = api.create(intake, request, "retry-1");
    CHECK(retry.status == 200);
    CHECK(retry.json()->getValue<std::string>("id") == id);
    CHECK(retry.json()->getValue<bool>("replayed"));
    const auto conflict = api.create(intake, Api::sampleRequest("OTHER-CASE"), "retry-1");
    CHECK(conflict.status == 409);
    CHECK(conflict.errorCode() == "storage.idempotency_conflict");

    // Invalid data: 422 with a JSON pointer for every violation.
    auto invalid = Api::sampleRequest();
    auto data = invalid->getObject("data");
    data->set("date", "2026-13-45");
    data->remove("place");
    const auto rejected = api.create(intake, invalid);
    INFO(rejected.body);
    CHECK(rejected.status == 422);
    std::set<std::string> pointers;
    const auto violations = rejected.json()->getObject("error")->getArray("violations");
    for (std::size_t i = 0; i < violations->size(); ++i) pointers.insert(violations->getObject(static_cast<unsigned>(i))->getValue<std::string>("pointer"));
    CHECK(pointers.count("/date") == 1);
    CHECK(pointers.size() >= 2);
    const auto error = rejected.json()->getObject("error");
    CHECK(!error->getValue<std::string>("message_pl").empty());
    CHECK(!error->getValue<std::string>("message_en").empty());
    // A listed subject the data do not name is caught at the door.
    auto stranger = Api::sampleRequest();
    Poco::JSON::Array::Ptr strangers = new Poco::JSON::Array;
    Object::Ptr nobody = new Object;
    nobody->set("name", "Jan Nowak");
    nobody->set("pesel", "12345678901");
    strangers->add(nobody);
    stranger->set("subjects", strangers);
    const auto mismatch = api.create(intake, stranger);
    CHECK(mismatch.status == 422);
    CHECK(mismatch.body.find("/subjects/0/pesel") != std::string::npos);
    // Malformed JSON 400, wrong media type 415, too large 413, unknown template 422 at /template.
    CHECK(api.call("POST", "/v1/documents", intake, "{not json", "application/json").status == 400);
    const auto wrongType = api.call("POST", "/v1/documents", intake, stringify(request), "text/plain");
    CHECK(wrongType.status == 415);
    CHECK(wrongType.errorCode() == "request.media_type");
    // curl reads the early 413 while it still sends (Poco's client would only see the reset).
    writeFile(api.dir() + "/large.json", std::string(4000001, ' '));
    const auto tooLarge = runCommand("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H " +
                                     quote("Authorization: Bearer " + intake) + " --data-binary @" + quote(api.dir() + "/large.json") +
                                     " " + quote(api.server().url() + "/v1/documents"));
    CHECK(tooLarge.output == "413");
    auto unknownTemplate = Api::sampleRequest();
    unknownTemplate->set("template", "no-such-template");
    const auto unknown = api.create(intake, unknownTemplate);
    CHECK(unknown.status == 422);
    CHECK(unknown.body.find("\"/template\"") != std::string::npos);

    // No key, a bad key: 401 with WWW-Authenticate. Another tenant's document: 404, like none.
    const auto anonymous = api.call("GET", "/v1/documents/" + id, "");
    CHECK(anonymous.status == 401);
    CHECK(!anonymous.header("WWW-Authenticate").empty());
    CHECK(api.call("GET", "/v1/documents/" + id, "kd_nonsense_key").status == 401);
    const auto foreign = api.call("GET", "/v1/documents/" + id, api.key("mops/admin"));
    CHECK(foreign.status == 404);
    const auto missing = api.call("GET", "/v1/documents/KD-0000-0000-0000-0000", api.key("mops/admin"));
    CHECK(foreign.body == std::regex_replace(missing.body, std::regex("KD-0000-0000-0000-0000"), id));
    CHECK(api.call("GET", "/v1/documents/" + id + "/pdf", api.key("mops/intake")).status == 404);
    CHECK(api.call("GET", "/v1/documents", api.key("mops/animator")).json()->getArray("documents")->size() == 0);

    // The list filters by case and status, scoped to the tenant.
    const auto list = api.call("GET", "/v1/documents?caseNumber=CASE-1&status=issued", api.key("gops/animator"));
    REQUIRE(list.status == 200);
    CHECK(list.json()->getArray("documents")->size() == 1);
    CHECK(api.call("GET", "/v1/documents?caseNumber=NONE", api.key("gops/animator")).json()->getArray("documents")->size() == 0);
    CHECK(api.call("GET", "/v1/documents?status=bogus", api.key("gops/animator")).status == 400);

    // Metadata (document.viewed), the trail JSON and the Karta audytu PDF.
    const auto meta = api.call("GET", "/v1/documents/" + id, api.key("gops/auditor"));
    REQUIRE(meta.status == 200);
    CHECK(meta.json()->getValue<std::string>("template_id") == "m1-oswiadczenie-zgoda");
    const auto trail = api.call("GET", "/v1/documents/" + id + "/audit", api.key("gops/auditor"));
    REQUIRE(trail.status == 200);
    CHECK(trail.body.find("document.viewed") != std::string::npos);
    CHECK(trail.body.find("document.downloaded") != std::string::npos);
    CHECK(trail.body.find("kooperdoc.audit-trail/1") != std::string::npos);
    const auto card = api.call("GET", "/v1/documents/" + id + "/audit?format=pdf", api.key("gops/auditor"));
    CHECK(card.status == 200);
    CHECK(card.body.rfind("%PDF", 0) == 0);
    // No personal data in the trail: names and PESELs never reach the audit log.
    CHECK(trail.body.find("Kęsik") == std::string::npos);

    // A tampered upload (bytes appended without a signature): 422 with the review's reason,
    // recorded as document.upload_rejected; a rewritten copy likewise.
    const auto tampered = api.call("POST", "/v1/documents/" + id + "/revisions", api.key("gops/animator"),
                                   pdf.body + "\n1 0 obj\n<< >>\nendobj\n%%EOF\n", "application/pdf");
    INFO(tampered.body);
    CHECK(tampered.status == 422);
    CHECK(tampered.errorCode().rfind("upload.", 0) == 0);
    std::string rewritten = pdf.body;
    rewritten[rewritten.size() / 2] ^= 1;
    CHECK(api.call("POST", "/v1/documents/" + id + "/revisions", api.key("gops/animator"), rewritten, "application/pdf").status == 422);
    CHECK(api.call("GET", "/v1/documents/" + id + "/audit", api.key("gops/auditor")).body.find("document.upload_rejected") !=
          std::string::npos);
    CHECK(api.call("GET", "/v1/documents/" + id + "/pdf?revision=2", intake).status == 404);
    // A copy signed elsewhere (the development person, like `kooperdoc sign`): 201, revision 2,
    // the document now signed and the issued bytes still revision 1.
    const auto p12 = runCommand("openssl pkcs12 -export -in " + quote(api.dir() + "/identity/person.pem") + " -inkey " +
                                quote(api.dir() + "/identity/person.key.pem") + " -out " + quote(api.dir() + "/person.p12") +
                                " -passout pass:secret 2>&1");
    REQUIRE(p12.exitCode == 0);
    writeFile(api.dir() + "/person.password", "secret\n");
    const auto sign = runCommand(quote(cli()) + " --config " + quote(api.dir() + "/kooperdoc.properties") + " sign " +
                                 quote(api.dir() + "/doc.pdf") + " --field osoba-1 --p12 " + quote(api.dir() + "/person.p12") +
                                 " --password-file " + quote(api.dir() + "/person.password") + " -o " + quote(api.dir() + "/signed.pdf") +
                                 " 2>&1");
    INFO(sign.output);
    REQUIRE(sign.exitCode == 0);
    const auto upload = api.call("POST", "/v1/documents/" + id + "/revisions", api.key("gops/animator"), readFile(api.dir() + "/signed.pdf"),
                                 "application/pdf");
    INFO(upload.body);
    CHECK(upload.status == 201);
    CHECK(upload.json()->getValue<int>("revision") == 2);
    CHECK(upload.json()->getValue<std::string>("status") == "signed");
    CHECK(api.call("GET", "/v1/documents/" + id + "/pdf", intake).body == readFile(api.dir() + "/signed.pdf"));
    CHECK(api.call("GET", "/v1/documents/" + id + "/pdf?revision=1", intake).body == pdf.body);
    CHECK(api.call("GET", "/v1/documents/" + id + "/audit", api.key("gops/auditor")).body.find("document.upload_accepted") !=
          std::string::npos);

    // Verification: JSON by default, HTML and PDF by Accept; the development CA is a trust anchor.
    const auto report = api.call("POST", "/v1/verify", api.key("gops/auditor"), pdf.body, "application/pdf");
    INFO(report.body);
    REQUIRE(report.status == 200);
    CHECK(report.contentType.rfind("application/json", 0) == 0);
    CHECK(report.body.find("TOTAL-PASSED") != std::string::npos);
    const auto html = api.call("POST", "/v1/verify", api.key("gops/auditor"), pdf.body, "application/pdf", {{"Accept", "text/html"}});
    CHECK(html.contentType.rfind("text/html", 0) == 0);
    const auto reportPdf = api.call("POST", "/v1/verify", api.key("gops/auditor"), pdf.body, "application/pdf", {{"Accept", "application/pdf"}});
    CHECK(reportPdf.body.rfind("%PDF", 0) == 0);
    const auto garbage = api.call("POST", "/v1/verify", api.key("gops/auditor"), "not a pdf", "application/pdf");
    CHECK(garbage.status == 200);  // a verdict is a value
    CHECK(garbage.body.find("FORMAT_FAILURE") != std::string::npos);

    // The log's checkpoint and one receipt; another tenant's entry is not revealed.
    const auto checkpoint = api.call("GET", "/v1/audit/checkpoint", api.key("gops/auditor"));
    CHECK(checkpoint.status == 200);
    CHECK(checkpoint.body.find("kooperdoc.local/audit") == 0);
    const auto proof = api.call("GET", "/v1/audit/proof/0", api.key("gops/auditor"));
    INFO(proof.body);
    CHECK(proof.status == 200);
    CHECK(proof.body.find("\"proof\"") != std::string::npos);
    CHECK(api.call("GET", "/v1/audit/proof/0", api.key("mops/auditor")).status == 404);
    CHECK(api.call("GET", "/v1/audit/proof/999999", api.key("gops/auditor")).status == 404);
    CHECK(api.call("GET", "/v1/audit/proof/x", api.key("gops/auditor")).status == 400);

    // Unknown path 404, wrong method 405 with Allow, X-Request-Id echoed.
    CHECK(api.call("GET", "/v1/nowhere", intake).status == 404);
    const auto wrongMethod = api.call("PUT", "/v1/documents", intake, "{}", "application/json");
    CHECK(wrongMethod.status == 405);
    CHECK(wrongMethod.header("Allow") == "POST, GET");
    CHECK(api.call("GET", "/healthz", "", "", "", {{"X-Request-Id", "abc-123"}}).header("X-Request-Id") == "abc-123");
    CHECK(api.server().stop() == 0);
}

TEST_CASE("the data protection officer finds, exports and erases a person and withdraws consent", "[api]") {
    Api api;
    const auto first = api.newDocument();
    const auto second = api.newDocument("gops", "CASE-2");
    const auto dpo = api.key("gops/dpo");
    // Personal data only in POST bodies: the search by name and by (absent) PESEL.
    const auto subjectId = subjectIdOf(api, "Zofia Kęsik");
    Object::Ptr byPesel = new Object;
    byPesel->set("pesel", "44051401359");
    const auto none = api.call("POST", "/v1/subjects/search", dpo, stringify(byPesel), "application/json");
    CHECK(none.status == 200);
    CHECK(none.json()->getArray("subjects")->size() == 0);
    CHECK(api.call("POST", "/v1/subjects/search", dpo, "{}", "application/json").status == 422);
    CHECK(api.call("POST", "/v1/subjects/search", api.key("mops/dpo"), R"({"name":"Zofia Kęsik"})", "application/json")
              .json()->getArray("subjects")->size() == 0);

    const auto exported = api.call("GET", "/v1/subjects/" + subjectId + "/export", dpo);
    REQUIRE(exported.status == 200);
    CHECK(exported.contentType == "application/zip");
    writeFile(api.dir() + "/export.zip", exported.body);
    const auto listing = runCommand("unzip -l " + quote(api.dir() + "/export.zip"));
    CHECK(listing.output.find("manifest.json") != std::string::npos);
    CHECK(listing.output.find(first + "-r1.pdf") != std::string::npos);
    CHECK(api.call("GET", "/v1/subjects/" + subjectId + "/export", api.key("mops/dpo")).status == 404);

    // Consent withdrawn for one subject of the first document: every document resting on that
    // consent answers erased or kept, with its ground.
    Object::Ptr which = new Object;
    which->set("subject", subjectId);
    const auto withdrawn = api.call("POST", "/v1/documents/" + first + "/consent/withdraw", dpo, stringify(which), "application/json");
    INFO(withdrawn.body);
    REQUIRE(withdrawn.status == 200);
    const auto outcomes = withdrawn.json()->getArray("subjects")->getObject(0)->getArray("documents");
    CHECK(outcomes->size() == 2);
    for (std::size_t i = 0; i < outcomes->size(); ++i) {
        const auto o = outcomes->getObject(static_cast<unsigned>(i));
        const auto outcome = o->getValue<std::string>("outcome");
        CHECK((outcome == "erased" || (outcome == "kept" && !o->getValue<std::string>("ground").empty())));
    }
    which->set("subject", "not-a-subject-of-this-document");
    CHECK(api.call("POST", "/v1/documents/" + second + "/consent/withdraw", dpo, stringify(which), "application/json").status == 422);

    // Erasure of another person named by the documents: an answer per document.
    const auto other = subjectIdOf(api, "Marta Żurawska");
    const auto erased = api.call("DELETE", "/v1/subjects/" + other, dpo);
    INFO(erased.body);
    REQUIRE(erased.status == 200);
    CHECK(erased.json()->getValue<std::string>("subject_id") == other);
    CHECK(erased.json()->getArray("documents")->size() >= 1);
    CHECK(api.call("DELETE", "/v1/subjects/" + other, api.key("mops/dpo")).status == 404);
    CHECK(api.call("DELETE", "/v1/subjects/no-such-subject", dpo).status == 404);
}

TEST_CASE("every role meets every endpoint as the role matrix says", "[api][roles]") {
    Api api;
    const auto document = api.newDocument();
    const auto pdf = api.call("GET", "/v1/documents/" + document + "/pdf", api.key("gops/admin")).body;
    const std::string subject = subjectIdOf(api, "Zofia Kęsik");

    struct Cell {
        std::string method, path;
        std::set<std::string> roles;  ///< allowed besides admin
        int allowedStatus;            ///< what an allowed role gets for this (valid) request
        std::function<std::string()> body;
        std::string contentType;
        std::function<std::string()> pathFor;  ///< for requests that consume what they act on
    };
    const auto sample = stringify(Api::sampleRequest());
    const std::string none;
    const std::vector<Cell> matrix{
        {"POST", "/v1/documents", {"intake"}, 201, [&] { return sample; }, "application/json", nullptr},
        {"GET", "/v1/documents", {"animator", "auditor"}, 200, nullptr, none, nullptr},
        {"GET", "/v1/documents/{id}", {"intake", "animator", "auditor", "dpo"}, 200, nullptr, none, nullptr},
        {"GET", "/v1/documents/{id}/pdf", {"intake", "animator"}, 200, nullptr, none, nullptr},
        {"POST", "/v1/documents/{id}/revisions", {"animator"}, 422, [&] { return pdf + "%%EOF\n"; }, "application/pdf", nullptr},
        {"GET", "/v1/documents/{id}/audit", {"animator", "auditor"}, 200, nullptr, none, nullptr},
        {"POST", "/v1/documents/{id}/consent/withdraw", {"dpo"}, 200, nullptr, none,
         [&] { return "/v1/documents/" + api.newDocument() + "/consent/withdraw"; }},
        {"POST", "/v1/verify", {"auditor"}, 200, [&] { return pdf; }, "application/pdf", nullptr},
        {"GET", "/v1/audit/checkpoint", {"auditor"}, 200, nullptr, none, nullptr},
        {"GET", "/v1/audit/proof/{index}", {"auditor"}, 200, nullptr, none, nullptr},
        {"POST", "/v1/subjects/search", {"dpo"}, 200, [] { return std::string(R"({"name":"Zofia Kęsik"})"); }, "application/json", nullptr},
        {"GET", "/v1/subjects/{id}/export", {"dpo"}, 200, nullptr, none, nullptr},
        {"DELETE", "/v1/subjects/{id}", {"dpo"}, 200, nullptr, none,
         [&] {
             api.newDocument("gops", "ERASE-" + storage::randomId().substr(0, 6));
             return "/v1/subjects/" + subjectIdOf(api, "Grzegorz Żurawski");
         }},
    };
    const auto concrete = [&](const std::string& pattern) {
        std::string path = pattern;
        const bool subjects = path.rfind("/v1/subjects/", 0) == 0;
        path = std::regex_replace(path, std::regex("\\{id\\}"), subjects ? subject : document);
        return std::regex_replace(path, std::regex("\\{index\\}"), "0");
    };
    int cells = 0;
    for (const auto& cell : matrix) {
        for (const std::string role : {"intake", "animator", "auditor", "dpo", "admin"}) {
            const bool allowed = role == "admin" || cell.roles.count(role) == 1;
            // A forbidden role is refused before anything is consumed, so the shared path does.
            const auto path = allowed && cell.pathFor ? cell.pathFor() : concrete(cell.path);
            const auto reply = api.call(cell.method, path, api.key("gops/" + role), cell.body ? cell.body() : "", cell.contentType);
            INFO(role << " " << cell.method << " " << path << " → " << reply.status << " " << reply.body.substr(0, 300));
            CHECK(reply.status == (allowed ? cell.allowedStatus : 403));
            if (!allowed) CHECK(reply.errorCode() == "auth.forbidden");
            ++cells;
        }
    }
    CHECK(cells == 13 * 5);
    // The public operations need no key at all.
    for (const std::string path : {"/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/templates",
                                   "/v1/templates/m1-oswiadczenie-zgoda", "/v1/templates/m1-oswiadczenie-zgoda/schema",
                                   "/v1/templates/m1-oswiadczenie-zgoda/sample"}) {
        INFO(path);
        CHECK(api.call("GET", path).status == 200);
    }
}

TEST_CASE("the OpenAPI document lists exactly the operations the live service routes", "[api][openapi]") {
    Api api;
    const auto document = api.call("GET", "/openapi.json").json();
    const auto paths = document->getObject("paths");
    int operations = 0;
    // DELETE /v1/subjects/search is DELETE /v1/subjects/{id} with the id "search": a method is
    // only expected to be refused where no other documented template takes it.
    const auto routedElsewhere = [&](const std::string& method, const std::string& path) {
        for (const auto& [other, item] : *paths) {
            const std::regex shape("^" + std::regex_replace(other, std::regex("\\{[a-z]+\\}"), "[^/]+") + "$");
            if (std::regex_match(path, shape) && item.extract<Object::Ptr>()->has(Poco::toLower(method))) return true;
        }
        return false;
    };
    for (const auto& [pattern, item] : *paths) {
        const auto path = std::regex_replace(std::regex_replace(pattern, std::regex("\\{index\\}"), "0"), std::regex("\\{[a-z]+\\}"), "x");
        std::set<std::string> documented;
        for (const auto& [method, operation] : *item.extract<Object::Ptr>()) documented.insert(Poco::toUpper(method));
        for (const std::string method : {"GET", "POST", "DELETE", "PUT", "PATCH"}) {
            const auto reply = api.call(method, path, api.key("gops/admin"), "", method == "GET" || method == "DELETE" ? "" : "application/json");
            INFO(method << " " << path << " → " << reply.status << " " << reply.body.substr(0, 200));
            if (documented.count(method) == 1) {
                ++operations;
                CHECK(reply.status != 405);
                CHECK(reply.errorCode() != "route.unknown");
            } else if (!routedElsewhere(method, path)) {
                CHECK(reply.status == 405);
            }
        }
    }
    CHECK(operations >= 22);
}

TEST_CASE("limits: a per-key rate answers 429, an overloaded service 503, both with Retry-After", "[api][limits]") {
    Api api({{"kooperdoc.http.rate_limit_per_minute", "5"}, {"kooperdoc.http.max_threads", "1"}, {"kooperdoc.http.max_queued", "0"},
             {"kooperdoc.http.timeout_seconds", "3"}});
    const auto key = api.key("gops/animator");
    int limited = 0;
    std::string retryAfter;
    for (int i = 0; i < 8; ++i) {
        const auto reply = api.call("GET", "/v1/documents", key);
        if (reply.status == 429) {
            ++limited;
            retryAfter = reply.header("Retry-After");
            CHECK(reply.errorCode() == "rate.limited");
        }
    }
    CHECK(limited == 3);
    CHECK(std::stoi(retryAfter) >= 1);
    CHECK(api.call("GET", "/v1/documents", api.key("gops/auditor")).status == 200);  // a bucket per key

    // One worker, no queue: a request whose body never comes holds the worker; the next is
    // answered 503 at once instead of waiting behind it.
    const auto url = Poco::URI(api.server().url());
    Poco::Net::StreamSocket slow(Poco::Net::SocketAddress(url.getHost(), url.getPort()));
    const std::string head = "POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + api.key("gops/auditor") +
                             "\r\nContent-Type: application/pdf\r\nContent-Length: 1000\r\n\r\n%PDF";
    slow.sendBytes(head.data(), static_cast<int>(head.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto started = std::chrono::steady_clock::now();
    const auto overloaded = api.call("GET", "/healthz");
    CHECK(overloaded.status == 503);
    CHECK(overloaded.errorCode() == "server.overloaded");
    CHECK(!overloaded.header("Retry-After").empty());
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    slow.close();

    // Metrics count requests by route pattern and status.
    std::this_thread::sleep_for(std::chrono::seconds(4));
    const auto metrics = api.call("GET", "/metrics");
    INFO(metrics.body);
    CHECK(metrics.body.find("kooperdoc_http_requests_total{method=\"GET\",route=\"/v1/documents\",status=\"429\"} 3") != std::string::npos);
    CHECK(metrics.body.find("kooperdoc_http_request_duration_seconds_bucket{le=\"+Inf\"}") != std::string::npos);
    CHECK(metrics.body.find("kooperdoc_http_requests_in_flight") != std::string::npos);
    CHECK(metrics.body.find("kooperdoc_documents_created_total 0") != std::string::npos);
    CHECK(api.server().stop() == 0);
}

TEST_CASE("SIGTERM lets a request in flight finish before the service exits", "[api][shutdown]") {
    Api api;
    Reply created;
    std::thread client([&] { created = api.create(api.key("gops/intake"), Api::sampleRequest()); });
    // Sealing takes a few hundred milliseconds: the signal arrives while the request is worked on.
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    CHECK(api.server().stop() == 0);
    client.join();
    INFO(created.body);
    CHECK(created.status == 201);
}

#ifdef KOOPERDOC_TEST_POSTGRES
TEST_CASE("/readyz answers 503 while the database refuses connections, and ready again after", "[api][readyz]") {
    Api api;
    CHECK(api.call("GET", "/readyz").status == 200);
    const std::string server = KOOPERDOC_TEST_POSTGRES;
    const auto run = [&](const std::string& statement) {
        const auto result = psqlCommand(server + " dbname=postgres", statement);
        INFO(statement << "\n" << result.output);
        REQUIRE(result.exitCode == 0);
    };
    // The database goes away under the running service: no new connections, the open ones cut.
    run("ALTER DATABASE " + api.database() + " WITH ALLOW_CONNECTIONS false");
    run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + api.database() + "'");
    const auto down = api.call("GET", "/readyz");
    INFO(down.body);
    CHECK(down.status == 503);
    CHECK(down.errorCode() == "storage.unavailable");
    CHECK(api.call("GET", "/healthz").status == 200);  // alive, only not ready
    // A request that needs the database fails cleanly instead of hanging.
    CHECK(api.call("GET", "/v1/documents", api.key("gops/auditor")).status >= 500);
    run("ALTER DATABASE " + api.database() + " WITH ALLOW_CONNECTIONS true");
    int status = 0;
    for (int i = 0; i < 50 && status != 200; ++i) {
        status = api.call("GET", "/readyz").status;
        if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(status == 200);
    CHECK(api.call("GET", "/v1/documents", api.key("gops/auditor")).status == 200);
}
#endif

TEST_CASE("one Idempotency-Key sent many times at the same moment makes one document", "[api][idempotency]") {
    Api api;
    const auto intake = api.key("gops/intake");
    const auto body = Api::sampleRequest("RACE-1");
    constexpr int kRequests = 6;
    std::vector<Reply> replies(kRequests);
    std::vector<std::thread> threads;
    for (int i = 0; i < kRequests; ++i) {
        threads.emplace_back([&, i] { replies[static_cast<std::size_t>(i)] = api.create(intake, body, "race-key-1"); });
    }
    for (auto& t : threads) t.join();
    std::set<std::string> ids;
    int created = 0;
    for (const auto& reply : replies) {
        INFO(reply.status << " " << reply.body);
        CHECK((reply.status == 201 || reply.status == 200));
        if (reply.status == 201) ++created;
        if (reply.status == 200 || reply.status == 201) ids.insert(reply.json()->getValue<std::string>("id"));
    }
    CHECK(created == 1);
    CHECK(ids.size() == 1);
    // And the store holds that one document for the case.
    const auto list = api.call("GET", "/v1/documents?caseNumber=RACE-1", api.key("gops/auditor"));
    REQUIRE(list.status == 200);
    CHECK(list.json()->getArray("documents")->size() == 1);
}
