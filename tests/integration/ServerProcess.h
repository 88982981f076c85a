// SPDX-License-Identifier: AGPL-3.0-or-later
// The real `kooperdoc serve` on an ephemeral port, for tests that talk to it over HTTP.
#pragma once

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <regex>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace kooperdoc::testing {

class ServerProcess {
public:
    /// \param extraArgs more arguments for `serve`, e.g. "--config", FILE.
    explicit ServerProcess(std::vector<std::string> extraArgs = {}) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            std::vector<std::string> args{KOOPERDOC_CLI, "serve", "--port=0"};
            args.insert(args.end(), extraArgs.begin(), extraArgs.end());
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(KOOPERDOC_CLI, argv.data());
            _exit(127);
        }
        close(fds[1]);
        out_ = fdopen(fds[0], "r");
        // What serve prints before it listens (a first administrator's one-time password) is kept.
        char line[512] = {};
        std::smatch m;
        for (;;) {
            REQUIRE(fgets(line, sizeof line, out_) != nullptr);
            const std::string text = line;
            if (std::regex_search(text, m, std::regex("listening on (https?://[0-9.]+:[0-9]+)"))) break;
            banner_ += text;
        }
        url_ = m[1];
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_ != nullptr) fclose(out_);
    }
    const std::string& url() const { return url_; }
    /// The lines serve printed before "listening on".
    const std::string& banner() const { return banner_; }
    /// The next line serve prints on stdout ("" at its end).
    std::string readLine() {
        char line[512] = {};
        return fgets(line, sizeof line, out_) != nullptr ? std::string(line) : std::string();
    }
    int stop() {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
    std::string url_;
    std::string banner_;
};

}  // namespace kooperdoc::testing
