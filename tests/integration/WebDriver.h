// SPDX-License-Identifier: AGPL-3.0-or-later
// A small W3C WebDriver client for Debian's chromedriver driving Debian's headless Chromium: the
// browser tests of the web UI need nothing downloaded. Elements are found by CSS selector;
// screenshots are saved as PNG test artefacts.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

namespace kooperdoc::testing {

class WebDriver {
public:
    /// Starts chromedriver on a free port and one headless Chromium session that saves downloads
    /// into \p downloadDir.
    explicit WebDriver(const std::string& downloadDir) {
        {
            Poco::Net::ServerSocket probe(0);
            port_ = probe.address().port();
        }
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            const std::string portArg = "--port=" + std::to_string(port_);
            execlp("chromedriver", "chromedriver", portArg.c_str(), "--log-level=SEVERE", static_cast<char*>(nullptr));
            _exit(127);
        }
        bool ready = false;
        for (int i = 0; i < 100 && !ready; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            try {
                ready = call("GET", "/status", nullptr)->getObject("value")->getValue<bool>("ready");
            } catch (...) {
            }
        }
        REQUIRE(ready);
        Poco::JSON::Parser parser;
        auto capabilities = parser.parse(R"({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium",
              "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                       "--lang=pl-PL", "--no-first-run", "--disable-extensions"],
              "prefs": {"download.prompt_for_download": false, "download.directory_upgrade": true}}}}})")
                                .extract<Poco::JSON::Object::Ptr>();
        capabilities->getObject("capabilities")->getObject("alwaysMatch")->getObject("goog:chromeOptions")->getObject("prefs")->set(
            "download.default_directory", downloadDir);
        const auto created = call("POST", "/session", capabilities);
        INFO(stringify(created));
        session_ = created->getObject("value")->getValue<std::string>("sessionId");
        Poco::JSON::Object::Ptr params = new Poco::JSON::Object;
        params->set("behavior", "allow");
        params->set("downloadPath", downloadDir);
        Poco::JSON::Object::Ptr command = new Poco::JSON::Object;
        command->set("cmd", "Browser.setDownloadBehavior");
        command->set("params", params);
        call("POST", "/session/" + session_ + "/goog/cdp/execute", command);
    }

    ~WebDriver() {
        try {
            if (!session_.empty()) call("DELETE", "/session/" + session_, nullptr);
        } catch (...) {
        }
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
    }

    void go(const std::string& url) { command("POST", "/url", object("url", url)); }
    std::string url() { return command("GET", "/url", nullptr)->getValue<std::string>("value"); }
    std::string title() { return command("GET", "/title", nullptr)->getValue<std::string>("value"); }
    std::string source() { return command("GET", "/source", nullptr)->getValue<std::string>("value"); }

    /// The element's id; fails the test when there is none.
    std::string find(const std::string& css) {
        Poco::JSON::Object::Ptr by = new Poco::JSON::Object;
        by->set("using", "css selector");
        by->set("value", css);
        const auto answer = command("POST", "/element", by);
        INFO("find " << css << ": " << stringify(answer));
        REQUIRE(answer->isObject("value"));
        const auto value = answer->getObject("value");
        REQUIRE(value->has(kElement));
        return value->getValue<std::string>(kElement);
    }
    int count(const std::string& css) {
        Poco::JSON::Object::Ptr by = new Poco::JSON::Object;
        by->set("using", "css selector");
        by->set("value", css);
        return static_cast<int>(command("POST", "/elements", by)->getArray("value")->size());
    }
    void type(const std::string& css, const std::string& text) {
        command("POST", "/element/" + find(css) + "/value", object("text", text));
    }
    void click(const std::string& css) { command("POST", "/element/" + find(css) + "/click", new Poco::JSON::Object); }
    /// Clicks what leads to another page (a link, a form's button) and waits until that page has
    /// loaded: a click may return while the old page is still shown.
    void follow(const std::string& css) {
        script("window.kooperdocOldPage = true; return ''");
        click(css);
        for (int i = 0; i < 300; ++i) {
            if (script("return String(window.kooperdocOldPage !== true && document.readyState === 'complete')") == "true") return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("no new page after clicking " << css);
    }
    std::string text(const std::string& css) {
        return command("GET", "/element/" + find(css) + "/text", nullptr)->getValue<std::string>("value");
    }
    /// Presses keys on the focused element (WebDriver key codes, e.g. "\uE004" Tab, "\uE007" Enter).
    void keys(const std::string& keys) {
        Poco::JSON::Array::Ptr actions = new Poco::JSON::Array;
        for (std::size_t i = 0; i < keys.size();) {
            // one UTF-8 code point per key
            std::size_t length = 1;
            const auto c = static_cast<unsigned char>(keys[i]);
            if (c >= 0xF0) length = 4; else if (c >= 0xE0) length = 3; else if (c >= 0xC0) length = 2;
            const auto key = keys.substr(i, length);
            i += length;
            for (const char* type : {"keyDown", "keyUp"}) {
                Poco::JSON::Object::Ptr action = new Poco::JSON::Object;
                action->set("type", type);
                action->set("value", key);
                actions->add(action);
            }
        }
        Poco::JSON::Object::Ptr source = new Poco::JSON::Object;
        source->set("type", "key");
        source->set("id", "keyboard");
        source->set("actions", actions);
        Poco::JSON::Array::Ptr sources = new Poco::JSON::Array;
        sources->add(source);
        command("POST", "/actions", object("actions", sources));
    }
    /// Runs \p script in the page (as WebDriver does: the page's CSP does not apply) and returns
    /// its result as a string.
    std::string script(const std::string& script) {
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
        body->set("script", script);
        body->set("args", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
        const auto value = command("POST", "/execute/sync", body)->get("value");
        return value.isEmpty() ? std::string() : value.convert<std::string>();
    }
    /// Saves a PNG of the viewport as \p path.
    void screenshot(const std::string& path) {
        const auto base64 = command("GET", "/screenshot", nullptr)->getValue<std::string>("value");
        std::istringstream in(base64);
        Poco::Base64Decoder decoder(in);
        std::string png;
        Poco::StreamCopier::copyToString(decoder, png);
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        std::ofstream(path, std::ios::binary) << png;
        CHECK(png.rfind("\x89PNG", 0) == 0);
    }

private:
    static constexpr const char* kElement = "element-6066-11e4-a52e-4f735466cecf";
    pid_t pid_ = -1;
    Poco::UInt16 port_ = 0;
    std::string session_;

    template <typename V>
    static Poco::JSON::Object::Ptr object(const std::string& name, const V& value) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        o->set(name, value);
        return o;
    }
    static std::string stringify(const Poco::JSON::Object::Ptr& o) {
        std::ostringstream out;
        o->stringify(out);
        return out.str();
    }

    Poco::JSON::Object::Ptr command(const std::string& method, const std::string& path, const Poco::JSON::Object::Ptr& body) {
        const auto answer = call(method, "/session/" + session_ + path, body);
        if (answer->isObject("value") && answer->getObject("value")->has("error")) {
            FAIL("WebDriver " << method << " " << path << ": " << stringify(answer));
        }
        return answer;
    }

    Poco::JSON::Object::Ptr call(const std::string& method, const std::string& path, const Poco::JSON::Object::Ptr& body) {
        Poco::Net::HTTPClientSession session("127.0.0.1", port_);
        session.setTimeout(Poco::Timespan(120, 0));
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        std::string text;
        if (body) {
            text = stringify(body);
            request.setContentType("application/json; charset=utf-8");
            request.setContentLength(static_cast<std::streamsize>(text.size()));
        }
        session.sendRequest(request) << text;
        Poco::Net::HTTPResponse response;
        std::string reply;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), reply);
        Poco::JSON::Parser parser;
        return parser.parse(reply).extract<Poco::JSON::Object::Ptr>();
    }
};

}  // namespace kooperdoc::testing
