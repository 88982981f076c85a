// SPDX-License-Identifier: AGPL-3.0-or-later
// Test-only: stores documents in a loop until it is killed. Prints "ID SHA256" for a document
// only after store() has returned, flushed at once: a printed line is an acknowledgement, and
// CrashTest.cpp kills this process with SIGKILL at a random moment and then checks every
// acknowledged document is there and intact.
//
// usage: crash_writer DATA_DIR   (master key in $KOOPERDOC_MASTER_KEY)
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/storage/DocumentStore.h"

using namespace kooperdoc::storage;

int main(int argc, char** argv) {
    if (argc != 2 || std::getenv("KOOPERDOC_MASTER_KEY") == nullptr) {
        std::fprintf(stderr, "usage: KOOPERDOC_MASTER_KEY=… crash_writer DATA_DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    try {
        DocumentStore store(openRepository(DatabaseConfig::parse("sqlite:" + dir + "/kooperdoc.db")), BlobStore(dir + "/blobs"),
                            MasterKey::fromBase64(std::getenv("KOOPERDOC_MASTER_KEY")));
        store.putTenant("crash", "{}", 0);
        std::mt19937_64 random(std::random_device{}());
        for (int n = 0;; ++n) {
            StoreRequest request;
            request.tenantId = "crash";
            request.documentId = "KD-CRASH-" + randomId();
            request.number = request.documentId;
            request.templateId = "m1-oswiadczenie-zgoda";
            request.templateVersion = "1";
            request.retentionClass = "consent";
            request.legalBasis = "consent";
            request.subjects = {{"", "Osoba Testowa " + std::to_string(random() % 50), "adults"}};
            // Sizes up to ~200 kB, so a kill often lands inside a blob's write.
            request.pdf = "%PDF-1.7\n" + std::string(static_cast<std::size_t>(random() % 200000), static_cast<char>('a' + n % 26)) +
                          randomId();
            request.now = n;
            const auto result = store.store(request);
            std::printf("%s %s\n", result.documentId.c_str(), kooperdoc::sha256Hex(request.pdf).c_str());
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "crash_writer: %s\n", e.what());
        return 1;
    }
}
