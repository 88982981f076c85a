// SPDX-License-Identifier: AGPL-3.0-or-later
// The service's periodic checkpoint and the TSA the audit log is given: a quiet log is pinned,
// a TSA outage leaves checkpoints without a token that a later run fills in, and a TSA that
// never answers costs a bounded wait, not a hung command.
#include <catch2/catch.hpp>

#include <Poco/AutoPtr.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Util/MapConfiguration.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "CheckpointJob.h"
#include "ErrorReason.h"
#include "TempDir.h"
#include "kooperdoc/server/StorageSetup.h"
#include "kooperdoc/signing/DevIdentity.h"
#include "kooperdoc/signing/Timestamp.h"

using namespace kooperdoc;
using kooperdoc::testing::reasonOf;
using kooperdoc::testing::TempDir;

namespace {

const std::string kOrigin = "kooperdoc.test/audit";

audit::CheckpointSigner auditSigner() {
    static const std::string pem = audit::CheckpointSigner::generatePem();
    return audit::CheckpointSigner::fromPem(kOrigin, pem);
}

audit::AuditEvent event(int n) {
    audit::AuditEvent e;
    e.time = 1767225600 + n;
    e.tenantId = "ops-a";
    e.actorId = "system";
    e.actorRole = "system";
    e.type = "retention.proposed";
    e.details["proposal"] = "p-" + std::to_string(n);
    return e;
}

/// Throws while down, like a TSA that cannot be reached.
struct FlakyTsa {
    std::atomic<bool> down{false};
    audit::CheckpointTimestamper timestamper() {
        return [this](const Sha256& imprint) -> std::string {
            if (down) throw Error(ErrorCode::kUnavailable, "timestamp.unavailable", "connection refused");
            return "tst:" + toHex(imprint);
        };
    }
};

Poco::AutoPtr<Poco::Util::MapConfiguration> configuration(std::initializer_list<std::pair<std::string, std::string>> values) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    for (const auto& [key, value] : values) config->setString(key, value);
    return config;
}

}  // namespace

TEST_CASE("the checkpoint job pins a grown log and adds the tokens a TSA outage left out", "[server][audit]") {
    audit::MemoryAuditStore store;
    FlakyTsa tsa;
    audit::AuditLog log(store, auditSigner(), 1000, tsa.timestamper());
    std::ostringstream out;
    server::CheckpointJob job(log, std::chrono::seconds(300), out);

    CHECK_FALSE(job.runOnce().signedSize);  // an empty log that never had a checkpoint: nothing to pin
    for (int i = 0; i < 3; ++i) log.record(event(i));
    tsa.down = true;
    auto run = job.runOnce();
    CHECK(run.signedSize == 3u);
    REQUIRE(store.newestCheckpoint());
    CHECK(store.newestCheckpoint()->timestampToken.empty());  // stored all the same
    CHECK(run.timestamps.missing == 1);
    CHECK(run.timestamps.failure.find("connection refused") != std::string::npos);
    CHECK(out.str().find("1 checkpoint(s) without a token") != std::string::npos);

    // Not grown: nothing is signed; the TSA is still down.
    run = job.runOnce();
    CHECK_FALSE(run.signedSize);
    CHECK(store.storedCheckpoints().size() == 1);

    for (int i = 3; i < 5; ++i) log.record(event(i));
    tsa.down = false;
    run = job.runOnce();
    CHECK(run.signedSize == 5u);
    CHECK(run.timestamps.added == 1);  // the size-3 checkpoint's late token
    CHECK(run.timestamps.missing == 0);
    const auto stored = store.storedCheckpoints();
    REQUIRE(stored.size() == 2);
    for (const auto& c : stored) CHECK(c.timestampToken == "tst:" + toHex(sha256(c.note)));
    CHECK(audit::verifyLog(store, kOrigin, auditSigner().publicKeyPem()).ok);

    run = job.runOnce();
    CHECK_FALSE(run.signedSize);
    CHECK(run.timestamps.added == 0);
}

TEST_CASE("the checkpoint job runs at start and stops promptly", "[server][audit]") {
    audit::MemoryAuditStore store;
    audit::AuditLog log(store, auditSigner(), 1000);
    log.record(event(1));
    std::ostringstream out;
    server::CheckpointJob job(log, std::chrono::seconds(3600), out);
    job.start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!store.newestCheckpoint() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(store.newestCheckpoint());
    const auto stopping = std::chrono::steady_clock::now();
    job.stop();  // wakes the hour-long wait
    CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(5));
    job.stop();
}

TEST_CASE("the audit log's TSA: the configured one, the existing development one, or none", "[server][audit]") {
    TempDir dir("kooperdoc-audit-tsa");
    const auto identity = dir.file("identity");
    const auto imprint = sha256("a signed note");

    SECTION("no TSA configured and no development identity: no timestamps, and none is created") {
        const auto setup = server::loadStorageSetup(*configuration({{"kooperdoc.signing.identity.dir", identity}}), {});
        CHECK_FALSE(server::auditTimestamper(setup, std::chrono::seconds(1)));
        CHECK_FALSE(std::filesystem::exists(identity));
    }
    SECTION("the development identity's TSA once it exists") {
        signing::writeDevelopmentIdentity(identity, static_cast<std::int64_t>(std::time(nullptr)) - 300);
        const auto setup = server::loadStorageSetup(*configuration({{"kooperdoc.signing.identity.dir", identity}}), {});
        const auto timestamper = server::auditTimestamper(setup, std::chrono::seconds(1));
        REQUIRE(timestamper);
        CHECK(signing::inspectTimestampToken(timestamper(imprint)).imprint == imprint);
        // A configured seal is not development: its identity directory is not a TSA.
        const auto sealed = server::loadStorageSetup(
            *configuration({{"kooperdoc.signing.identity.dir", identity}, {"kooperdoc.signing.identity.p12", dir.file("seal.p12")}}), {});
        CHECK_FALSE(server::auditTimestamper(sealed, std::chrono::seconds(1)));
    }
    SECTION("a configured embedded TSA; a missing file is a configuration error") {
        signing::writeDevelopmentIdentity(identity, static_cast<std::int64_t>(std::time(nullptr)) - 300);
        auto setup = server::loadStorageSetup(*configuration({{"kooperdoc.signing.tsa.certificate", identity + "/tsa.pem"},
                                                              {"kooperdoc.signing.tsa.key", identity + "/tsa.key.pem"}}),
                                              {});
        CHECK(signing::inspectTimestampToken(server::auditTimestamper(setup, std::chrono::seconds(1))(imprint)).imprint == imprint);
        setup.auditTsa.keyFile = dir.file("missing.pem");
        CHECK(reasonOf([&] { server::auditTimestamper(setup, std::chrono::seconds(1)); }) == "file.unreadable");
    }
    SECTION("a remote TSA that accepts the connection and never answers costs the timeout, no more") {
        Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
        std::atomic<bool> done{false};
        std::thread acceptor([&] {
            // Accepts and holds the connection open without a byte of answer.
            Poco::Net::StreamSocket held;
            if (silent.poll(Poco::Timespan(5, 0), Poco::Net::Socket::SELECT_READ)) held = silent.acceptConnection();
            while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        });
        const auto url = "http://127.0.0.1:" + std::to_string(silent.address().port()) + "/tsa";
        const auto setup = server::loadStorageSetup(*configuration({{"kooperdoc.signing.tsa.url", url}}), {});
        const auto timestamper = server::auditTimestamper(setup, std::chrono::milliseconds(500));
        REQUIRE(timestamper);
        const auto started = std::chrono::steady_clock::now();
        CHECK(reasonOf([&] { timestamper(imprint); }) == "timestamp.unavailable");
        const auto waited = std::chrono::steady_clock::now() - started;
        done = true;
        acceptor.join();
        CHECK(waited >= std::chrono::milliseconds(400));
        CHECK(waited < std::chrono::seconds(5));

        // And an AuditLog with it still appends and stores the checkpoint, without a token.
        audit::MemoryAuditStore store;
        audit::AuditLog log(store, auditSigner(), 1, server::auditTimestamper(setup, std::chrono::milliseconds(200)));
        CHECK(log.record(event(1)) == 0);
        REQUIRE(store.newestCheckpoint());
        CHECK(store.newestCheckpoint()->timestampToken.empty());
    }
}

TEST_CASE("kooperdoc.audit.checkpoint_interval: seconds, 300 by default, 0 switches the job off", "[server][audit]") {
    CHECK(server::loadStorageSetup(*configuration({}), {}).auditCheckpointInterval == 300);
    CHECK(server::loadStorageSetup(*configuration({{"kooperdoc.audit.checkpoint_interval", "0"}}), {}).auditCheckpointInterval == 0);
    CHECK(server::loadStorageSetup(*configuration({{"kooperdoc.audit.checkpoint_interval", "60"}}), {}).auditCheckpointInterval == 60);
    for (const char* bad : {"-1", "5m", "soon"}) {
        INFO(bad);
        CHECK(reasonOf([&] { server::loadStorageSetup(*configuration({{"kooperdoc.audit.checkpoint_interval", bad}}), {}); }) ==
              "audit.config_invalid");
    }
}
