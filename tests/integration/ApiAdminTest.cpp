// SPDX-License-Identifier: AGPL-3.0-or-later
// The administrator's and the data protection officer's /v1 routes against a real `kooperdoc
// serve` (SQLite and PostgreSQL): tenant profile, users, API keys, webhooks with their delivery
// log, retention (report, run, approve, reject, execute) and legal holds. Roles cell by cell,
// another tenant answered like nobody, secrets shown once, and the 4xx each route promises.
#include "ApiClient.h"

#include <functional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>

using namespace kooperdoc;
using namespace kooperdoc::testing;
using namespace kooperdoc::testing::api;

namespace {

/// No webhook job: deliveries stay pending, so the log's rows are what the test made.
const std::map<std::string, std::string> kSettings{{"kooperdoc.webhooks.poll_interval", "0"}};

/// Any kooperdoc command against the service's store (the harness only runs `admin`).
CommandResult kd(const Api& api, const std::string& args) {
    std::string dataDir;
#ifndef KOOPERDOC_TEST_POSTGRES
    dataDir = " --data-dir " + quote(api.dir() + "/data");
#endif
    const auto result = runCommand(quote(cli()) + " --config " + quote(api.dir() + "/kooperdoc.properties") + dataDir + " " + args + " 2>&1");
    INFO("kooperdoc " << args << "\n" << result.output);
    return result;
}

Reply postJson(const Api& api, const std::string& path, const std::string& key, const std::string& body) {
    return api.call("POST", path, key, body, "application/json");
}

std::string idOf(const Reply& reply) {
    INFO(reply.status << " " << reply.body);
    REQUIRE((reply.status == 200 || reply.status == 201));
    return reply.json()->getValue<std::string>("id");
}

std::set<std::string> pointersOf(const Reply& reply) {
    std::set<std::string> pointers;
    const auto violations = reply.json()->getObject("error")->getArray("violations");
    for (std::size_t i = 0; i < violations->size(); ++i) {
        pointers.insert(violations->getObject(static_cast<unsigned>(i))->getValue<std::string>("pointer"));
    }
    return pointers;
}

std::string newLogin() { return "user." + storage::randomId().substr(0, 10); }

/// A document of gops whose case was closed in 2000: its B10 period ended in 2011, so a sweep
/// now proposes it.
std::string dueDocument(const Api& api) {
    const auto caseRef = "RET-" + storage::randomId().substr(0, 8);
    const auto document = api.newDocument("gops", caseRef);
    REQUIRE(kd(api, "case close " + caseRef + " --tenant gops --at 2000-06-01").exitCode == 0);
    return document;
}

/// A fresh disposal proposal of gops (a due document, then a sweep over the API).
std::string newProposal(const Api& api) {
    dueDocument(api);
    const auto run = postJson(api, "/v1/retention/run", api.key("gops/admin"), "");
    INFO(run.body);
    REQUIRE(run.status == 201);
    return run.json()->getValue<std::string>("id");
}

bool arrayHas(const Poco::JSON::Array::Ptr& list, const std::string& member, const std::string& value) {
    for (std::size_t i = 0; i < list->size(); ++i) {
        if (list->getObject(static_cast<unsigned>(i))->getValue<std::string>(member) == value) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("every role meets every admin and retention endpoint as the role matrix says", "[api][admin][roles]") {
    Api api(kSettings);
    const auto admin = api.key("gops/admin");
    const auto user = idOf(postJson(api, "/v1/users", admin, R"({"login":")" + newLogin() + R"(","role":"animator"})"));
    const auto key = idOf(postJson(api, "/v1/keys", admin, R"({"role":"auditor","label":"matrix"})"));
    const auto webhook = idOf(postJson(api, "/v1/webhooks", admin, R"({"url":"https://source.example/hooks","events":["document.sealed"]})"));
    api.newDocument();  // one document.sealed delivery for the webhook
    const auto deliveries = api.call("GET", "/v1/webhooks/" + webhook + "/deliveries", admin).json()->getArray("deliveries");
    REQUIRE(deliveries->size() == 1);
    const auto delivery = deliveries->getObject(0)->getValue<std::string>("id");
    const auto hold = idOf(postJson(api, "/v1/holds", admin, R"({"caseNumber":"HELD-1","reason":"kontrola NIK"})"));
    const auto proposal = newProposal(api);
    const std::string profile = R"({"name":"Gminny Ośrodek Pomocy Społecznej w Łaziskach","short_name":"GOPS Łaziska"})";

    struct Cell {
        std::string method, path;
        std::set<std::string> roles;  ///< allowed besides admin
        int allowedStatus;
        std::function<std::string()> body;
        std::function<std::string()> pathFor;  ///< for requests that consume what they act on
    };
    const auto text = [](const std::string& body) { return [body] { return body; }; };
    const auto newWebhook = [&] {
        return "/v1/webhooks/" + idOf(postJson(api, "/v1/webhooks", admin, R"({"url":"https://source.example/other"})"));
    };
    const auto approved = [&] {
        const auto id = newProposal(api);
        REQUIRE(postJson(api, "/v1/retention/proposals/" + id + "/approve", admin, R"({"archive_consent_ref":"AP-1/2026"})").status == 200);
        return id;
    };
    const std::vector<Cell> matrix{
        {"GET", "/v1/tenant", {"dpo"}, 200, nullptr, nullptr},
        {"PUT", "/v1/tenant", {}, 200, text(profile), nullptr},
        {"GET", "/v1/users", {}, 200, nullptr, nullptr},
        {"POST", "/v1/users", {}, 201, [] { return R"({"login":")" + newLogin() + R"(","role":"intake"})"; }, nullptr},
        {"POST", "/v1/users/" + user + "/disable", {}, 200, nullptr, nullptr},
        {"POST", "/v1/users/" + user + "/enable", {}, 200, nullptr, nullptr},
        {"POST", "/v1/users/" + user + "/reset-password", {}, 200, nullptr, nullptr},
        {"GET", "/v1/keys", {}, 200, nullptr, nullptr},
        {"POST", "/v1/keys", {}, 201, text(R"({"role":"intake"})"), nullptr},
        {"DELETE", "/v1/keys/" + key, {}, 200, nullptr, nullptr},
        {"GET", "/v1/webhooks", {}, 200, nullptr, nullptr},
        {"POST", "/v1/webhooks", {}, 201, text(R"({"url":"https://source.example/hooks"})"), nullptr},
        {"DELETE", "/v1/webhooks/" + webhook, {}, 200, nullptr, newWebhook},
        {"POST", "/v1/webhooks/" + webhook + "/disable", {}, 200, nullptr, nullptr},
        {"POST", "/v1/webhooks/" + webhook + "/enable", {}, 200, nullptr, nullptr},
        {"GET", "/v1/webhooks/" + webhook + "/deliveries", {}, 200, nullptr, nullptr},
        {"POST", "/v1/webhooks/" + webhook + "/deliveries/" + delivery + "/redeliver", {}, 200, nullptr, nullptr},
        {"GET", "/v1/retention/report", {"dpo"}, 200, nullptr, nullptr},
        {"GET", "/v1/retention/proposals", {"dpo"}, 200, nullptr, nullptr},
        {"POST", "/v1/retention/proposals/" + proposal + "/approve", {"dpo"}, 200, text(R"({"archive_consent_ref":"AP-2/2026"})"),
         [&] { return "/v1/retention/proposals/" + newProposal(api) + "/approve"; }},
        {"POST", "/v1/retention/proposals/" + proposal + "/execute", {"dpo"}, 200, nullptr,
         [&] { return "/v1/retention/proposals/" + approved() + "/execute"; }},
        // Every due document sits in a proposal or is erased by now: a sweep finds nothing new
        // (before the rejections below, which make their documents proposable again).
        {"POST", "/v1/retention/run", {"dpo"}, 200, nullptr, nullptr},
        {"POST", "/v1/retention/proposals/" + proposal + "/reject", {"dpo"}, 200, nullptr,
         [&] { return "/v1/retention/proposals/" + newProposal(api) + "/reject"; }},
        {"POST", "/v1/holds", {"dpo"}, 201, text(R"({"caseNumber":"HELD-2","reason":"skarga"})"), nullptr},
        {"GET", "/v1/holds", {"dpo"}, 200, nullptr, nullptr},
        {"DELETE", "/v1/holds/" + hold, {"dpo"}, 200, nullptr,
         [&] { return "/v1/holds/" + idOf(postJson(api, "/v1/holds", admin, R"({"caseNumber":"HELD-3","reason":"skarga"})")); }},
    };
    int cells = 0;
    for (const auto& cell : matrix) {
        for (const std::string role : {"intake", "animator", "auditor", "dpo", "admin"}) {
            const bool allowed = role == "admin" || cell.roles.count(role) == 1;
            // A forbidden role is refused before anything is read or consumed.
            const auto path = allowed && cell.pathFor ? cell.pathFor() : cell.path;
            const auto body = cell.body ? cell.body() : "";
            const auto reply = api.call(cell.method, path, api.key("gops/" + role), body, body.empty() ? "" : "application/json");
            INFO(role << " " << cell.method << " " << path << " → " << reply.status << " " << reply.body.substr(0, 300));
            CHECK(reply.status == (allowed ? cell.allowedStatus : 403));
            if (!allowed) CHECK(reply.errorCode() == "auth.forbidden");
            ++cells;
        }
    }
    CHECK(cells == 26 * 5);
}

TEST_CASE("another tenant's users, keys, webhooks, proposals and holds answer like unknown ones", "[api][admin]") {
    Api api(kSettings);
    const auto gops = api.key("gops/admin");
    const auto mops = api.key("mops/admin");
    const auto user = idOf(postJson(api, "/v1/users", gops, R"({"login":")" + newLogin() + R"(","role":"animator"})"));
    const auto key = idOf(postJson(api, "/v1/keys", gops, R"({"role":"auditor"})"));
    const auto webhook = idOf(postJson(api, "/v1/webhooks", gops, R"({"url":"https://source.example/hooks"})"));
    const auto hold = idOf(postJson(api, "/v1/holds", gops, R"({"caseNumber":"C-9","reason":"skarga"})"));
    const auto proposal = newProposal(api);
    const auto document = api.newDocument();

    struct Probe {
        std::string method, path, body, code;
    };
    const std::vector<Probe> probes{
        {"POST", "/v1/users/" + user + "/disable", "", "auth.user_unknown"},
        {"POST", "/v1/users/" + user + "/enable", "", "auth.user_unknown"},
        {"POST", "/v1/users/" + user + "/reset-password", "", "auth.user_unknown"},
        {"DELETE", "/v1/keys/" + key, "", "auth.key_unknown"},
        {"DELETE", "/v1/webhooks/" + webhook, "", "webhook.unknown"},
        {"POST", "/v1/webhooks/" + webhook + "/disable", "", "webhook.unknown"},
        {"GET", "/v1/webhooks/" + webhook + "/deliveries", "", "webhook.unknown"},
        {"POST", "/v1/retention/proposals/" + proposal + "/approve", R"({"archive_consent_ref":"AP-1"})", "retention.proposal_unknown"},
        {"POST", "/v1/retention/proposals/" + proposal + "/reject", "", "retention.proposal_unknown"},
        {"POST", "/v1/retention/proposals/" + proposal + "/execute", "", "retention.proposal_unknown"},
        {"DELETE", "/v1/holds/" + hold, "", "storage.hold_unknown"},
        {"POST", "/v1/holds", R"({"documentId":")" + document + R"(","reason":"skarga"})", "storage.document_unknown"},
    };
    for (const auto& probe : probes) {
        for (const auto& path : {probe.path, std::regex_replace(probe.path, std::regex("[0-9a-f]{16,}"), "0123456789abcdef0123")}) {
            const auto reply = api.call(probe.method, path, mops, probe.body, probe.body.empty() ? "" : "application/json");
            INFO(probe.method << " " << path << " → " << reply.status << " " << reply.body);
            CHECK(reply.status == 404);
            CHECK(reply.errorCode() == probe.code);
        }
    }
    // Nothing of gops shows in mops's lists, and gops's objects are untouched.
    for (const std::string list : {"/v1/users", "/v1/keys", "/v1/webhooks", "/v1/holds", "/v1/retention/proposals"}) {
        const auto reply = api.call("GET", list, mops);
        INFO(list << " " << reply.body);
        CHECK(reply.status == 200);
        for (const auto& id : {user, key, webhook, hold, proposal}) CHECK(reply.body.find(id) == std::string::npos);
    }
    const auto tenant = api.call("GET", "/v1/tenant", api.key("mops/dpo")).json();
    CHECK(tenant->getValue<std::string>("tenant_id") == "mops");
    CHECK(api.call("GET", "/v1/keys", gops).body.find("\"revoked_at\":null") != std::string::npos);
    CHECK(postJson(api, "/v1/users/" + user + "/disable", gops, "").json()->getValue<bool>("disabled"));
}

TEST_CASE("the tenant profile is read by admin and dpo and replaced only when valid", "[api][admin]") {
    Api api(kSettings);
    const auto read = api.call("GET", "/v1/tenant", api.key("gops/dpo"));
    REQUIRE(read.status == 200);
    CHECK(read.json()->getValue<std::string>("tenant_id") == "gops");
    CHECK(read.json()->getObject("profile")->getValue<std::string>("short_name") == "GOPS Łaziska");

    const auto bad = api.call("PUT", "/v1/tenant", api.key("gops/admin"), R"({"name":"GOPS","nip":"1234567890","color":"red","city":5})",
                              "application/json");
    INFO(bad.body);
    CHECK(bad.status == 422);
    CHECK(pointersOf(bad) == std::set<std::string>{"/nip", "/color", "/city"});
    CHECK(api.call("PUT", "/v1/tenant", api.key("gops/admin"), "[1]", "application/json").status == 400);
    CHECK(api.call("PUT", "/v1/tenant", api.key("gops/admin"), R"({"name":"x"})", "text/plain").status == 415);
    CHECK(api.call("GET", "/v1/tenant", api.key("gops/admin")).json()->getObject("profile")->getValue<std::string>("short_name") ==
          "GOPS Łaziska");

    const auto put = api.call("PUT", "/v1/tenant", api.key("gops/admin"),
                              R"({"name":"Miejski Ośrodek Pomocy Rodzinie","short_name":"MOPR","nip":"5261040828"})", "application/json");
    INFO(put.body);
    REQUIRE(put.status == 200);
    const auto profile = api.call("GET", "/v1/tenant", api.key("gops/dpo")).json()->getObject("profile");
    CHECK(profile->getValue<std::string>("short_name") == "MOPR");
    CHECK(profile->getValue<std::string>("nip") == "5261040828");
    CHECK_FALSE(profile->has("city"));
    // Only the caller's tenant changed.
    CHECK(api.call("GET", "/v1/tenant", api.key("mops/admin")).json()->getObject("profile")->getValue<std::string>("short_name") ==
          "GOPS Łaziska");
}

TEST_CASE("users: a one-time password shown once, never a hash, disabled, enabled and reset", "[api][admin]") {
    Api api(kSettings);
    const auto admin = api.key("gops/admin");
    const auto login = newLogin();
    const auto created = postJson(api, "/v1/users", admin, R"({"login":")" + login + R"(","role":"animator"})");
    INFO(created.body);
    REQUIRE(created.status == 201);
    CHECK(created.header("Cache-Control") == "no-store");
    const auto user = created.json();
    const auto id = user->getValue<std::string>("id");
    const auto password = user->getValue<std::string>("one_time_password");
    CHECK(password.size() == 20);
    CHECK(user->getValue<std::string>("login") == login);
    CHECK(user->getValue<std::string>("role") == "animator");
    CHECK(user->getValue<bool>("must_change_password"));
    CHECK_FALSE(user->getValue<bool>("disabled"));

    const auto listed = api.call("GET", "/v1/users", admin);
    REQUIRE(listed.status == 200);
    CHECK(arrayHas(listed.json()->getArray("users"), "id", id));
    CHECK(listed.body.find(password) == std::string::npos);
    CHECK(listed.body.find("argon2") == std::string::npos);
    CHECK(listed.body.find("password_hash") == std::string::npos);
    CHECK(listed.body.find("one_time_password") == std::string::npos);

    // The login is unique across tenants, checked field by field.
    CHECK(postJson(api, "/v1/users", api.key("mops/admin"), R"({"login":")" + login + R"(","role":"dpo"})").errorCode() == "auth.login_taken");
    CHECK(postJson(api, "/v1/users", admin, R"({"login":")" + login + R"(","role":"dpo"})").status == 409);
    const auto invalid = postJson(api, "/v1/users", admin, R"({"login":"Ewa Kowalska","role":"chief"})");
    CHECK(invalid.status == 422);
    CHECK(pointersOf(invalid) == std::set<std::string>{"/role"});  // the role is checked first
    const auto badLogin = postJson(api, "/v1/users", admin, R"({"login":"Ewa Kowalska","role":"dpo"})");
    CHECK(badLogin.status == 422);
    CHECK(pointersOf(badLogin) == std::set<std::string>{"/login"});
    const auto missing = postJson(api, "/v1/users", admin, R"({"login":7})");
    CHECK(missing.status == 422);
    CHECK(pointersOf(missing) == std::set<std::string>{"/login", "/role"});
    CHECK(postJson(api, "/v1/users", admin, "{").errorCode() == "request.json_invalid");

    const auto disabled = postJson(api, "/v1/users/" + id + "/disable", admin, "");
    REQUIRE(disabled.status == 200);
    CHECK(disabled.json()->getValue<bool>("disabled"));
    CHECK(postJson(api, "/v1/users/" + id + "/disable", admin, "").status == 200);
    const auto enabled = postJson(api, "/v1/users/" + id + "/enable", admin, "");
    CHECK_FALSE(enabled.json()->getValue<bool>("disabled"));
    CHECK(postJson(api, "/v1/users/nobody/disable", admin, "").status == 404);

    const auto reset = postJson(api, "/v1/users/" + id + "/reset-password", admin, "");
    REQUIRE(reset.status == 200);
    CHECK(reset.header("Cache-Control") == "no-store");
    const auto second = reset.json()->getValue<std::string>("one_time_password");
    CHECK(second.size() == 20);
    CHECK(second != password);
    CHECK(reset.json()->getValue<bool>("must_change_password"));
}

TEST_CASE("API keys: the secret shown once authenticates, a revoked key gets 401, a key cannot revoke itself", "[api][admin]") {
    Api api(kSettings);
    const auto admin = api.key("gops/admin");
    const auto created = postJson(api, "/v1/keys", admin, R"({"role":"auditor","label":"System archiwum"})");
    INFO(created.body);
    REQUIRE(created.status == 201);
    CHECK(created.header("Cache-Control") == "no-store");
    const auto id = created.json()->getValue<std::string>("id");
    const auto secret = created.json()->getValue<std::string>("secret");
    CHECK(secret.rfind("kd_" + id + "_", 0) == 0);
    CHECK(created.json()->getValue<std::string>("role") == "auditor");
    CHECK(created.json()->getValue<std::string>("label") == "System archiwum");

    // It is the auditor's key of gops: it lists documents and may not issue one.
    CHECK(api.call("GET", "/v1/documents", secret).status == 200);
    CHECK(api.create(secret, Api::sampleRequest()).status == 403);

    const auto listed = api.call("GET", "/v1/keys", admin);
    REQUIRE(listed.status == 200);
    CHECK(listed.body.find(secret) == std::string::npos);
    CHECK(listed.body.find(secret.substr(secret.size() - 43)) == std::string::npos);
    const auto keys = listed.json()->getArray("keys");
    CHECK(arrayHas(keys, "id", id));
    int current = 0;
    for (std::size_t i = 0; i < keys->size(); ++i) current += keys->getObject(static_cast<unsigned>(i))->getValue<bool>("current") ? 1 : 0;
    CHECK(current == 1);

    const auto revoked = api.call("DELETE", "/v1/keys/" + id, admin);
    REQUIRE(revoked.status == 200);
    CHECK_FALSE(revoked.json()->get("revoked_at").isEmpty());
    const auto refused = api.call("GET", "/v1/documents", secret);
    CHECK(refused.status == 401);
    CHECK(refused.errorCode() == "auth.invalid_key");
    CHECK(api.call("DELETE", "/v1/keys/" + id, admin).status == 200);  // once revoked, revoked
    CHECK(api.call("DELETE", "/v1/keys/0123456789abcdef", admin).errorCode() == "auth.key_unknown");

    // The key a request comes with cannot revoke itself; another admin key can.
    const auto second = postJson(api, "/v1/keys", admin, R"({"role":"admin"})").json();
    const auto secondId = second->getValue<std::string>("id");
    const auto self = api.call("DELETE", "/v1/keys/" + secondId, second->getValue<std::string>("secret"));
    CHECK(self.status == 409);
    CHECK(self.errorCode() == "auth.key_in_use");
    CHECK(api.call("DELETE", "/v1/keys/" + secondId, admin).status == 200);
    CHECK(api.call("GET", "/v1/keys", second->getValue<std::string>("secret")).status == 401);

    const auto badRole = postJson(api, "/v1/keys", admin, R"({"role":"root"})");
    CHECK(badRole.status == 422);
    CHECK(pointersOf(badRole) == std::set<std::string>{"/role"});
    const auto badLabel = postJson(api, "/v1/keys", admin, "{\"role\":\"intake\",\"label\":\"a\\u0007b\"}");
    CHECK(badLabel.status == 422);
    CHECK(pointersOf(badLabel) == std::set<std::string>{"/label"});
    CHECK(postJson(api, "/v1/keys", admin, "{}").status == 422);
}

TEST_CASE("webhooks: made with a secret shown once, the delivery log per webhook, redelivered, deleted", "[api][admin]") {
    Api api(kSettings);
    const auto admin = api.key("gops/admin");
    const auto bad = postJson(api, "/v1/webhooks", admin, R"({"url":"http://source.example/hooks"})");
    CHECK(bad.status == 422);
    CHECK(pointersOf(bad) == std::set<std::string>{"/url"});
    CHECK(pointersOf(postJson(api, "/v1/webhooks", admin, R"({"url":"https://u:p@source.example/hooks"})")) == std::set<std::string>{"/url"});
    CHECK(pointersOf(postJson(api, "/v1/webhooks", admin, R"({"url":"https://source.example/h","events":["document.viewed"]})")) ==
          std::set<std::string>{"/events"});
    CHECK(pointersOf(postJson(api, "/v1/webhooks", admin, R"({"url":"https://source.example/h","events":"*"})")) ==
          std::set<std::string>{"/events"});
    CHECK(pointersOf(postJson(api, "/v1/webhooks", admin, R"({"events":[1]})")) == std::set<std::string>{"/url", "/events/0"});

    const auto created = postJson(api, "/v1/webhooks", admin, R"({"url":"https://source.example/hooks","events":["document.sealed"]})");
    INFO(created.body);
    REQUIRE(created.status == 201);
    const auto id = created.json()->getValue<std::string>("id");
    const auto secret = created.json()->getValue<std::string>("secret");
    CHECK(secret.rfind("whsec_", 0) == 0);
    CHECK(created.header("Cache-Control") == "no-store");
    const auto listed = api.call("GET", "/v1/webhooks", admin);
    CHECK(arrayHas(listed.json()->getArray("webhooks"), "id", id));
    CHECK(listed.body.find(secret) == std::string::npos);
    CHECK(listed.body.find("document.sealed") != std::string::npos);

    const auto document = api.newDocument();
    api.newDocument("mops");  // another tenant's event reaches no gops webhook
    const auto log = api.call("GET", "/v1/webhooks/" + id + "/deliveries", admin);
    INFO(log.body);
    REQUIRE(log.status == 200);
    const auto deliveries = log.json()->getArray("deliveries");
    REQUIRE(deliveries->size() == 1);
    const auto delivery = deliveries->getObject(0);
    CHECK(delivery->getValue<std::string>("event") == "document.sealed");
    CHECK(delivery->getValue<std::string>("status") == "pending");
    CHECK(delivery->getValue<int>("attempts") == 0);
    CHECK(delivery->get("last_status_code").isEmpty());
    CHECK(delivery->getObject("payload")->getObject("data")->getValue<std::string>("document") == document);
    CHECK(delivery->getObject("payload")->getValue<std::string>("tenant") == "gops");
    CHECK(log.body.find("Zofia") == std::string::npos);  // ids and hashes only
    CHECK(api.call("GET", "/v1/webhooks/" + id + "/deliveries?limit=0", admin).status == 400);
    CHECK(api.call("GET", "/v1/webhooks/" + id + "/deliveries?limit=1", admin).json()->getArray("deliveries")->size() == 1);

    const auto deliveryId = delivery->getValue<std::string>("id");
    CHECK(postJson(api, "/v1/webhooks/" + id + "/deliveries/" + deliveryId + "/redeliver", admin, "").status == 200);
    CHECK(postJson(api, "/v1/webhooks/" + id + "/deliveries/whd_none/redeliver", admin, "").errorCode() == "webhook.delivery_unknown");

    const auto disabled = postJson(api, "/v1/webhooks/" + id + "/disable", admin, "");
    CHECK(disabled.json()->getValue<bool>("disabled"));
    api.newDocument();  // a disabled webhook gets nothing queued
    CHECK(api.call("GET", "/v1/webhooks/" + id + "/deliveries", admin).json()->getArray("deliveries")->size() == 1);
    CHECK_FALSE(postJson(api, "/v1/webhooks/" + id + "/enable", admin, "").json()->getValue<bool>("disabled"));

    CHECK(api.call("DELETE", "/v1/webhooks/" + id, admin).status == 200);
    CHECK(api.call("GET", "/v1/webhooks/" + id + "/deliveries", admin).errorCode() == "webhook.unknown");
    CHECK(api.call("DELETE", "/v1/webhooks/" + id, admin).status == 404);
}

TEST_CASE("retention over the API: a hold blocks, a run proposes, approval needs the archive's consent, execution erases",
          "[api][admin][retention]") {
    Api api(kSettings);
    const auto dpo = api.key("gops/dpo");
    const auto document = dueDocument(api);

    const auto report = api.call("GET", "/v1/retention/report", dpo);
    INFO(report.body);
    REQUIRE(report.status == 200);
    const auto rows = report.json()->getArray("documents");
    REQUIRE(rows->size() == 1);
    CHECK(rows->getObject(0)->getValue<std::string>("document_id") == document);
    CHECK(rows->getObject(0)->getValue<bool>("due"));
    CHECK(rows->getObject(0)->getValue<std::string>("category") == "B10");

    // A hold on the document keeps it out of the sweep.
    const auto hold = postJson(api, "/v1/holds", dpo, R"({"documentId":")" + document + R"(","reason":"postępowanie sądowe"})");
    INFO(hold.body);
    REQUIRE(hold.status == 201);
    const auto holdId = hold.json()->getValue<std::string>("id");
    CHECK(hold.json()->getValue<std::string>("set_by").rfind("key:", 0) == 0);
    CHECK(hold.json()->getValue<bool>("active"));
    CHECK(api.call("GET", "/v1/retention/report", dpo).json()->getArray("documents")->getObject(0)->getValue<std::string>("blocked_by") ==
          "legal_hold: postępowanie sądowe");
    const auto blocked = postJson(api, "/v1/retention/run", dpo, "");
    CHECK(blocked.status == 200);
    CHECK(blocked.json()->getValue<std::string>("status") == "nothing_due");
    CHECK(blocked.json()->get("id").isEmpty());

    const auto twoTargets = postJson(api, "/v1/holds", dpo, R"({"documentId":")" + document + R"(","caseNumber":"X","reason":"r"})");
    CHECK(twoTargets.status == 422);
    CHECK(pointersOf(twoTargets) == std::set<std::string>{""});
    CHECK(twoTargets.json()->getObject("error")->getArray("violations")->getObject(0)->getValue<std::string>("code") ==
          "hold.target_invalid");
    CHECK(pointersOf(postJson(api, "/v1/holds", dpo, R"({"caseNumber":"X"})")) == std::set<std::string>{"/reason"});
    CHECK(pointersOf(postJson(api, "/v1/holds", dpo, R"({"caseNumber":"X","reason":3})")) == std::set<std::string>{"/reason"});
    CHECK(postJson(api, "/v1/holds", dpo, R"({"documentId":"KD-nothing","reason":"r"})").status == 404);

    const auto cleared = api.call("DELETE", "/v1/holds/" + holdId, dpo);
    REQUIRE(cleared.status == 200);
    CHECK_FALSE(cleared.json()->getValue<bool>("active"));
    CHECK(api.call("DELETE", "/v1/holds/" + holdId, dpo).errorCode() == "storage.hold_unknown");
    const auto holds = api.call("GET", "/v1/holds", dpo).json()->getArray("holds");
    REQUIRE(holds->size() == 1);
    CHECK_FALSE(holds->getObject(0)->getValue<bool>("active"));

    // A dry run shows it and records nothing; a run proposes it.
    const auto dry = postJson(api, "/v1/retention/run", dpo, R"({"dry_run":true})");
    CHECK(dry.status == 200);
    CHECK(dry.json()->getArray("items")->size() == 1);
    CHECK(api.call("GET", "/v1/retention/proposals", dpo).json()->getArray("proposals")->size() == 0);
    CHECK(pointersOf(postJson(api, "/v1/retention/run", dpo, R"({"dry_run":"yes"})")) == std::set<std::string>{"/dry_run"});
    const auto run = postJson(api, "/v1/retention/run", dpo, "");
    INFO(run.body);
    REQUIRE(run.status == 201);
    const auto proposal = run.json()->getValue<std::string>("id");
    CHECK(run.json()->getValue<std::string>("status") == "proposed");
    CHECK(run.json()->getArray("items")->getObject(0)->getValue<std::string>("document_id") == document);
    CHECK(postJson(api, "/v1/retention/run", dpo, "").status == 200);  // pending: not proposed twice

    const auto early = postJson(api, "/v1/retention/proposals/" + proposal + "/execute", dpo, "");
    CHECK(early.status == 409);
    CHECK(early.errorCode() == "retention.not_approved");
    const auto noConsent = postJson(api, "/v1/retention/proposals/" + proposal + "/approve", dpo, "");
    CHECK(noConsent.status == 409);
    CHECK(noConsent.errorCode() == "retention.archive_consent_required");
    const auto approved = postJson(api, "/v1/retention/proposals/" + proposal + "/approve", dpo, R"({"archive_consent_ref":"AP-WA/17/2026"})");
    INFO(approved.body);
    REQUIRE(approved.status == 200);
    CHECK(approved.json()->getValue<std::string>("status") == "approved");
    CHECK(approved.json()->getValue<std::string>("archive_consent_ref") == "AP-WA/17/2026");
    CHECK(approved.json()->getValue<std::string>("approved_by").rfind("key:", 0) == 0);
    CHECK(postJson(api, "/v1/retention/proposals/" + proposal + "/approve", dpo, R"({"archive_consent_ref":"AP"})").errorCode() ==
          "retention.proposal_state");
    CHECK(postJson(api, "/v1/retention/proposals/" + proposal + "/reject", dpo, "").status == 409);

    const auto executed = postJson(api, "/v1/retention/proposals/" + proposal + "/execute", dpo, "");
    INFO(executed.body);
    REQUIRE(executed.status == 200);
    CHECK(executed.json()->getValue<std::string>("status") == "executed");
    const auto records = executed.json()->getArray("records");
    REQUIRE(records->size() == 1);
    CHECK(records->getObject(0)->getValue<std::string>("outcome") == "erased");
    CHECK(records->getObject(0)->getValue<std::string>("document_id") == document);
    const auto erased = api.call("GET", "/v1/documents/" + document, dpo);
    CHECK(erased.json()->getValue<std::string>("status") == "erased");
    CHECK(api.call("GET", "/v1/retention/report", dpo).json()->getArray("documents")->size() == 0);
}
