// SPDX-License-Identifier: AGPL-3.0-or-later
// Issue 5: "kill -9 a writer loop, restart, check every acknowledged id". CrashWriter stores
// documents in a loop and prints each id only after store() returned; we kill it with SIGKILL
// at random moments, several times over the same store, then open the store as a restarted
// service would and check that every acknowledged document reads back intact.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "TempDir.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/storage/DocumentStore.h"

using namespace kooperdoc::storage;
namespace fs = std::filesystem;

namespace {

constexpr const char* kMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Starts the writer, lets it run for \p runFor, kills it with SIGKILL and returns every
/// complete line it printed (a line cut by the kill was never acknowledged).
std::vector<std::string> runAndKill(const std::string& dataDir, std::chrono::milliseconds runFor) {
    int pipeFds[2];
    REQUIRE(::pipe(pipeFds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::dup2(pipeFds[1], STDOUT_FILENO);
        ::close(pipeFds[0]);
        ::close(pipeFds[1]);
        ::setenv("KOOPERDOC_MASTER_KEY", kMasterKey, 1);
        ::execl(KOOPERDOC_CRASH_WRITER, KOOPERDOC_CRASH_WRITER, dataDir.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(pipeFds[1]);
    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + runFor;
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd readable{pipeFds[0], POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (::poll(&readable, 1, static_cast<int>(std::max<long long>(1, left.count()))) > 0) {
            const auto n = ::read(pipeFds[0], buffer, sizeof buffer);
            if (n <= 0) break;
            output.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::kill(child, SIGKILL);
    for (ssize_t n; (n = ::read(pipeFds[0], buffer, sizeof buffer)) > 0;) output.append(buffer, static_cast<std::size_t>(n));
    ::close(pipeFds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    INFO("the writer must die by the signal, not fail on its own");
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));

    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t end; (end = output.find('\n', start)) != std::string::npos; start = end + 1) {
        lines.push_back(output.substr(start, end - start));
    }
    return lines;
}

std::size_t partialFiles(const std::string& dir) {
    std::size_t count = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (name.size() > 8 && name.compare(name.size() - 8, 8, ".partial") == 0) ++count;
    }
    return count;
}

}  // namespace

TEST_CASE("crash: every document acknowledged before kill -9 is there and intact after restart") {
    kooperdoc::testing::TempDir dir("kooperdoc-crash");
    std::mt19937 random(std::random_device{}());
    std::map<std::string, std::string> acknowledged;  // id → SHA-256
    for (int cycle = 0; cycle < 6; ++cycle) {
        const auto runFor = std::chrono::milliseconds(300 + random() % 900);
        for (const auto& line : runAndKill(dir.path(), runFor)) {
            std::istringstream fields(line);
            std::string id, digest;
            fields >> id >> digest;
            REQUIRE(digest.size() == 64);
            acknowledged[id] = digest;
        }
    }
    INFO(acknowledged.size() << " documents acknowledged over 6 kills");
    REQUIRE(acknowledged.size() >= 6);

    // The restart: opening the store removes half-written temporaries.
    DocumentStore store(openRepository(DatabaseConfig::parse("sqlite:" + dir.file("kooperdoc.db"))), BlobStore(dir.file("blobs")),
                        MasterKey::fromBase64(kMasterKey));
    CHECK(partialFiles(dir.file("blobs")) == 0);
    for (const auto& [id, digest] : acknowledged) {
        INFO(id);
        CHECK(kooperdoc::sha256Hex(store.read("crash", id)) == digest);
    }

    // The sweep removes unnamed blobs (a kill between blob and COMMIT, and one planted here),
    // and nothing any row names.
    const std::string planted = randomId();
    store.blobs().put(planted, "ciphertext nobody names");
    const auto referenced = store.repository().referencedBlobs();
    const std::set<std::string> named(referenced.begin(), referenced.end());
    std::size_t unnamed = 0;
    for (const auto& id : store.blobs().list()) unnamed += named.count(id) == 0 ? 1 : 0;
    CHECK(store.sweepOrphanBlobs(std::chrono::seconds(0)) == unnamed);
    CHECK_FALSE(store.blobs().exists(planted));
    for (const auto& id : named) CHECK(store.blobs().exists(id));
    for (const auto& [id, digest] : acknowledged) CHECK(kooperdoc::sha256Hex(store.read("crash", id)) == digest);
}
