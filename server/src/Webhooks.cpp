// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Webhooks.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <istream>
#include <memory>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/Keys.h"

namespace kooperdoc::server {

const char* const kWebhookEventTypes[] = {"document.sealed",   "document.signed", "document.verified",
                                          "consent.withdrawn", "subject.erased",  "document.erased",
                                          nullptr};

namespace {

bool knownWebhookEvent(const std::string& type) {
    for (const char* const* t = kWebhookEventTypes; *t != nullptr; ++t) {
        if (type == *t) return true;
    }
    return false;
}

/// The audit details a webhook body may carry: codes and pseudonymous ids the API itself shows.
/// An allow-list, so a detail added to the trail later does not reach a third system unread.
constexpr const char* kForwardedDetails[] = {"revision", "kind", "outcome", "signatures", "subject"};

bool subscribed(const storage::WebhookRecord& webhook, const std::string& eventType) {
    if (webhook.events == "*") return true;
    std::stringstream list(webhook.events);
    for (std::string item; std::getline(list, item, ',');) {
        if (item == eventType) return true;
    }
    return false;
}

std::string trim(const std::string& text) {
    const auto begin = text.find_first_not_of(" \t");
    if (begin == std::string::npos) return "";
    return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

[[noreturn]] void configInvalid(const std::string& key, const std::string& why) {
    throw Error(ErrorCode::kInvalidArgument, "webhook.config_invalid", "kooperdoc.webhooks." + key + ": " + why);
}

struct PostOutcome {
    std::optional<int> status;  ///< none when no answer came
    std::string error;          ///< why no answer came
};

/// One TLS context per set of trusted CAs, made once: loading the system bundle is not free.
Poco::Net::Context::Ptr tlsContext(const std::string& caFile) {
    static std::mutex mutex;
    static std::map<std::string, Poco::Net::Context::Ptr> contexts;
    std::lock_guard<std::mutex> lock(mutex);
    auto& context = contexts[caFile];
    if (!context) {
        // The system's CA bundle (and caFile) and the host name are checked: the body is signed,
        // but a receiver impersonated by a man in the middle would still learn which documents moved.
        context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, caFile, Poco::Net::Context::VERIFY_RELAXED, 9, true);
        // Refused outright: Poco's default handler would ask on the console whether to accept.
        context->setInvalidCertificateHandler(new Poco::Net::RejectCertificateHandler(false));
    }
    return context;
}

PostOutcome postSigned(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& body, const WebhookSettings& settings) {
    const std::chrono::seconds timeout = settings.timeout;
    try {
        const Poco::URI uri(url);
        std::unique_ptr<Poco::Net::HTTPClientSession> session;
        if (uri.getScheme() == "https") {
            session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), tlsContext(settings.caFile));
        } else {
            session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
        }
        session->setTimeout(Poco::Timespan(static_cast<long>(timeout.count()), 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST,
                                       uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("User-Agent", "Kooperdoc-Webhooks");
        for (const auto& [name, value] : headers) request.set(name, value);
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        session->sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session->receiveResponse(response);
        // The answer's body is neither needed nor kept (it could hold anything); a little is read
        // so a well-behaved server is not cut off mid-write, no more.
        char sink[4096];
        std::size_t drained = 0;
        while (drained < 65536 && in.read(sink, sizeof sink)) drained += sizeof sink;
        return {static_cast<int>(response.getStatus()), ""};
    } catch (const Poco::Exception& e) {
        return {std::nullopt, e.displayText()};
    } catch (const std::exception& e) {
        return {std::nullopt, e.what()};
    }
}

}  // namespace

std::optional<std::string> webhookEventFor(const std::string& auditEventType) {
    // A signed copy accepted from an upload and a remote signature are the same news to the
    // source system: the document is signed (data.kind tells which).
    static const std::map<std::string, std::string> mapping = {
        {"document.sealed", "document.sealed"},       {"document.signed", "document.signed"},
        {"document.upload_accepted", "document.signed"}, {"document.verified", "document.verified"},
        {"consent.withdrawn", "consent.withdrawn"},   {"subject.erased", "subject.erased"},
        {"document.erased", "document.erased"},
    };
    const auto found = mapping.find(auditEventType);
    if (found == mapping.end()) return std::nullopt;
    return found->second;
}

WebhookSettings loadWebhookSettings(const Poco::Util::AbstractConfiguration& config) {
    WebhookSettings settings;
    try {
        if (config.has("kooperdoc.webhooks.backoff")) {
            settings.backoffSeconds.clear();
            std::stringstream list(config.getString("kooperdoc.webhooks.backoff"));
            for (std::string item; std::getline(list, item, ',');) {
                item = trim(item);
                if (item.empty()) continue;
                std::size_t used = 0;
                const long long seconds = std::stoll(item, &used);
                if (used != item.size() || seconds <= 0) configInvalid("backoff", "\"" + item + "\" is not a number of seconds");
                settings.backoffSeconds.push_back(seconds);
            }
            if (settings.backoffSeconds.empty()) configInvalid("backoff", "at least one delay");
        }
        settings.jitter = config.getDouble("kooperdoc.webhooks.jitter", settings.jitter);
        settings.maxAttempts = config.getInt("kooperdoc.webhooks.max_attempts", settings.maxAttempts);
        settings.timeout = std::chrono::seconds(config.getInt64("kooperdoc.webhooks.timeout", settings.timeout.count()));
        settings.batch = static_cast<std::size_t>(config.getUInt64("kooperdoc.webhooks.batch", settings.batch));
        settings.pollInterval =
            std::chrono::seconds(config.getInt64("kooperdoc.webhooks.poll_interval", settings.pollInterval.count()));
        settings.allowHttp = config.getBool("kooperdoc.webhooks.allow_http", settings.allowHttp);
        settings.caFile = config.getString("kooperdoc.webhooks.ca_file", settings.caFile);
    } catch (const Poco::Exception& e) {
        configInvalid("*", e.displayText());
    } catch (const std::logic_error& e) {  // std::stoll
        configInvalid("backoff", e.what());
    }
    if (settings.jitter < 0 || settings.jitter >= 1) configInvalid("jitter", "between 0 and 1 (exclusive)");
    if (settings.maxAttempts < 1) configInvalid("max_attempts", "at least 1");
    if (settings.timeout.count() < 1) configInvalid("timeout", "at least 1 second");
    if (settings.batch < 1) configInvalid("batch", "at least 1");
    if (settings.pollInterval.count() < 0) configInvalid("poll_interval", "0 (off) or more seconds");
    return settings;
}

std::string hmacSha256Hex(const std::string& key, const std::string& data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
             data.size(), mac, &length) == nullptr) {
        throw Error(ErrorCode::kInternal, "webhook.hmac_failed", "HMAC-SHA256 failed");
    }
    return toHex(mac, length);
}

std::string signWebhookBody(const std::string& secret, std::int64_t timestamp, const std::string& body) {
    const std::string t = std::to_string(timestamp);
    return "t=" + t + ",v1=" + hmacSha256Hex(secret, t + "." + body);
}

bool verifyWebhookSignature(const std::string& secret, const std::string& header, const std::string& body, std::int64_t now,
                            std::int64_t toleranceSeconds, std::string* whyNot) {
    const auto fail = [&](const char* why) {
        if (whyNot != nullptr) *whyNot = why;
        return false;
    };
    std::optional<std::int64_t> timestamp;
    std::vector<std::string> signatures;
    std::stringstream items(header);
    for (std::string item; std::getline(items, item, ',');) {
        item = trim(item);
        const auto equals = item.find('=');
        if (equals == std::string::npos) continue;
        const std::string name = item.substr(0, equals), value = item.substr(equals + 1);
        if (name == "t") {
            if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos) {
                return fail("the timestamp is not a number");
            }
            timestamp = std::stoll(value);
        } else if (name == "v1") {
            signatures.push_back(value);  // several during a secret's rotation
        }
    }
    if (!timestamp) return fail("no timestamp");
    if (signatures.empty()) return fail("no v1 signature");
    if (std::llabs(now - *timestamp) > toleranceSeconds) return fail("the timestamp is outside the tolerance (a replay?)");
    const std::string expected = hmacSha256Hex(secret, std::to_string(*timestamp) + "." + body);
    for (const auto& signature : signatures) {
        if (signature.size() == expected.size() && CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0) {
            return true;
        }
    }
    return fail("no signature matches");
}

// ------------------------------------------------------------------ WebhookDispatcher

WebhookDispatcher::WebhookDispatcher(storage::DocumentStore& store, WebhookSettings settings, Clock clock, Random random)
    : store_(store), settings_(std::move(settings)), clock_(std::move(clock)), random_(std::move(random)),
      generator_(std::random_device{}()) {}

CreatedWebhook WebhookDispatcher::createWebhook(const std::string& tenantId, const std::string& url,
                                                const std::vector<std::string>& events) {
    Poco::URI uri;
    try {
        uri = Poco::URI(url);
    } catch (const Poco::Exception&) {
        throw Error(ErrorCode::kInvalidArgument, "webhook.url_invalid", "not a URL: " + url);
    }
    const bool schemeAllowed = uri.getScheme() == "https" || (settings_.allowHttp && uri.getScheme() == "http");
    if (!schemeAllowed || uri.getHost().empty()) {
        throw Error(ErrorCode::kInvalidArgument, "webhook.url_invalid",
                    std::string("a webhook URL is https://HOST/… ") +
                        (settings_.allowHttp ? "or http://HOST/…" : "(http:// only with kooperdoc.webhooks.allow_http)") +
                        ": " + url);
    }
    if (!uri.getUserInfo().empty()) {
        // Credentials in the URL would sit in the database and the delivery log in plain text.
        throw Error(ErrorCode::kInvalidArgument, "webhook.url_invalid", "a webhook URL carries no user or password");
    }
    std::string list;
    for (const auto& event : events) {
        if (event == "*") {
            list = "*";
            break;
        }
        if (!knownWebhookEvent(event)) throw Error(ErrorCode::kInvalidArgument, "webhook.event_unknown", "no webhook event " + event);
        list += (list.empty() ? "" : ",") + event;
    }
    if (list.empty()) list = "*";

    CreatedWebhook created;
    const storage::Key256 secretBytes = storage::randomKey();
    created.secret = "whsec_" + toHex(secretBytes.data(), secretBytes.size());
    storage::WebhookRecord& w = created.webhook;
    w.id = "wh_" + storage::randomId();
    w.tenantId = tenantId;
    w.url = url;
    w.wrappedSecret = store_.wrapWebhookSecret(tenantId, w.id, created.secret);
    w.events = list;
    w.createdAt = clock_();
    store_.repository().insertWebhook(w);
    return created;
}

std::vector<storage::WebhookRecord> WebhookDispatcher::webhooks(const std::string& tenantId) {
    return store_.repository().webhooks(tenantId);
}

void WebhookDispatcher::deleteWebhook(const std::string& tenantId, const std::string& webhookId) {
    if (!store_.repository().deleteWebhook(tenantId, webhookId)) {
        throw Error(ErrorCode::kNotFound, "webhook.unknown", "no webhook " + webhookId + " in this tenant");
    }
}

void WebhookDispatcher::setWebhookEnabled(const std::string& tenantId, const std::string& webhookId, bool enabled) {
    if (!store_.repository().setWebhookDisabled(tenantId, webhookId, !enabled)) {
        throw Error(ErrorCode::kNotFound, "webhook.unknown", "no webhook " + webhookId + " in this tenant");
    }
}

std::vector<storage::WebhookDelivery> WebhookDispatcher::deliveries(const std::string& tenantId, const std::string& webhookId,
                                                                    std::size_t limit) {
    return store_.repository().webhookDeliveries(tenantId, webhookId, limit);
}

void WebhookDispatcher::redeliver(const std::string& tenantId, const std::string& deliveryId) {
    if (!store_.repository().redeliverWebhookDelivery(tenantId, deliveryId, clock_())) {
        throw Error(ErrorCode::kNotFound, "webhook.delivery_unknown", "no webhook delivery " + deliveryId + " in this tenant");
    }
    if (onQueued_) onQueued_();
}

std::size_t WebhookDispatcher::enqueue(const std::string& tenantId, const std::string& eventType,
                                       const std::map<std::string, std::string>& data) {
    if (!knownWebhookEvent(eventType)) throw Error(ErrorCode::kInvalidArgument, "webhook.event_unknown", "no webhook event " + eventType);
    std::vector<storage::WebhookRecord> targets;
    for (auto& webhook : store_.repository().webhooks(tenantId)) {
        if (!webhook.disabled && subscribed(webhook, eventType)) targets.push_back(std::move(webhook));
    }
    if (targets.empty()) return 0;

    const std::int64_t now = clock_();
    // One event id for every webhook and every retry: the receiver's key for "seen it already".
    const std::string eventId = "evt_" + storage::randomId();
    Poco::JSON::Object::Ptr dataJson(new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER));
    for (const auto& [key, value] : data) dataJson->set(key, value);
    Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
    body.set("id", eventId);
    body.set("type", eventType);
    body.set("created", now);
    body.set("tenant", tenantId);
    body.set("data", dataJson);
    std::ostringstream payload;
    body.stringify(payload);

    std::vector<storage::WebhookDelivery> deliveries;
    for (const auto& webhook : targets) {
        storage::WebhookDelivery d;
        d.id = "whd_" + storage::randomId();
        d.webhookId = webhook.id;
        d.tenantId = tenantId;
        d.eventType = eventType;
        d.payload = payload.str();
        d.status = "pending";
        d.nextAttemptAt = now;
        d.createdAt = now;
        deliveries.push_back(std::move(d));
    }
    const std::size_t stored = store_.repository().insertWebhookDeliveries(deliveries);
    if (stored > 0 && onQueued_) onQueued_();
    return stored;
}

audit::AuditLog::Observer WebhookDispatcher::auditObserver() {
    return [this](const audit::AuditEvent& event, std::uint64_t index) {
        const auto type = webhookEventFor(event.type);
        if (!type) return;
        std::map<std::string, std::string> data;
        if (!event.documentId.empty()) data["document"] = event.documentId;
        if (!event.documentSha256.empty()) data["document_sha256"] = event.documentSha256;
        // Lets the receiver ask for the entry's inclusion proof.
        data["audit_index"] = std::to_string(index);
        for (const char* key : kForwardedDetails) {
            if (const auto found = event.details.find(key); found != event.details.end()) data[key] = found->second;
        }
        enqueue(event.tenantId, *type, data);
    };
}

WebhookRun WebhookDispatcher::deliverDue() {
    WebhookRun run;
    const std::int64_t now = clock_();
    // Long enough for the whole batch to time out one after the other: a row is leased to this
    // instance until its outcome is written, and due again for anyone if this instance dies.
    const std::int64_t lease = static_cast<std::int64_t>(settings_.batch) * settings_.timeout.count() * 2 + 60;
    const auto claimed = store_.repository().claimDueWebhookDeliveries(now, settings_.batch, now + lease);
    run.claimed = claimed.size();
    for (const auto& delivery : claimed) {
        const auto status = attempt(delivery);
        if (status == "delivered") {
            ++run.delivered;
        } else if (status == "failed") {
            ++run.failed;
        } else if (status == "pending") {
            ++run.retrying;
        }
    }
    return run;
}

std::string WebhookDispatcher::attempt(storage::WebhookDelivery delivery) {
    auto& repository = store_.repository();
    const auto webhook = repository.webhook(delivery.tenantId, delivery.webhookId);
    if (!webhook || webhook->disabled) return "";  // deleted or disabled since the claim: nothing to send

    ++delivery.attempts;
    std::string secret;
    try {
        secret = store_.unwrapWebhookSecret(delivery.tenantId, delivery.webhookId, webhook->wrappedSecret);
    } catch (const Error& e) {
        // No retry brings a secret back: say so in the log, where an admin sees it.
        delivery.status = "failed";
        delivery.lastStatusCode.reset();
        delivery.lastError = std::string("the webhook secret cannot be opened: ") + e.reason();
        repository.updateWebhookDelivery(delivery);
        return delivery.status;
    }

    const std::int64_t sentAt = clock_();
    const PostOutcome outcome = postSigned(webhook->url,
                                           {{"Kooperdoc-Signature", signWebhookBody(secret, sentAt, delivery.payload)},
                                            {"Kooperdoc-Event", delivery.eventType},
                                            {"Kooperdoc-Delivery", delivery.id}},
                                           delivery.payload, settings_);
    const std::int64_t now = clock_();
    delivery.lastStatusCode = outcome.status;
    if (outcome.status && *outcome.status >= 200 && *outcome.status < 300) {
        delivery.status = "delivered";
        delivery.lastError.clear();
        delivery.deliveredAt = now;
    } else if (outcome.status && *outcome.status == 410) {
        // The receiver says the endpoint is gone for good: stop sending it anything.
        delivery.status = "failed";
        delivery.lastError = "410 Gone: the webhook is disabled";
        repository.setWebhookDisabled(delivery.tenantId, delivery.webhookId, true);
    } else {
        delivery.lastError = outcome.status ? "HTTP " + std::to_string(*outcome.status) : outcome.error;
        if (delivery.attempts >= settings_.maxAttempts) {
            delivery.status = "failed";
        } else {
            delivery.status = "pending";
            delivery.nextAttemptAt = now + backoffAfter(delivery.attempts);
        }
    }
    repository.updateWebhookDelivery(delivery);
    return delivery.status;
}

std::int64_t WebhookDispatcher::backoffAfter(int attempts) {
    const auto& schedule = settings_.backoffSeconds;
    const std::size_t step = std::min<std::size_t>(static_cast<std::size_t>(std::max(attempts, 1)) - 1, schedule.size() - 1);
    double unit = 0.5;
    if (random_) {
        unit = random_();
    } else {
        std::lock_guard<std::mutex> lock(randomMutex_);
        unit = std::uniform_real_distribution<double>(0.0, 1.0)(generator_);
    }
    const double factor = 1.0 + settings_.jitter * (2.0 * unit - 1.0);
    return std::max<std::int64_t>(1, std::llround(static_cast<double>(schedule[step]) * factor));
}

// ------------------------------------------------------------------ WebhookJob

WebhookJob::WebhookJob(WebhookDispatcher& dispatcher, std::chrono::seconds interval, std::ostream& out)
    : dispatcher_(dispatcher), interval_(interval), out_(out) {}

WebhookJob::~WebhookJob() { stop(); }

void WebhookJob::start() { thread_ = std::thread([this] { loop(); }); }

void WebhookJob::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void WebhookJob::wake() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        woken_ = true;
    }
    wake_.notify_all();
}

WebhookRun WebhookJob::runOnce() {
    // A bounded number of batches per run: a backlog of thousands is worked off across runs,
    // and stop() is never kept waiting for more than one batch.
    constexpr int kBatchesPerRun = 20;
    WebhookRun total;
    for (int i = 0; i < kBatchesPerRun; ++i) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) break;
        }
        const WebhookRun run = dispatcher_.deliverDue();
        total.claimed += run.claimed;
        total.delivered += run.delivered;
        total.retrying += run.retrying;
        total.failed += run.failed;
        if (run.claimed < dispatcher_.settings().batch) break;
    }
    if (total.failed > 0) {
        out_ << "kooperdoc: webhooks: " << total.failed
             << " delivery(ies) failed for good (see the delivery log; an admin may redeliver)" << std::endl;
    }
    return total;
}

void WebhookJob::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        woken_ = false;
        lock.unlock();
        try {
            runOnce();
        } catch (const Error& e) {
            // The database may be away for a moment: the rows wait, the next poll tries again.
            out_ << "kooperdoc: webhooks: " << e.what() << " [" << e.reason() << "]" << std::endl;
        } catch (const std::exception& e) {
            out_ << "kooperdoc: webhooks: " << e.what() << std::endl;
        }
        lock.lock();
        wake_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
    }
}

}  // namespace kooperdoc::server
