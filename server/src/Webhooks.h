// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Webhooks to the source system (issue 7, point 4; docs/webhooks.md). An audit entry of interest
// (sealed, signed, verified, consent withdrawn, erased) becomes one delivery row per subscribed
// webhook in the same database, so an event the service acknowledged is never lost to a restart;
// WebhookJob sends due rows, signed with HMAC-SHA256 over a timestamp and the body, and retries
// with back-off. Bodies carry identifiers and hashes only: the receiver fetches the document
// through the API, where access is checked and logged.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Util/AbstractConfiguration.h>

#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Repository.h"

namespace kooperdoc::server {

/// The event types a webhook may subscribe to ("*" subscribes to all of them).
extern const char* const kWebhookEventTypes[];

/// The webhook event an audit event type becomes, or nullopt when webhooks do not announce it.
std::optional<std::string> webhookEventFor(const std::string& auditEventType);

/// The kooperdoc.webhooks.* keys (config/kooperdoc.properties documents each).
struct WebhookSettings {
    /// Seconds before attempt 2, 3, …; the last one repeats. Each is stretched or shrunk by up to
    /// `jitter` (0.2 = ±20 %), so receivers that come back are not hit by every sender at once.
    std::vector<std::int64_t> backoffSeconds{30, 120, 600, 3600, 21600};
    double jitter = 0.2;
    int maxAttempts = 10;                    ///< then the delivery is "failed"
    std::chrono::seconds timeout{10};        ///< per attempt: connect, send, answer
    std::size_t batch = 10;                  ///< deliveries claimed at once by one instance
    std::chrono::seconds pollInterval{5};    ///< WebhookJob looks for due deliveries that often; 0: no job
    bool allowHttp = false;                  ///< plain http:// URLs (development and tests only)
    /// PEM CA certificates trusted for https:// receivers besides the system's (a source system
    /// behind an institution's own CA); "" = the system's only.
    std::string caFile;
};

WebhookSettings loadWebhookSettings(const Poco::Util::AbstractConfiguration& config);

/// The value of the Kooperdoc-Signature header: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
/// t + "." + body)>".
std::string signWebhookBody(const std::string& secret, std::int64_t timestamp, const std::string& body);

/// For receivers and tests: true when \p header holds a v1 signature of \p body under \p secret
/// whose timestamp lies within \p toleranceSeconds of \p now (either way: an old body replayed
/// later is refused). Compares in constant time; \p whyNot says what failed.
bool verifyWebhookSignature(const std::string& secret, const std::string& header, const std::string& body, std::int64_t now,
                            std::int64_t toleranceSeconds = 300, std::string* whyNot = nullptr);

/// Hex HMAC-SHA256 (exposed for the known-answer test).
std::string hmacSha256Hex(const std::string& key, const std::string& data);

/// A webhook as created: the secret is shown this once and never again.
struct CreatedWebhook {
    storage::WebhookRecord webhook;
    std::string secret;  ///< "whsec_" + 64 hex digits
};

/// What one deliverDue() did.
struct WebhookRun {
    std::size_t claimed = 0, delivered = 0, retrying = 0, failed = 0;
};

class WebhookDispatcher {
public:
    using Clock = std::function<std::int64_t()>;
    /// A number in [0, 1) for the jitter; tests pass a constant.
    using Random = std::function<double()>;

    WebhookDispatcher(storage::DocumentStore& store, WebhookSettings settings, Clock clock, Random random = {});

    const WebhookSettings& settings() const { return settings_; }
    /// Called after enqueue() or redeliver() stored something (WebhookJob::wake, so a new event
    /// goes out at once instead of at the next poll). Set it before events flow.
    void setOnQueued(std::function<void()> onQueued) { onQueued_ = std::move(onQueued); }

    // Administration (the HTTP routes call these for the tenant's admin).
    /// Error{kInvalidArgument, "webhook.url_invalid"} for a URL that is not https:// (or http://
    /// when allowed) with a host, or that carries credentials; "webhook.event_unknown" for an
    /// event outside kWebhookEventTypes; an empty \p events means "*".
    CreatedWebhook createWebhook(const std::string& tenantId, const std::string& url, const std::vector<std::string>& events);
    std::vector<storage::WebhookRecord> webhooks(const std::string& tenantId);
    /// Error{kNotFound, "webhook.unknown"}.
    void deleteWebhook(const std::string& tenantId, const std::string& webhookId);
    /// Error{kNotFound, "webhook.unknown"}. Re-enabling a webhook that answered 410 is an admin's call.
    void setWebhookEnabled(const std::string& tenantId, const std::string& webhookId, bool enabled);
    /// The delivery log, newest first; \p webhookId "" for every webhook of the tenant.
    std::vector<storage::WebhookDelivery> deliveries(const std::string& tenantId, const std::string& webhookId = "",
                                                     std::size_t limit = 100);
    /// Sends a delivery again (same id and body, newly signed), attempts counted afresh.
    /// Error{kNotFound, "webhook.delivery_unknown"}.
    void redeliver(const std::string& tenantId, const std::string& deliveryId);

    // Events.
    /// Stores one pending delivery for every enabled webhook of the tenant subscribed to
    /// \p eventType; returns how many. \p data: the body's "data" object — identifiers and
    /// hashes only ("document", "document_sha256", …).
    std::size_t enqueue(const std::string& tenantId, const std::string& eventType,
                        const std::map<std::string, std::string>& data);
    /// For AuditLog::setObserver: maps the audit event (webhookEventFor) and enqueues it.
    audit::AuditLog::Observer auditObserver();

    /// Claims one batch of due deliveries and sends them; the outcome of each attempt is stored
    /// before the next one is sent.
    WebhookRun deliverDue();

private:
    /// Sends one claimed delivery and stores the outcome; returns its new status ("" when its
    /// webhook went away since the claim).
    std::string attempt(storage::WebhookDelivery delivery);
    std::int64_t backoffAfter(int attempts);

    storage::DocumentStore& store_;
    WebhookSettings settings_;
    Clock clock_;
    Random random_;
    std::mutex randomMutex_;
    std::mt19937_64 generator_;
    std::function<void()> onQueued_;
};

/// The background sender: at start and then every pollInterval it sends what is due, batch after
/// batch while batches come back full. Several instances may run it against one PostgreSQL
/// database: claims never overlap.
class WebhookJob {
public:
    WebhookJob(WebhookDispatcher& dispatcher, std::chrono::seconds interval, std::ostream& out);
    ~WebhookJob();
    WebhookJob(const WebhookJob&) = delete;
    WebhookJob& operator=(const WebhookJob&) = delete;

    void start();
    /// Waits for the attempt in progress (at most the timeout); safe to call twice.
    void stop();
    /// Looks now rather than at the end of the interval (e.g. after an enqueue or a redelivery).
    void wake();

    /// Sends until nothing is due (bounded, so a flood cannot hold the loop for ever).
    WebhookRun runOnce();

private:
    void loop();
    WebhookDispatcher& dispatcher_;
    std::chrono::seconds interval_;
    std::ostream& out_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool woken_ = false;
    std::thread thread_;
};

}  // namespace kooperdoc::server
