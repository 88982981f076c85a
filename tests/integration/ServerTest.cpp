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
    CHECK(runCommand("curl -s -o /dev/null -w '%{http_code}' -X POST " + quote(server.url() + "/healthz")).output == "400");

    CHECK(server.stop() == 0);
}
