// SPDX-License-Identifier: AGPL-3.0-or-later
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "TempDir.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/BlobStore.h"
#include "kooperdoc/storage/Keys.h"

using namespace kooperdoc;
using namespace kooperdoc::storage;
using kooperdoc::testing::TempDir;

TEST_CASE("blobs are written whole, read back, listed and removed", "[storage][blobs]") {
    TempDir dir("kooperdoc-blobs");
    BlobStore store(dir.file("blobs"));
    const std::string id = randomId();
    const std::string bytes(300000, '\x7f');
    store.put(id, bytes);
    CHECK(store.exists(id));
    CHECK(store.get(id) == bytes);
    CHECK(store.list() == std::vector<std::string>{id});
    struct stat info {};
    REQUIRE(::stat((dir.file("blobs") + "/" + id.substr(0, 2) + "/" + id).c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    store.remove(id);
    CHECK_FALSE(store.exists(id));
    store.remove(id);  // removing twice is fine: erasure may be retried
    try {
        store.get(id);
        FAIL("a missing blob was read");
    } catch (const Error& e) {
        CHECK(e.reason() == "storage.blob_missing");
    }
}

TEST_CASE("blob ids are hex only, so no id can name a path outside the store", "[storage][blobs]") {
    TempDir dir("kooperdoc-blobs");
    BlobStore store(dir.file("blobs"));
    for (const std::string bad : {"../../etc/passwd", "ABCDEF0123456789", "short", "0123456789abcdef/..", ""}) {
        try {
            store.put(bad, "x");
            FAIL("accepted " << bad);
        } catch (const Error& e) {
            CHECK(e.reason() == "storage.blob_id");
        }
    }
}

TEST_CASE("a crash's partial files are never listed and are removed at start-up", "[storage][blobs]") {
    TempDir dir("kooperdoc-blobs");
    BlobStore store(dir.file("blobs"));
    const std::string id = randomId();
    store.put(id, "complete");
    const std::string partial = dir.file("blobs") + "/" + id.substr(0, 2) + "/" + randomId() + ".1234abcd.partial";
    std::ofstream(partial) << "half";
    CHECK(store.list() == std::vector<std::string>{id});
    CHECK(store.removeLeftovers() == 1);
    CHECK_FALSE(std::filesystem::exists(partial));
    CHECK(store.get(id) == "complete");
}

TEST_CASE("a write that cannot complete leaves nothing behind and says storage.io", "[storage][blobs]") {
    TempDir dir("kooperdoc-blobs");
    BlobStore store(dir.file("blobs"));
    const std::string id = randomId();
    // A file-size limit makes write() fail with EFBIG, as a full disk fails with ENOSPC.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        struct rlimit limit {1024, 1024};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        ::signal(SIGXFSZ, SIG_IGN);
        try {
            store.put(id, std::string(100000, 'x'));
            ::_exit(1);
        } catch (const Error& e) {
            ::_exit(e.reason() == "storage.io" ? 0 : 2);
        }
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_FALSE(store.exists(id));
    CHECK(store.list().empty());
    CHECK(store.removeLeftovers() == 0);  // the failed write cleaned up after itself
}
