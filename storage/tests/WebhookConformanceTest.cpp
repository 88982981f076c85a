// SPDX-License-Identifier: AGPL-3.0-or-later
// The webhook rows (issue 7, point 4) on both backends: compiled into storage_tests (SQLite) and
// storage_postgres_tests (PostgreSQL), like ConformanceTest.cpp.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "Backend.h"
#include "ErrorReason.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Keys.h"
#include "kooperdoc/storage/Repository.h"

using namespace kooperdoc;
using namespace kooperdoc::storage;
using kooperdoc::testing::Backend;
using kooperdoc::testing::reasonOf;

namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

std::unique_ptr<Repository> withTenants(const Backend& backend) { return backend.withTenants({"ops-a", "ops-b"}, kNow); }

WebhookRecord hook(const std::string& id, const std::string& tenant, std::int64_t createdAt) {
    WebhookRecord w;
    w.id = id;
    w.tenantId = tenant;
    w.url = "https://source.example/hooks/" + id;
    w.wrappedSecret = "00ff" + id;
    w.events = "document.sealed,document.signed";
    w.createdAt = createdAt;
    return w;
}

WebhookDelivery delivery(const std::string& id, const WebhookRecord& w, std::int64_t dueAt) {
    WebhookDelivery d;
    d.id = id;
    d.webhookId = w.id;
    d.tenantId = w.tenantId;
    d.eventType = "document.sealed";
    d.payload = R"({"id":")" + id + R"(","type":"document.sealed"})";
    d.status = "pending";
    d.nextAttemptAt = dueAt;
    d.createdAt = dueAt;
    return d;
}

}  // namespace

TEST_CASE("webhooks are stored per tenant, disabled and deleted with their log", "[storage][conformance][webhooks]") {
    Backend backend;
    auto repository = withTenants(backend);
    repository->insertWebhook(hook("w2", "ops-a", kNow + 10));
    repository->insertWebhook(hook("w1", "ops-a", kNow));
    repository->insertWebhook(hook("w3", "ops-b", kNow));
    CHECK(reasonOf([&] { repository->insertWebhook(hook("w4", "nobody", kNow)); }) == "storage.tenant_unknown");

    const auto listed = repository->webhooks("ops-a");
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == "w1");
    CHECK(listed[1].id == "w2");
    CHECK(listed[0].url == "https://source.example/hooks/w1");
    CHECK(listed[0].wrappedSecret == "00ffw1");
    CHECK(listed[0].events == "document.sealed,document.signed");
    CHECK_FALSE(listed[0].disabled);

    CHECK_FALSE(repository->webhook("ops-b", "w1"));  // another tenant's webhook is not there
    CHECK(repository->setWebhookDisabled("ops-a", "w1", true));
    CHECK(repository->webhook("ops-a", "w1")->disabled);
    CHECK_FALSE(repository->setWebhookDisabled("ops-b", "w1", true));

    REQUIRE(repository->insertWebhookDeliveries({delivery("d1", listed[0], kNow)}) == 1);
    CHECK_FALSE(repository->deleteWebhook("ops-b", "w1"));
    CHECK(repository->deleteWebhook("ops-a", "w1"));
    CHECK_FALSE(repository->webhook("ops-a", "w1"));
    CHECK_FALSE(repository->webhookDelivery("ops-a", "d1"));
    // A delivery for a webhook deleted meanwhile is skipped, the others of the batch stored.
    CHECK(repository->insertWebhookDeliveries({delivery("d2", listed[0], kNow), delivery("d3", listed[1], kNow)}) == 1);
    CHECK(repository->webhookDelivery("ops-a", "d3"));
}

TEST_CASE("due deliveries are claimed once, under a lease, and their outcome recorded", "[storage][conformance][webhooks]") {
    Backend backend;
    auto repository = withTenants(backend);
    const auto a = hook("wa", "ops-a", kNow);
    const auto off = hook("woff", "ops-a", kNow);
    repository->insertWebhook(a);
    repository->insertWebhook(off);
    repository->setWebhookDisabled("ops-a", "woff", true);
    REQUIRE(repository->insertWebhookDeliveries({delivery("d1", a, kNow - 5), delivery("d2", a, kNow), delivery("d3", a, kNow + 60),
                                                 delivery("d4", off, kNow)}) == 4);

    auto claimed = repository->claimDueWebhookDeliveries(kNow, 10, kNow + 120);
    REQUIRE(claimed.size() == 2);  // d3 is not due, d4's webhook is disabled
    CHECK(claimed[0].id == "d1");
    CHECK(claimed[1].id == "d2");
    CHECK(claimed[0].nextAttemptAt == kNow + 120);
    CHECK(claimed[0].payload == R"({"id":"d1","type":"document.sealed"})");
    // Leased: a second claimer (another instance) gets none of them until the lease ends.
    CHECK(repository->claimDueWebhookDeliveries(kNow + 1, 10, kNow + 121).empty());
    CHECK(repository->claimDueWebhookDeliveries(kNow + 120, 1, kNow + 240).size() == 1);

    WebhookDelivery done = claimed[1];
    done.status = "delivered";
    done.attempts = 1;
    done.lastStatusCode = 204;
    done.deliveredAt = kNow + 2;
    repository->updateWebhookDelivery(done);
    const auto stored = repository->webhookDelivery("ops-a", "d2");
    REQUIRE(stored);
    CHECK(stored->status == "delivered");
    CHECK(stored->attempts == 1);
    CHECK(stored->lastStatusCode == 204);
    CHECK(stored->lastError.empty());
    CHECK(stored->deliveredAt == kNow + 2);
    CHECK_FALSE(repository->webhookDelivery("ops-b", "d2"));

    WebhookDelivery failed = claimed[0];
    failed.status = "failed";
    failed.attempts = 8;
    failed.lastStatusCode.reset();
    failed.lastError = "connection refused";
    repository->updateWebhookDelivery(failed);
    CHECK(repository->webhookDelivery("ops-a", "d1")->lastError == "connection refused");
    CHECK_FALSE(repository->webhookDelivery("ops-a", "d1")->lastStatusCode);

    // Redelivery: pending again with a fresh count, due now.
    CHECK(repository->redeliverWebhookDelivery("ops-a", "d1", kNow + 500));
    CHECK_FALSE(repository->redeliverWebhookDelivery("ops-b", "d1", kNow + 500));
    const auto again = repository->webhookDelivery("ops-a", "d1");
    CHECK(again->status == "pending");
    CHECK(again->attempts == 0);
    CHECK(again->nextAttemptAt == kNow + 500);

    // The log: newest first, per tenant or per webhook, bounded.
    const auto log = repository->webhookDeliveries("ops-a", "", 10);
    REQUIRE(log.size() == 4);
    CHECK(log.front().createdAt >= log.back().createdAt);
    CHECK(repository->webhookDeliveries("ops-a", "woff", 10).size() == 1);
    CHECK(repository->webhookDeliveries("ops-a", "", 2).size() == 2);
    CHECK(repository->webhookDeliveries("ops-b", "", 10).empty());
}

TEST_CASE("parallel claimers never take the same delivery", "[storage][conformance][webhooks]") {
    Backend backend;
    {
        auto repository = withTenants(backend);
        const auto a = hook("wa", "ops-a", kNow);
        repository->insertWebhook(a);
        std::vector<WebhookDelivery> batch;
        for (int i = 0; i < 40; ++i) batch.push_back(delivery("d" + std::to_string(100 + i), a, kNow));
        REQUIRE(repository->insertWebhookDeliveries(batch) == 40);
    }
    std::mutex mutex;
    std::vector<std::string> taken;
    std::vector<std::thread> instances;
    for (int t = 0; t < 4; ++t) {
        instances.emplace_back([&] {
            auto repository = openRepository(backend.config());  // one per "instance"
            for (;;) {
                const auto claimed = repository->claimDueWebhookDeliveries(kNow, 3, kNow + 600);
                if (claimed.empty()) return;
                std::lock_guard<std::mutex> lock(mutex);
                for (const auto& d : claimed) taken.push_back(d.id);
            }
        });
    }
    for (auto& t : instances) t.join();
    CHECK(taken.size() == 40);
    CHECK(std::set<std::string>(taken.begin(), taken.end()).size() == 40);
}

TEST_CASE("a webhook secret is sealed under the tenant key and bound to its webhook", "[storage][conformance][webhooks]") {
    Backend backend;
    const auto key = MasterKey::fromBase64(MasterKey::generateBase64());
    auto store = backend.open(key);
    store->putTenant("ops-a", "{}", kNow);
    store->putTenant("ops-b", "{}", kNow);
    const std::string secret = "whsec_0123456789abcdef";
    const auto wrapped = store->wrapWebhookSecret("ops-a", "w1", secret);
    CHECK(wrapped.find("0123456789abcdef") == std::string::npos);
    CHECK(store->unwrapWebhookSecret("ops-a", "w1", wrapped) == secret);
    CHECK(reasonOf([&] { store->unwrapWebhookSecret("ops-a", "w2", wrapped); }) == "storage.decrypt_failed");
    CHECK(reasonOf([&] { store->unwrapWebhookSecret("ops-b", "w1", wrapped); }) == "storage.decrypt_failed");

    WebhookRecord w = hook("w1", "ops-a", kNow);
    w.wrappedSecret = wrapped;
    store->repository().insertWebhook(w);
    CHECK(backend.databaseBytes().find(secret) == std::string::npos);
}
