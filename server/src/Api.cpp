// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Api.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {

void Metrics::observe(const std::string& method, const std::string& route, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[method + "|" + route + "|" + std::to_string(status)];
    for (std::size_t i = 0; i < bucketCounts_.size(); ++i) {
        if (seconds <= kBuckets[i]) ++bucketCounts_[i];
    }
    ++durationCount_;
    durationSum_ += seconds;
}

std::string Metrics::text() const {
    std::ostringstream out;
    std::lock_guard<std::mutex> lock(mutex_);
    out << "# HELP kooperdoc_http_requests_total HTTP requests by method, route pattern and status.\n"
        << "# TYPE kooperdoc_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
        const auto first = key.find('|');
        const auto second = key.find('|', first + 1);
        out << "kooperdoc_http_requests_total{method=\"" << key.substr(0, first) << "\",route=\""
            << key.substr(first + 1, second - first - 1) << "\",status=\"" << key.substr(second + 1) << "\"} " << count << "\n";
    }
    out << "# HELP kooperdoc_http_request_duration_seconds Time from the request line to the last byte of the answer.\n"
        << "# TYPE kooperdoc_http_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < bucketCounts_.size(); ++i) {
        out << "kooperdoc_http_request_duration_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << bucketCounts_[i] << "\n";
    }
    out << "kooperdoc_http_request_duration_seconds_bucket{le=\"+Inf\"} " << durationCount_ << "\n"
        << "kooperdoc_http_request_duration_seconds_sum " << std::fixed << std::setprecision(6) << durationSum_ << "\n"
        << "kooperdoc_http_request_duration_seconds_count " << durationCount_ << "\n";
    out << "# HELP kooperdoc_http_requests_in_flight Requests being worked on or waiting for a worker.\n"
        << "# TYPE kooperdoc_http_requests_in_flight gauge\n"
        << "kooperdoc_http_requests_in_flight " << inFlight_.load() << "\n";
    out << "# HELP kooperdoc_documents_created_total Documents issued (sealed and stored) by this instance.\n"
        << "# TYPE kooperdoc_documents_created_total counter\n"
        << "kooperdoc_documents_created_total " << documentsCreated_.load() << "\n";
    return out.str();
}

int RateLimiter::take(const std::string& key) {
    if (perMinute_ <= 0) return 0;
    const auto now = std::chrono::steady_clock::now();
    const double perSecond = perMinute_ / 60.0;
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(perMinute_), now});
    auto& bucket = it->second;
    if (!inserted) {
        const double elapsed = std::chrono::duration<double>(now - bucket.at).count();
        bucket.tokens = std::min(static_cast<double>(perMinute_), bucket.tokens + elapsed * perSecond);
        bucket.at = now;
    }
    if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
    }
    return std::max(1, static_cast<int>(std::ceil((1 - bucket.tokens) / perSecond)));
}

bool Admission::enter(std::chrono::seconds wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (free_ > 0) {
        --free_;
        return true;
    }
    if (waiting_ >= queue_) return false;
    ++waiting_;
    const bool got = freed_.wait_for(lock, wait, [&] { return free_ > 0; });
    --waiting_;
    if (!got) return false;
    --free_;
    return true;
}

void Admission::leave() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++free_;
    }
    freed_.notify_one();
}

void JsonLog::write(const std::map<std::string, std::string>& text, const std::map<std::string, double>& numbers) {
    Poco::JSON::Object line(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& [k, v] : text) line.set(k, v);
    for (const auto& [k, v] : numbers) line.set(k, v);
    std::ostringstream out;
    line.stringify(out);
    std::lock_guard<std::mutex> lock(mutex_);
    out_ << out.str() << std::endl;
}

service::Actor Api::actor(const RequestContext& ctx) const {
    return {ctx.who().actorId, toString(ctx.who().role)};
}

void Api::record(const RequestContext& ctx, const std::string& type, const std::string& documentId, const std::string& documentSha256,
                 const std::map<std::string, std::string>& details) const {
    audit::AuditEvent event;
    event.time = clock();
    event.tenantId = ctx.who().tenantId;
    event.actorId = ctx.who().actorId;
    event.actorRole = toString(ctx.who().role);
    event.type = type;
    event.documentId = documentId;
    event.documentSha256 = documentSha256;
    event.details = details;
    log->record(event);
}

storage::DocumentRecord Api::document(const RequestContext& ctx, const std::string& id) const {
    const auto record = store->repository().document(ctx.who().tenantId, id);
    if (!record) throw Error(ErrorCode::kNotFound, "storage.document_unknown", "no document " + id + " in this tenant");
    return *record;
}

Router buildRouter(const Api& api) {
    Router router;
    addSystemRoutes(router, api);
    addDocumentRoutes(router, api);
    addAuditRoutes(router, api);
    addSubjectRoutes(router, api);
    addVerifyRoutes(router, api);
    addAdminRoutes(router, api);
    addRetentionRoutes(router, api);
    addSigningRoutes(router, api);
    addBatchRoutes(router, api);
    return router;
}

}  // namespace kooperdoc::server
