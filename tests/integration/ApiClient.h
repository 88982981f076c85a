// SPDX-License-Identifier: AGPL-3.0-or-later
// A real `kooperdoc serve --port 0` with its data directory (or a fresh PostgreSQL database when
// KOOPERDOC_TEST_POSTGRES is defined), two tenants with a key per role, and an HTTP client for
// it: what every API test file shares.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "CliSupport.h"
#include "ServerProcess.h"
#include "kooperdoc/storage/Keys.h"

namespace kooperdoc::testing::api {

using Poco::JSON::Object;


struct Reply {
    int status = 0;
    std::string body;
    std::string contentType;
    std::map<std::string, std::string> headers;
    std::vector<std::string> setCookies;  ///< every Set-Cookie header (headers keeps only one)

    Object::Ptr json() const {
        INFO(body);
        Poco::JSON::Parser parser;
        return parser.parse(body).extract<Object::Ptr>();
    }
    std::string errorCode() const {
        try {
            return json()->getObject("error")->getValue<std::string>("code");
        } catch (...) {
            return "";
        }
    }
    std::string header(const std::string& name) const {
        const auto it = headers.find(Poco::toLower(name));
        return it == headers.end() ? "" : it->second;
    }
};

inline std::string stringify(const Object::Ptr& o) {
    std::ostringstream out;
    o->stringify(out);
    return out.str();
}

inline Object::Ptr parse(const std::string& text) {
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Object::Ptr>();
}

/// One service with its data directory (or PostgreSQL database) and a key per tenant and role.
class Api {
public:
    explicit Api(const std::map<std::string, std::string>& settings = {}) : dir_(scratchDir("api-" + storage::randomId().substr(0, 8))) {
        std::string config = "kooperdoc.signing.identity.dir = " + dir_ + "/identity\n"
                             "kooperdoc.retention.sweep_interval = 0\n"
                             "kooperdoc.audit.checkpoint_interval = 0\n"
                             "kooperdoc.http.max_body_bytes = 4000000\n"
                             "kooperdoc.auth.argon2.memory_kib = 1024\n";
#ifdef KOOPERDOC_TEST_POSTGRES
        database_ = "kd_api_" + storage::randomId().substr(0, 12);
        const auto created = psql("postgres", "CREATE DATABASE " + database_);
        INFO(created.output);
        REQUIRE(created.exitCode == 0);
        config += "kooperdoc.storage.database = postgresql:" + std::string(KOOPERDOC_TEST_POSTGRES) + " dbname=" + database_ + "\n" +
                  "kooperdoc.storage.blob_dir = " + dir_ + "/data/blobs\n" + "kooperdoc.storage.master_key_file = " + dir_ +
                  "/data/master.key\n" + "kooperdoc.audit.key_file = " + dir_ + "/data/audit.key\n";
        dataDirArgs_ = {};
#else
        dataDirArgs_ = {"--data-dir", dir_ + "/data"};
#endif
        for (const auto& [key, value] : settings) config += key + " = " + value + "\n";
        writeFile(dir_ + "/kooperdoc.properties", config);
        writeFile(dir_ + "/tenant.json", R"({"name":"Gminny Ośrodek Pomocy Społecznej w Łaziskach","short_name":"GOPS Łaziska"})");
        for (const std::string tenant : {"gops", "mops"}) {
            const auto made = admin("create-tenant " + tenant + " --profile " + quote(dir_ + "/tenant.json"));
            INFO(made.output);
            REQUIRE(made.exitCode == 0);
            for (const std::string role : {"intake", "animator", "auditor", "dpo", "admin"}) {
                const auto key = admin("create-key --tenant " + tenant + " --role " + role);
                INFO(key.output);
                REQUIRE(key.exitCode == 0);
                auto text = key.output;
                while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
                keys_[tenant + "/" + role] = text.substr(text.rfind('\n') + 1);
            }
        }
        std::vector<std::string> args{"--config", dir_ + "/kooperdoc.properties"};
        args.insert(args.end(), dataDirArgs_.begin(), dataDirArgs_.end());
        server_ = std::make_unique<ServerProcess>(args);
        const auto url = Poco::URI(server_->url());
        host_ = url.getHost();
        port_ = url.getPort();
    }
    ~Api() {
        server_.reset();
#ifdef KOOPERDOC_TEST_POSTGRES
        psql("postgres", "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
#endif
        std::filesystem::remove_all(dir_);
    }

    CommandResult admin(const std::string& args) const {
        std::string dataDir;
        for (const auto& a : dataDirArgs_) dataDir += " " + quote(a);
        const auto result = runCommand(quote(cli()) + " --config " + quote(dir_ + "/kooperdoc.properties") + dataDir + " admin " + args + " 2>&1");
        INFO("kooperdoc admin " << args << "\n" << result.output);
        return result;
    }

    const std::string& key(const std::string& tenantRole) const { return keys_.at(tenantRole); }
#ifdef KOOPERDOC_TEST_POSTGRES
    /// The service's own database in the throw-away cluster.
    const std::string& database() const { return database_; }
#endif
    const std::string& dir() const { return dir_; }
    ServerProcess& server() { return *server_; }

    Reply call(const std::string& method, const std::string& path, const std::string& key = "", const std::string& body = "",
               const std::string& contentType = "", const std::map<std::string, std::string>& headers = {}) const {
        Poco::Net::HTTPClientSession session(host_, port_);
        session.setTimeout(Poco::Timespan(120, 0));
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (!key.empty()) request.set("Authorization", "Bearer " + key);
        for (const auto& [name, value] : headers) request.set(name, value);
        if (!contentType.empty()) request.setContentType(contentType);
        if (!body.empty() || method == "POST" || method == "PUT") request.setContentLength(static_cast<std::streamsize>(body.size()));
        session.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        auto& in = session.receiveResponse(response);
        Reply reply;
        reply.status = static_cast<int>(response.getStatus());
        reply.contentType = response.getContentType();
        for (const auto& [name, value] : response) {
            reply.headers[Poco::toLower(name)] = value;
            if (Poco::toLower(name) == "set-cookie") reply.setCookies.push_back(value);
        }
        Poco::StreamCopier::copyToString(in, reply.body);
        return reply;
    }

    Reply create(const std::string& key, const Object::Ptr& body, const std::string& idempotencyKey = "") const {
        std::map<std::string, std::string> headers;
        if (!idempotencyKey.empty()) headers["Idempotency-Key"] = idempotencyKey;
        return call("POST", "/v1/documents", key, stringify(body), "application/json", headers);
    }

    /// A new consent document of \p tenant from the m1-oswiadczenie-zgoda sample; its id.
    std::string newDocument(const std::string& tenant = "gops", const std::string& caseNumber = "CASE-1") const {
        const auto reply = create(key(tenant + "/intake"), sampleRequest(caseNumber));
        INFO(reply.body);
        REQUIRE(reply.status == 201);
        return reply.json()->getValue<std::string>("id");
    }

    static Object::Ptr sampleRequest(const std::string& caseNumber = "CASE-1") {
        Object::Ptr body = new Object;
        body->set("template", "m1-oswiadczenie-zgoda");
        body->set("data", parse(readFile(sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json")));
        body->set("caseNumber", caseNumber);
        return body;
    }

private:
#ifdef KOOPERDOC_TEST_POSTGRES
    static CommandResult psql(const std::string& database, const std::string& statement) {
        return psqlCommand(std::string(KOOPERDOC_TEST_POSTGRES) + " dbname=" + database, statement);
    }
    std::string database_;
#endif
    std::string dir_;
    std::vector<std::string> dataDirArgs_;
    std::map<std::string, std::string> keys_;
    std::unique_ptr<ServerProcess> server_;
    std::string host_;
    Poco::UInt16 port_ = 0;
};

inline std::string subjectIdOf(const Api& api, const std::string& name) {
    Object::Ptr query = new Object;
    query->set("name", name);
    const auto found = api.call("POST", "/v1/subjects/search", api.key("gops/dpo"), stringify(query), "application/json");
    INFO(found.body);
    REQUIRE(found.status == 200);
    const auto subjects = found.json()->getArray("subjects");
    REQUIRE(subjects->size() >= 1);
    return subjects->getObject(0)->getValue<std::string>("subject_id");
}


}  // namespace kooperdoc::testing::api
