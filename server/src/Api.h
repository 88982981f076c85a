// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the /v1 routes share: the store, the audit log, authentication, sealing and verification
// set-up, limits, metrics. Built once in `kooperdoc serve`, immutable while it runs (the parts
// that change — metrics, rate buckets — guard themselves).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "Router.h"
#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/server/Auth.h"
#include "kooperdoc/server/SigningSetup.h"
#include "kooperdoc/service/DocumentIssuer.h"
#include "kooperdoc/service/RevisionIntake.h"
#include "kooperdoc/signing/Timestamp.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/storage/Retention.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::server {

/// The kooperdoc.http.* limits (config/kooperdoc.properties).
struct HttpLimits {
    std::size_t maxBodyBytes = 20 * 1024 * 1024;
    int maxThreads = 8;         ///< requests worked on at once
    int maxQueued = 32;         ///< requests waiting for a worker; beyond: 503 + Retry-After
    int timeoutSeconds = 30;    ///< socket reads, and the longest wait for a worker
    int rateLimitPerMinute = 600;  ///< per API key, per instance; 0: no limit
    std::size_t maxBatchBytes = 64 * 1024 * 1024;  ///< POST /v1/documents/batch: the whole NDJSON body
    int maxBatchLines = 5000;                       ///< POST /v1/documents/batch: documents per request
};

/// Error{kInvalidArgument, "config.invalid"} for a value out of range.
HttpLimits loadHttpLimits(const Poco::Util::AbstractConfiguration& config);

/// Prometheus text exposition (version 0.0.4) of the service's counters.
class Metrics {
public:
    void observe(const std::string& method, const std::string& route, int status, double seconds);
    void documentCreated() { ++documentsCreated_; }
    std::atomic<int>& inFlight() { return inFlight_; }
    std::string text() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::uint64_t> requests_;  ///< "method|route|status" → count
    static constexpr double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    std::vector<std::uint64_t> bucketCounts_ = std::vector<std::uint64_t>(sizeof kBuckets / sizeof kBuckets[0], 0);
    std::uint64_t durationCount_ = 0;
    double durationSum_ = 0;
    std::atomic<int> inFlight_{0};
    std::atomic<std::uint64_t> documentsCreated_{0};
};

/// A token bucket per API key, in this process's memory: with several instances each allows
/// the rate (docs/api.md says so).
class RateLimiter {
public:
    explicit RateLimiter(int perMinute) : perMinute_(perMinute) {}
    /// 0 when the request may go ahead, else the seconds to wait (Retry-After).
    int take(const std::string& key);

private:
    struct Bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point at;
    };
    int perMinute_;
    std::mutex mutex_;
    std::map<std::string, Bucket> buckets_;
};

/// At most maxThreads requests run; up to maxQueued wait (for timeoutSeconds at most); the rest
/// are answered 503 at once instead of piling up.
class Admission {
public:
    Admission(int slots, int queue) : free_(slots), queue_(queue) {}
    /// false: overloaded (the queue is full, or no slot freed within \p wait).
    bool enter(std::chrono::seconds wait);
    void leave();

private:
    std::mutex mutex_;
    std::condition_variable freed_;
    int free_;
    int queue_;
    int waiting_ = 0;
};

/// JSON lines on stderr: ids, codes, routes and timings only — never a body, a query string or a
/// path with its values (the route pattern stands for it).
class JsonLog {
public:
    explicit JsonLog(std::ostream& out) : out_(out) {}
    void write(const std::map<std::string, std::string>& text, const std::map<std::string, double>& numbers = {});

private:
    std::mutex mutex_;
    std::ostream& out_;
};

class WebhookDispatcher;

struct Api {
    storage::DocumentStore* store = nullptr;
    const storage::RetentionPolicies* retention = nullptr;
    audit::AuditLog* log = nullptr;
    Authenticator* authenticator = nullptr;
    /// The seal; null: documents cannot be created (the service says so, 503).
    const SigningSetup* signing = nullptr;
    verify::VerifyOptions verifyOptions;
    std::shared_ptr<signing::EmbeddedTsa> tsa;
    HttpLimits limits;
    Metrics* metrics = nullptr;
    RateLimiter* rateLimiter = nullptr;
    /// The webhooks' administration (the admin routes); null: those routes answer 503.
    WebhookDispatcher* webhooks = nullptr;
    std::function<std::int64_t()> clock;

    /// Records an event as the request's principal.
    void record(const RequestContext& ctx, const std::string& type, const std::string& documentId = "",
                const std::string& documentSha256 = "", const std::map<std::string, std::string>& details = {}) const;
    service::Actor actor(const RequestContext& ctx) const;
    /// The document in the caller's tenant; Error{kNotFound, "storage.document_unknown"} for one
    /// that does not exist or belongs to another tenant (the same answer: existence is not revealed).
    storage::DocumentRecord document(const RequestContext& ctx, const std::string& id) const;
};

/// Every route of the service (the OpenAPI document lists exactly these).
void addSystemRoutes(Router& router, const Api& api);
void addDocumentRoutes(Router& router, const Api& api);
void addAuditRoutes(Router& router, const Api& api);
void addSubjectRoutes(Router& router, const Api& api);
void addVerifyRoutes(Router& router, const Api& api);
void addAdminRoutes(Router& router, const Api& api);
void addRetentionRoutes(Router& router, const Api& api);
void addSigningRoutes(Router& router, const Api& api);
void addBatchRoutes(Router& router, const Api& api);

/// POST /v1/documents' one code path, which the batch runs for each line: the request object
/// (template, templateVersion, data, caseNumber, subjects) checked, issued, sealed and stored.
/// ValidationError with every violation for bad input; nothing is stored then.
service::IssueResult issueDocument(const Api& api, const RequestContext& ctx, const Poco::JSON::Object::Ptr& body,
                                   const std::string& idempotencyKey);
/// The answer to an issue: {"id", "replayed", "sha256", "subjects", "legal_basis", "archival_duty"}.
Poco::JSON::Object::Ptr issuedJson(const service::IssueResult& result);

/// A person's own PKCS#12, used once for one signature and never stored.
struct Pkcs12Signing {
    std::string field;
    std::string pkcs12;
    std::string password;
    std::string reason, location;
};
struct ServiceSignature {
    service::RevisionIntake intake;
    std::string signedPdf;
};
/// Signs the document's newest revision in \p request.field at the service's PAdES level and
/// stores it through the upload review (POST /v1/documents/{id}/sign and the web UI share it).
/// What the signer sent is 422 with the library's reason (identity.bad_password,
/// signature.field_unknown, …), a field already signed 409.
ServiceSignature signWithPkcs12(const Api& api, const RequestContext& ctx, const std::string& documentId, const Pkcs12Signing& request);
/// A PDF signed in the service (in-service or remote) through the same intake as an uploaded
/// signed copy (review, storage, document.upload_accepted), then document.signed with \p method.
service::RevisionIntake storeServiceSignature(const Api& api, const RequestContext& ctx, const std::string& documentId,
                                              const std::string& signedPdf, const std::string& field, const std::string& method);

/// The router with every route above (the handlers keep a reference to \p api).
Router buildRouter(const Api& api);

/// Role lists for routes.
inline std::vector<Role> roles(std::initializer_list<Role> list) { return list; }

}  // namespace kooperdoc::server
