// SPDX-License-Identifier: AGPL-3.0-or-later
// Webhooks (issue 7, point 4) against a real HTTP receiver on a local port: signatures that hold
// only for their secret, body and time; retries on an injected clock (no real back-off sleeps);
// a receiver that is down or gone; rows that outlive the dispatcher; and an audit log that never
// fails because of its observer.
#include <catch2/catch.hpp>

#include <Poco/AutoPtr.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Util/MapConfiguration.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ErrorReason.h"
#include "Process.h"
#include "TempDir.h"
#include "Webhooks.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/storage/Keys.h"

using namespace kooperdoc;
using kooperdoc::testing::reasonOf;
using kooperdoc::testing::TempDir;

namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

struct Received {
    std::string body, signature, event, delivery, contentType;
};

/// A source system's endpoint: answers the scripted statuses in turn (the last one repeats).
class Receiver {
public:
    explicit Receiver(std::vector<int> statuses)
        : Receiver(std::move(statuses), Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)), "http") {}
    /// \p socket: a SecureServerSocket for an https:// receiver.
    Receiver(std::vector<int> statuses, const Poco::Net::ServerSocket& socket, std::string scheme)
        : state_(std::make_shared<State>()), socket_(socket), scheme_(std::move(scheme)),
          server_(new Factory(state_), socket_, new Poco::Net::HTTPServerParams) {
        state_->statuses = std::move(statuses);
        server_.start();
    }
    ~Receiver() { server_.stop(); }

    std::string url() const {
        return scheme_ + "://127.0.0.1:" + std::to_string(socket_.address().port()) + "/hooks/kooperdoc";
    }
    std::vector<Received> received() const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        return state_->received;
    }

private:
    struct State {
        std::mutex mutex;
        std::vector<int> statuses;
        std::vector<Received> received;
    };
    class Handler : public Poco::Net::HTTPRequestHandler {
    public:
        explicit Handler(std::shared_ptr<State> state) : state_(std::move(state)) {}
        void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
            Received r;
            Poco::StreamCopier::copyToString(request.stream(), r.body);
            r.signature = request.get("Kooperdoc-Signature", "");
            r.event = request.get("Kooperdoc-Event", "");
            r.delivery = request.get("Kooperdoc-Delivery", "");
            r.contentType = request.getContentType();
            int status = 200;
            {
                std::lock_guard<std::mutex> lock(state_->mutex);
                const std::size_t n = state_->received.size();
                if (!state_->statuses.empty()) status = state_->statuses[std::min(n, state_->statuses.size() - 1)];
                state_->received.push_back(std::move(r));
            }
            response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
            response.setContentLength(0);
            response.send();
        }

    private:
        std::shared_ptr<State> state_;
    };
    class Factory : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit Factory(std::shared_ptr<State> state) : state_(std::move(state)) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
            return new Handler(state_);
        }

    private:
        std::shared_ptr<State> state_;
    };

    std::shared_ptr<State> state_;
    Poco::Net::ServerSocket socket_;
    std::string scheme_;
    Poco::Net::HTTPServer server_;
};

/// A URL where nothing listens: the port was free a moment ago and is closed now.
std::string deadUrl() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    const auto port = socket.address().port();
    socket.close();
    return "http://127.0.0.1:" + std::to_string(port) + "/hooks";
}

/// A store in a SQLite file that a second DocumentStore (a restarted service) can open again.
struct StoreFiles {
    TempDir dir{"kooperdoc-webhooks"};
    storage::MasterKey key = storage::MasterKey::fromBase64(storage::MasterKey::generateBase64());

    std::unique_ptr<storage::DocumentStore> open() {
        return std::make_unique<storage::DocumentStore>(
            storage::openRepository(storage::DatabaseConfig::parse("sqlite:" + dir.file("kooperdoc.db"))),
            storage::BlobStore(dir.file("blobs")), key);
    }
};

server::WebhookSettings testSettings() {
    server::WebhookSettings settings;
    settings.allowHttp = true;
    settings.timeout = std::chrono::seconds(3);
    return settings;
}

/// The clock the dispatcher reads; the tests move it instead of sleeping through the back-off.
struct TestClock {
    std::atomic<std::int64_t> now{kNow};
    server::WebhookDispatcher::Clock clock() {
        return [this] { return now.load(); };
    }
};

/// No jitter drawn: every delay is exactly the schedule's.
const server::WebhookDispatcher::Random kMiddle = [] { return 0.5; };

const std::map<std::string, std::string> kSealed = {{"document", "doc-1"}, {"document_sha256", sha256Hex("pdf")}};

audit::CheckpointSigner auditSigner() {
    static const std::string pem = audit::CheckpointSigner::generatePem();
    return audit::CheckpointSigner::fromPem("kooperdoc.test/audit", pem);
}

}  // namespace

TEST_CASE("HMAC-SHA256 answers RFC 4231's test case 2", "[server][webhooks]") {
    CHECK(server::hmacSha256Hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(server::signWebhookBody("Jefe", 12, "x") == "t=12,v1=" + server::hmacSha256Hex("Jefe", "12.x"));
}

TEST_CASE("a delivery is signed over its time and body, and verifies only with its secret", "[server][webhooks]") {
    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    TestClock clock;
    server::WebhookDispatcher dispatcher(*store, testSettings(), clock.clock(), kMiddle);
    Receiver receiver({200});
    const auto created = dispatcher.createWebhook("ops-a", receiver.url(), {"document.sealed"});
    CHECK(created.secret.rfind("whsec_", 0) == 0);
    CHECK(created.secret.size() == 6 + 64);

    CHECK(dispatcher.enqueue("ops-a", "document.signed", kSealed) == 0);  // not subscribed
    REQUIRE(dispatcher.enqueue("ops-a", "document.sealed", kSealed) == 1);
    const auto run = dispatcher.deliverDue();
    CHECK(run.claimed == 1);
    CHECK(run.delivered == 1);

    const auto got = receiver.received();
    REQUIRE(got.size() == 1);
    const auto& r = got[0];
    CHECK(r.event == "document.sealed");
    CHECK(r.contentType == "application/json");
    CHECK(r.delivery.rfind("whd_", 0) == 0);
    CHECK(r.signature.rfind("t=" + std::to_string(kNow) + ",v1=", 0) == 0);

    std::string why;
    CHECK(server::verifyWebhookSignature(created.secret, r.signature, r.body, kNow, 300, &why));
    CHECK_FALSE(server::verifyWebhookSignature("whsec_another", r.signature, r.body, kNow, 300, &why));
    CHECK(why == "no signature matches");
    std::string changed = r.body;
    changed.replace(changed.find("doc-1"), 5, "doc-2");
    CHECK_FALSE(server::verifyWebhookSignature(created.secret, r.signature, changed, kNow));
    CHECK_FALSE(server::verifyWebhookSignature(created.secret, r.signature, r.body, kNow + 301, 300, &why));
    CHECK(why.find("tolerance") != std::string::npos);
    CHECK_FALSE(server::verifyWebhookSignature(created.secret, r.signature, r.body, kNow - 301));  // from the future
    CHECK(server::verifyWebhookSignature(created.secret, r.signature, r.body, kNow + 299));
    CHECK_FALSE(server::verifyWebhookSignature(created.secret, "v1=" + server::hmacSha256Hex(created.secret, r.body), r.body, kNow));
    CHECK_FALSE(server::verifyWebhookSignature(created.secret, "", r.body, kNow));

    // The body: identifiers and hashes only, in the documented shape.
    const auto body = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
    CHECK(body->getValue<std::string>("id").rfind("evt_", 0) == 0);
    CHECK(body->getValue<std::string>("type") == "document.sealed");
    CHECK(body->getValue<std::int64_t>("created") == kNow);
    CHECK(body->getValue<std::string>("tenant") == "ops-a");
    const auto data = body->getObject("data");
    CHECK(data->getValue<std::string>("document") == "doc-1");
    CHECK(data->getValue<std::string>("document_sha256") == sha256Hex("pdf"));

    const auto log = dispatcher.deliveries("ops-a");
    REQUIRE(log.size() == 1);
    CHECK(log[0].id == r.delivery);
    CHECK(log[0].status == "delivered");
    CHECK(log[0].attempts == 1);
    CHECK(log[0].lastStatusCode == 200);
    CHECK(log[0].deliveredAt == kNow);
    CHECK(log[0].payload == r.body);
}

TEST_CASE("a receiver answering 500 twice gets the delivery on the third attempt, after the back-off", "[server][webhooks]") {
    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    TestClock clock;
    server::WebhookDispatcher dispatcher(*store, testSettings(), clock.clock(), kMiddle);
    Receiver receiver({500, 500, 204});
    const auto created = dispatcher.createWebhook("ops-a", receiver.url(), {});
    REQUIRE(dispatcher.enqueue("ops-a", "document.signed", kSealed) == 1);

    CHECK(dispatcher.deliverDue().retrying == 1);
    auto d = dispatcher.deliveries("ops-a").at(0);
    CHECK(d.status == "pending");
    CHECK(d.attempts == 1);
    CHECK(d.lastStatusCode == 500);
    CHECK(d.lastError == "HTTP 500");
    CHECK(d.nextAttemptAt == kNow + 30);

    clock.now = kNow + 29;
    CHECK(dispatcher.deliverDue().claimed == 0);  // not yet due
    clock.now = kNow + 30;
    CHECK(dispatcher.deliverDue().retrying == 1);
    d = dispatcher.deliveries("ops-a").at(0);
    CHECK(d.attempts == 2);
    CHECK(d.nextAttemptAt == kNow + 30 + 120);

    clock.now = kNow + 150;
    CHECK(dispatcher.deliverDue().delivered == 1);
    d = dispatcher.deliveries("ops-a").at(0);
    CHECK(d.status == "delivered");
    CHECK(d.attempts == 3);
    CHECK(d.lastStatusCode == 204);
    CHECK(d.lastError.empty());

    const auto got = receiver.received();
    REQUIRE(got.size() == 3);
    // One delivery, one body, one event id: the receiver sees a retry, not three events; each
    // attempt is signed at its own time.
    CHECK(got[0].delivery == got[2].delivery);
    CHECK(got[0].body == got[2].body);
    CHECK(server::verifyWebhookSignature(created.secret, got[2].signature, got[2].body, kNow + 150, 300));
    CHECK_FALSE(server::verifyWebhookSignature(created.secret, got[0].signature, got[0].body, kNow + 150, 60));
    CHECK(dispatcher.deliverDue().claimed == 0);
}

TEST_CASE("back-off has jitter and grows to the last step of the schedule", "[server][webhooks]") {
    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    TestClock clock;
    double unit = 0.0;  // the earliest the jitter allows: 20 % before the nominal delay
    server::WebhookDispatcher dispatcher(*store, testSettings(), clock.clock(), [&] { return unit; });
    dispatcher.createWebhook("ops-a", deadUrl(), {"*"});
    dispatcher.enqueue("ops-a", "document.erased", {{"document", "doc-9"}});
    const std::vector<std::int64_t> expected = {24, 96, 480, 2880, 17280, 17280};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const std::int64_t before = clock.now;
        dispatcher.deliverDue();
        const auto d = dispatcher.deliveries("ops-a").at(0);
        CHECK(d.nextAttemptAt - before == expected[i]);
        clock.now = d.nextAttemptAt;
    }
}

TEST_CASE("a receiver that is down leaves the delivery pending, then failed after the last attempt", "[server][webhooks]") {
    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    TestClock clock;
    auto settings = testSettings();
    settings.maxAttempts = 3;
    server::WebhookDispatcher dispatcher(*store, settings, clock.clock(), kMiddle);
    dispatcher.createWebhook("ops-a", deadUrl(), {"consent.withdrawn"});
    REQUIRE(dispatcher.enqueue("ops-a", "consent.withdrawn", {{"subject", "s-1"}}) == 1);

    dispatcher.deliverDue();
    auto d = dispatcher.deliveries("ops-a").at(0);
    CHECK(d.status == "pending");
    CHECK(d.attempts == 1);
    CHECK_FALSE(d.lastStatusCode);
    CHECK_FALSE(d.lastError.empty());  // connection refused, in Poco's words

    clock.now = d.nextAttemptAt;
    dispatcher.deliverDue();
    clock.now = dispatcher.deliveries("ops-a").at(0).nextAttemptAt;
    const auto last = dispatcher.deliverDue();
    CHECK(last.failed == 1);
    d = dispatcher.deliveries("ops-a").at(0);
    CHECK(d.status == "failed");
    CHECK(d.attempts == 3);
    clock.now += 100000;
    CHECK(dispatcher.deliverDue().claimed == 0);  // given up: only an admin's redelivery sends it again

    // An admin's redelivery: the same delivery, due now, its attempts counted afresh.
    CHECK(reasonOf([&] { dispatcher.redeliver("ops-a", "whd_unknown"); }) == "webhook.delivery_unknown");
    dispatcher.redeliver("ops-a", d.id);
    d = dispatcher.deliveries("ops-a").at(0);
    CHECK(d.status == "pending");
    CHECK(d.attempts == 0);
    CHECK(d.nextAttemptAt == clock.now);
    CHECK(dispatcher.deliverDue().retrying == 1);
    CHECK(dispatcher.deliveries("ops-a").at(0).attempts == 1);
}

TEST_CASE("410 Gone disables the webhook: nothing more is queued or sent to it", "[server][webhooks]") {
    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    TestClock clock;
    server::WebhookDispatcher dispatcher(*store, testSettings(), clock.clock(), kMiddle);
    Receiver gone({410});
    Receiver alive({200});
    const auto goneHook = dispatcher.createWebhook("ops-a", gone.url(), {"*"});
    dispatcher.createWebhook("ops-a", alive.url(), {"*"});
    REQUIRE(dispatcher.enqueue("ops-a", "document.verified", kSealed) == 2);
    const auto run = dispatcher.deliverDue();
    CHECK(run.delivered == 1);
    CHECK(run.failed == 1);
    const auto hooks = dispatcher.webhooks("ops-a");
    REQUIRE(hooks.size() == 2);
    for (const auto& w : hooks) CHECK(w.disabled == (w.id == goneHook.webhook.id));
    const auto log = dispatcher.deliveries("ops-a", goneHook.webhook.id);
    REQUIRE(log.size() == 1);
    CHECK(log[0].status == "failed");
    CHECK(log[0].lastStatusCode == 410);

    CHECK(dispatcher.enqueue("ops-a", "document.verified", kSealed) == 1);  // only the live one
    dispatcher.deliverDue();
    CHECK(gone.received().size() == 1);
    CHECK(alive.received().size() == 2);

    // Re-enabling is an admin's decision.
    dispatcher.setWebhookEnabled("ops-a", goneHook.webhook.id, true);
    CHECK(dispatcher.enqueue("ops-a", "document.verified", kSealed) == 2);
}

TEST_CASE("a queued delivery survives a restart of the dispatcher", "[server][webhooks]") {
    StoreFiles files;
    TestClock clock;
    Receiver receiver({200});
    std::string secret;
    {
        auto store = files.open();
        store->putTenant("ops-a", "{}", kNow);
        server::WebhookDispatcher dispatcher(*store, testSettings(), clock.clock(), kMiddle);
        secret = dispatcher.createWebhook("ops-a", receiver.url(), {"subject.erased"}).secret;
        REQUIRE(dispatcher.enqueue("ops-a", "subject.erased", {{"subject", "s-7"}, {"outcome", "erased"}}) == 1);
        // The service stops here, before anything was sent.
    }
    CHECK(receiver.received().empty());
    auto store = files.open();
    server::WebhookDispatcher restarted(*store, testSettings(), clock.clock(), kMiddle);
    CHECK(restarted.deliverDue().delivered == 1);
    const auto got = receiver.received();
    REQUIRE(got.size() == 1);
    CHECK(got[0].event == "subject.erased");
    CHECK(server::verifyWebhookSignature(secret, got[0].signature, got[0].body, kNow));

    // The secret is in the database only sealed under the tenant key.
    std::ifstream in(files.dir.file("kooperdoc.db"), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    CHECK(bytes.str().find(secret) == std::string::npos);
    CHECK(bytes.str().find(secret.substr(6)) == std::string::npos);
}

TEST_CASE("webhook administration: URL and event checks, list, delete with the log", "[server][webhooks]") {
    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    store->putTenant("ops-b", "{}", kNow);
    TestClock clock;
    auto settings = testSettings();
    settings.allowHttp = false;
    server::WebhookDispatcher dispatcher(*store, settings, clock.clock(), kMiddle);
    CHECK(reasonOf([&] { dispatcher.createWebhook("ops-a", "http://source.example/hooks", {}); }) == "webhook.url_invalid");
    CHECK(reasonOf([&] { dispatcher.createWebhook("ops-a", "ftp://source.example/hooks", {}); }) == "webhook.url_invalid");
    CHECK(reasonOf([&] { dispatcher.createWebhook("ops-a", "https://user:pw@source.example/hooks", {}); }) == "webhook.url_invalid");
    CHECK(reasonOf([&] { dispatcher.createWebhook("ops-a", "https:///hooks", {}); }) == "webhook.url_invalid");
    CHECK(reasonOf([&] { dispatcher.createWebhook("ops-a", "https://source.example/hooks", {"document.viewed"}); }) ==
          "webhook.event_unknown");
    CHECK(reasonOf([&] { dispatcher.createWebhook("nobody", "https://source.example/hooks", {}); }) == "storage.tenant_unknown");

    const auto a = dispatcher.createWebhook("ops-a", "https://source.example/hooks", {"document.sealed", "document.erased"});
    const auto b = dispatcher.createWebhook("ops-a", "https://other.example/hooks", {});
    CHECK(a.webhook.events == "document.sealed,document.erased");
    CHECK(b.webhook.events == "*");
    CHECK(a.secret != b.secret);
    const auto listed = dispatcher.webhooks("ops-a");
    REQUIRE(listed.size() == 2);
    CHECK(dispatcher.webhooks("ops-b").empty());
    CHECK(reasonOf([&] { dispatcher.deleteWebhook("ops-b", a.webhook.id); }) == "webhook.unknown");
    CHECK(reasonOf([&] { dispatcher.setWebhookEnabled("ops-b", a.webhook.id, false); }) == "webhook.unknown");
    CHECK(reasonOf([&] { dispatcher.enqueue("ops-a", "document.viewed", {}); }) == "webhook.event_unknown");

    CHECK(dispatcher.enqueue("ops-a", "document.erased", {{"document", "doc-1"}}) == 2);
    dispatcher.setWebhookEnabled("ops-a", b.webhook.id, false);
    CHECK(dispatcher.enqueue("ops-a", "document.erased", {{"document", "doc-2"}}) == 1);
    CHECK(dispatcher.deliveries("ops-a").size() == 3);
    CHECK(dispatcher.deliveries("ops-a", a.webhook.id).size() == 2);
    CHECK(dispatcher.deliveries("ops-b").empty());
    dispatcher.deleteWebhook("ops-a", a.webhook.id);
    CHECK(dispatcher.webhooks("ops-a").size() == 1);
    CHECK(dispatcher.deliveries("ops-a").size() == 1);
}

TEST_CASE("audit events become webhook events, and an observer that throws never fails the audit log", "[server][webhooks][audit]") {
    CHECK(server::webhookEventFor("document.sealed") == "document.sealed");
    CHECK(server::webhookEventFor("document.upload_accepted") == "document.signed");
    CHECK(server::webhookEventFor("document.verified") == "document.verified");
    CHECK(server::webhookEventFor("consent.withdrawn") == "consent.withdrawn");
    CHECK(server::webhookEventFor("subject.erased") == "subject.erased");
    CHECK(server::webhookEventFor("document.erased") == "document.erased");
    CHECK_FALSE(server::webhookEventFor("document.viewed"));
    CHECK_FALSE(server::webhookEventFor("user.login"));

    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    TestClock clock;
    server::WebhookDispatcher dispatcher(*store, testSettings(), clock.clock(), kMiddle);
    dispatcher.createWebhook("ops-a", "http://127.0.0.1:9/hooks", {"*"});

    audit::MemoryAuditStore auditStore;
    audit::AuditLog log(auditStore, auditSigner(), 1000);
    log.setObserver(dispatcher.auditObserver());

    audit::AuditEvent accepted;
    accepted.time = kNow;
    accepted.tenantId = "ops-a";
    accepted.actorId = "intake:epuap";
    accepted.actorRole = "intake";
    accepted.type = "document.upload_accepted";
    accepted.documentId = "doc-3";
    accepted.documentSha256 = sha256Hex("signed pdf");
    accepted.details = {{"revision", "2"}, {"kind", "signed_upload"}, {"client", "epuap-1"}};
    const auto index = log.record(accepted);
    audit::AuditEvent viewed = accepted;
    viewed.type = "document.viewed";
    log.record(viewed);

    const auto queued = dispatcher.deliveries("ops-a");
    REQUIRE(queued.size() == 1);
    CHECK(queued[0].eventType == "document.signed");
    const auto body = Poco::JSON::Parser().parse(queued[0].payload).extract<Poco::JSON::Object::Ptr>();
    const auto data = body->getObject("data");
    CHECK(data->getValue<std::string>("document") == "doc-3");
    CHECK(data->getValue<std::string>("document_sha256") == sha256Hex("signed pdf"));
    CHECK(data->getValue<std::string>("audit_index") == std::to_string(index));
    CHECK(data->getValue<std::string>("revision") == "2");
    CHECK(data->getValue<std::string>("kind") == "signed_upload");
    CHECK_FALSE(data->has("client"));  // not on the allow-list of forwarded details
    CHECK(log.observerFailures() == 0);

    log.setObserver([](const audit::AuditEvent&, std::uint64_t) { throw std::runtime_error("webhook storage down"); });
    const auto size = auditStore.size();
    audit::AuditEvent sealed = accepted;
    sealed.type = "document.sealed";
    CHECK_NOTHROW(log.record(sealed));
    CHECK(auditStore.size() == size + 1);
    CHECK(log.observerFailures() == 1);
    log.setObserver({});
    log.record(sealed);
    CHECK(log.observerFailures() == 1);
}

TEST_CASE("the webhook job sends what is queued at once when woken, and stops promptly", "[server][webhooks]") {
    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    server::WebhookDispatcher dispatcher(*store, testSettings(), [] {
        return static_cast<std::int64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    });
    Receiver receiver({200});
    dispatcher.createWebhook("ops-a", receiver.url(), {"*"});
    std::ostringstream out;
    server::WebhookJob job(dispatcher, std::chrono::seconds(3600), out);
    dispatcher.setOnQueued([&job] { job.wake(); });
    job.start();
    dispatcher.enqueue("ops-a", "document.sealed", kSealed);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (receiver.received().empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(receiver.received().size() == 1);
    const auto stopping = std::chrono::steady_clock::now();
    job.stop();
    CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(5));
    job.stop();
}

TEST_CASE("an https:// receiver is reached over TLS, and only when its certificate is trusted", "[server][webhooks]") {
    TempDir tls("kooperdoc-webhooks-tls");
    const auto key = tls.file("receiver.key"), certificate = tls.file("receiver.pem");
    const auto made = kooperdoc::testing::runCommand(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        kooperdoc::testing::quote(key) + " -out " + kooperdoc::testing::quote(certificate) + " 2>&1");
    INFO(made.output);
    REQUIRE(made.exitCode == 0);
    Poco::Net::Context::Ptr serverContext =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key, certificate, "", Poco::Net::Context::VERIFY_NONE);
    Receiver receiver({200}, Poco::Net::SecureServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, serverContext), "https");

    StoreFiles files;
    auto store = files.open();
    store->putTenant("ops-a", "{}", kNow);
    TestClock clock;
    auto settings = testSettings();
    settings.allowHttp = false;

    SECTION("a receiver whose certificate no trusted CA issued gets nothing") {
        server::WebhookDispatcher dispatcher(*store, settings, clock.clock(), kMiddle);
        dispatcher.createWebhook("ops-a", receiver.url(), {"*"});
        dispatcher.enqueue("ops-a", "document.sealed", kSealed);
        CHECK(dispatcher.deliverDue().retrying == 1);
        CHECK(receiver.received().empty());
        const auto d = dispatcher.deliveries("ops-a").at(0);
        CHECK_FALSE(d.lastStatusCode);
        CHECK_FALSE(d.lastError.empty());
    }
    SECTION("trusted through kooperdoc.webhooks.ca_file: delivered and signed") {
        settings.caFile = certificate;
        server::WebhookDispatcher dispatcher(*store, settings, clock.clock(), kMiddle);
        const auto created = dispatcher.createWebhook("ops-a", receiver.url(), {"*"});
        dispatcher.enqueue("ops-a", "document.sealed", kSealed);
        CHECK(dispatcher.deliverDue().delivered == 1);
        const auto got = receiver.received();
        REQUIRE(got.size() == 1);
        CHECK(server::verifyWebhookSignature(created.secret, got[0].signature, got[0].body, kNow));
    }
}

TEST_CASE("webhook settings come from kooperdoc.webhooks.* and bad ones are refused", "[server][webhooks]") {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    auto defaults = server::loadWebhookSettings(*config);
    CHECK(defaults.backoffSeconds == std::vector<std::int64_t>{30, 120, 600, 3600, 21600});
    CHECK(defaults.maxAttempts == 10);
    CHECK_FALSE(defaults.allowHttp);

    config->setString("kooperdoc.webhooks.backoff", "10, 20,40");
    config->setString("kooperdoc.webhooks.max_attempts", "4");
    config->setString("kooperdoc.webhooks.allow_http", "true");
    config->setString("kooperdoc.webhooks.poll_interval", "0");
    const auto set = server::loadWebhookSettings(*config);
    CHECK(set.backoffSeconds == std::vector<std::int64_t>{10, 20, 40});
    CHECK(set.maxAttempts == 4);
    CHECK(set.allowHttp);
    CHECK(set.pollInterval.count() == 0);

    config->setString("kooperdoc.webhooks.backoff", "10,soon");
    CHECK(reasonOf([&] { server::loadWebhookSettings(*config); }) == "webhook.config_invalid");
    config->setString("kooperdoc.webhooks.backoff", "10");
    config->setString("kooperdoc.webhooks.jitter", "1.5");
    CHECK(reasonOf([&] { server::loadWebhookSettings(*config); }) == "webhook.config_invalid");
    config->setString("kooperdoc.webhooks.jitter", "0.1");
    config->setString("kooperdoc.webhooks.max_attempts", "0");
    CHECK(reasonOf([&] { server::loadWebhookSettings(*config); }) == "webhook.config_invalid");
}
