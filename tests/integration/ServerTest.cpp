// SPDX-License-Identifier: AGPL-3.0-or-later
// The real `kooperdoc serve` on an ephemeral port, spoken to with curl.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <regex>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "CliSupport.h"
#include "ServerProcess.h"
#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/templates/Catalog.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

using namespace kooperdoc;
using namespace kooperdoc::testing;

namespace {

int countOf(const std::string& text, const std::string& needle) {
    int count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
    return count;
}

CommandResult get(const std::string& url) {
    return runCommand("curl -s -w '\\n%{http_code} %{content_type}' " + quote(url));
}

}  // namespace

TEST_CASE("the service answers /healthz and /v1/templates, maps errors, and stops gracefully", "[server]") {
    ServerProcess server;
    const auto health = get(server.url() + "/healthz");
    CHECK(health.output == "{\"status\":\"ok\"}\n200 application/json; charset=utf-8");

    const auto list = get(server.url() + "/v1/templates");
    const auto body = list.output.substr(0, list.output.rfind('\n'));
    CHECK(list.output.substr(list.output.rfind('\n') + 1, 3) == "200");
    const auto templates = parseJson(body).extract<Poco::JSON::Object::Ptr>()->getArray("templates");
    CHECK(templates->size() == templates::Catalog::builtIn().list().size());
    const auto first = templates->getObject(0)->getValue<std::string>("id");

    const auto schema = get(server.url() + "/v1/templates/" + first + "/schema");
    CHECK(schema.output.find("200 application/schema+json") != std::string::npos);

    const auto missing = get(server.url() + "/v1/templates/no-such-template");
    CHECK(missing.output.find("\"code\":\"template.unknown\"") != std::string::npos);
    CHECK(missing.output.substr(missing.output.rfind('\n') + 1, 3) == "404");
    CHECK(get(server.url() + "/nowhere").output.find("\n404 ") != std::string::npos);
    CHECK(runCommand("curl -s -o /dev/null -w '%{http_code}' -X POST " + quote(server.url() + "/healthz")).output == "405");

    CHECK(server.stop() == 0);
}

TEST_CASE("the service's retention sweep proposes what is due and erases nothing", "[server][retention]") {
    const std::string dir = scratchDir("server-retention");
    const auto kd = [&](const std::string& args) {
        const auto result = runCommand(quote(cli()) + " --data-dir " + quote(dir + "/data") + " " + args + " 2>&1");
        INFO("kooperdoc " << args << "\n" << result.output);
        return result;
    };
    writeFile(dir + "/tenant.json", R"({"name":"Gminny Ośrodek Pomocy Społecznej w Łaziskach","short_name":"GOPS Łaziska"})");
    REQUIRE(kd("tenant put gops --profile " + quote(dir + "/tenant.json")).exitCode == 0);
    const std::string sample = sourceDir() + "/templates/catalog/m1-oswiadczenie-zgoda/samples/sample.json";
    // A case closed in 2010: its B10 documents were due on 2021-01-01. Another, still open: never.
    const auto old = kd("store m1-oswiadczenie-zgoda " + quote(sample) + " --tenant gops --case OLD --at 2010-03-01 --json");
    REQUIRE(old.exitCode == 0);
    REQUIRE(kd("case close OLD --tenant gops --at 2010-06-30").exitCode == 0);
    REQUIRE(kd("store m1-oswiadczenie-zgoda " + quote(sample) + " --tenant gops --case OPEN --json").exitCode == 0);
    REQUIRE(kd("retention run --tenant gops --dry-run --json").output.find("\"OLD\"") == std::string::npos);

    writeFile(dir + "/kooperdoc.properties", "kooperdoc.storage.database = sqlite:" + dir + "/data/kooperdoc.db\n" +
                                                 "kooperdoc.storage.blob_dir = " + dir + "/data/blobs\n" +
                                                 "kooperdoc.storage.master_key_file = " + dir + "/data/master.key\n" +
                                                 "kooperdoc.audit.key_file = " + dir + "/data/audit.key\n" +
                                                 "kooperdoc.retention.sweep_interval = 1\n");
    ServerProcess server({"--config", dir + "/kooperdoc.properties"});
    // The first sweep runs at start; poll the store (through the CLI) until it recorded it.
    std::string report;
    for (int i = 0; i < 100; ++i) {
        report = kd("retention report --tenant gops --json").output;
        if (report.find("pending_proposal") != std::string::npos) break;
        usleep(100000);
    }
    INFO(report);
    CHECK(countOf(report, "pending_proposal") == 1);  // the old case's document, once
    CHECK(server.stop() == 0);
    // Proposed, not erased: the due document still opens.
    std::smatch id;
    REQUIRE(std::regex_search(old.output, id, std::regex("\"document_id\" ?: ?\"([^\"]+)\"")));
    CHECK(kd("document get " + id[1].str() + " --tenant gops -o " + quote(dir + "/old.pdf")).exitCode == 0);
    CHECK(readFile(dir + "/old.pdf").rfind("%PDF", 0) == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("serve creates a first administrator once and listens on HTTPS with TLS 1.2 or newer", "[server][https]") {
    const auto dir = scratchDir("serve-https");
    const auto made = runCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + quote(dir + "/key.pem") +
                                 " -out " + quote(dir + "/cert.pem") + " -days 2 -subj /CN=localhost" +
                                 " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>&1");
    INFO(made.output);
    REQUIRE(made.exitCode == 0);
    writeFile(dir + "/kooperdoc.properties", "kooperdoc.https.port = 0\nkooperdoc.https.certificate = " + dir +
                                                 "/cert.pem\nkooperdoc.https.private_key = " + dir +
                                                 "/key.pem\nkooperdoc.retention.sweep_interval = 0\n"
                                                 "kooperdoc.signing.identity.dir = " + dir + "/identity\n");
    const std::vector<std::string> args{"--config", dir + "/kooperdoc.properties", "--data-dir", dir + "/data"};
    std::string password;
    {
        ServerProcess server(args);
        std::smatch m;
        const auto banner = server.banner();
        INFO(banner);
        REQUIRE(std::regex_search(banner, m, std::regex("first administrator \"admin\" \\(tenant default\\), one-time password: (\\S+)")));
        password = m[1];
        const auto line = server.readLine();
        REQUIRE(std::regex_search(line, m, std::regex("listening on (https://127\\.0\\.0\\.1:[0-9]+)")));
        const std::string https = m[1];
        const auto curl = "curl -s --cacert " + quote(dir + "/cert.pem") + " ";
        CHECK(runCommand(curl + quote(https + "/healthz")).output == "{\"status\":\"ok\"}");
        // TLS 1.1 and older are refused.
        CHECK(runCommand("curl -s -k --tls-max 1.1 " + quote(https + "/healthz")).exitCode != 0);
        // The printed password logs the administrator in over HTTPS; the session cookie is Secure.
        const auto jar = quote(dir + "/cookies");
        REQUIRE(runCommand(curl + "-c " + jar + " -o /dev/null " + quote(https + "/logowanie")).exitCode == 0);
        const auto jarText = readFile(dir + "/cookies");
        REQUIRE(std::regex_search(jarText, m, std::regex("kd_login\\s+(\\S+)")));
        const auto login = runCommand(curl + "-i -b " + jar + " --data-urlencode login=admin --data-urlencode " +
                                      quote("password=" + password) + " --data-urlencode " + quote("login_csrf=" + std::string(m[1])) + " " +
                                      quote(https + "/logowanie"));
        INFO(login.output);
        CHECK(login.output.find("HTTP/1.1 303") == 0);
        CHECK(login.output.find("Location: /haslo") != std::string::npos);
        CHECK(std::regex_search(login.output, std::regex("Set-Cookie: kd_session=[^;]+;[^\\r\\n]*secure", std::regex::icase)));
        CHECK(server.stop() == 0);
    }
    // Once someone exists, a restart creates nobody and prints no password.
    ServerProcess again(args);
    CHECK(again.banner().find("one-time password") == std::string::npos);
    CHECK(again.banner().find(password) == std::string::npos);
}
