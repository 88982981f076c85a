// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/server/Server.h"

#include "Api.h"
#include "CheckpointJob.h"
#include "FirstAdmin.h"
#include "Http.h"
#include "OpenApi.h"
#include "RetentionJob.h"
#include "Webhooks.h"
#include "Router.h"
#include "kooperdoc/server/StorageSetup.h"
#include "web/Web.h"

#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/server/Auth.h"
#include "kooperdoc/storage/Keys.h"
#include "kooperdoc/verify/Verifier.h"
#include "kooperdoc/server/SigningSetup.h"
#include "kooperdoc/signing/Timestamp.h"
#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::server {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

std::int64_t wallClock() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// A client's X-Request-Id when it is a plain token (it reaches our logs), else a new one.
std::string requestIdOf(const HTTPServerRequest& request) {
    const auto given = request.get("X-Request-Id", "");
    bool ok = !given.empty() && given.size() <= 64;
    for (const char c : given) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    return ok ? given : storage::randomId();
}

std::map<std::string, std::string> queryOf(const std::string& uri) {
    std::map<std::string, std::string> query;
    try {
        for (const auto& [name, value] : Poco::URI(uri).getQueryParameters()) query[name] = value;
    } catch (const Poco::Exception&) {
        throw Error(ErrorCode::kInvalidArgument, "request.uri_invalid", "the query string cannot be decoded");
    }
    return query;
}

/// What every handler thread shares.
struct Services {
    Api api;
    Router router;
    Router webRouter;  ///< the Polish web UI: session cookies, HTML answers (web/Web.h)
    Authenticator* authenticator = nullptr;
    Admission* admission = nullptr;
    RateLimiter* rateLimiter = nullptr;
    Metrics* metrics = nullptr;
    JsonLog* log = nullptr;
};

class ApiHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit ApiHandler(const Services& services) : services_(services) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        const auto started = std::chrono::steady_clock::now();
        ++services_.metrics->inFlight();
        RequestContext ctx{request, response, requestIdOf(request), {}, {}, std::nullopt, std::nullopt};
        response.set("X-Request-Id", ctx.requestId);
        std::string routePattern = "unmatched";
        std::string errorCode;
        bool admitted = false;
        bool page = false;  ///< a web UI route: failures answer with a page, not JSON
        try {
            if (!services_.admission->enter(std::chrono::seconds(services_.api.limits.timeoutSeconds))) {
                response.set("Retry-After", "1");
                throw Error(ErrorCode::kUnavailable, "server.overloaded", "too many requests in progress; retry later");
            }
            admitted = true;
            dispatch(ctx, routePattern, page);
        } catch (const MethodNotAllowed& e) {
            http::discardBody(request, response, services_.api.limits.maxBodyBytes);
            errorCode = "method.not_allowed";
            response.set("Allow", e.allow);
            http::sendError(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, errorCode, "Metoda niedozwolona dla tego zasobu.",
                            "method not allowed here; see Allow");
        } catch (const Error& e) {
            errorCode = e.reason();
            if (http::statusFor(e.code()) == HTTPResponse::HTTP_INTERNAL_SERVER_ERROR) logFailure(ctx, routePattern, e.reason(), e.what());
            sendIfPossible(response, [&] {
                // Even a body that is too large is read (up to twice the limit) before the 413:
                // closing on unread bytes resets the connection and the client never sees why.
                const auto limit = services_.api.limits.maxBodyBytes;
                http::discardBody(request, response, e.code() == ErrorCode::kPayloadTooLarge ? 2 * limit : limit);
                if (page) {
                    web::sendError(ctx, e);
                } else {
                    http::sendError(response, e);
                }
            });
        } catch (const std::exception& e) {
            errorCode = "internal";
            logFailure(ctx, routePattern, "internal", e.what());
            sendIfPossible(response, [&] {
                http::sendError(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal", "Błąd wewnętrzny.", "Internal error.");
            });
        }
        if (admitted) services_.admission->leave();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const int status = static_cast<int>(response.getStatus());
        services_.metrics->observe(request.getMethod(), routePattern, status, seconds);
        --services_.metrics->inFlight();
        std::map<std::string, std::string> line{{"level", "info"},
                                                {"msg", "request"},
                                                {"request_id", ctx.requestId},
                                                {"method", request.getMethod()},
                                                {"route", routePattern},
                                                {"status", std::to_string(status)}};
        if (!errorCode.empty()) line["error"] = errorCode;
        if (ctx.principal) {
            line["tenant"] = ctx.principal->tenantId;
            line["actor"] = ctx.principal->actorId;
        }
        services_.log->write(line, {{"duration_ms", seconds * 1000.0}});
    }

private:
    struct MethodNotAllowed {
        std::string allow;
    };

    const Services& services_;

    void dispatch(RequestContext& ctx, std::string& routePattern, bool& page) {
        const auto& uri = ctx.request.getURI();
        const auto path = uri.substr(0, uri.find('?'));
        const auto matchIn = [&](const Router& router) {
            auto found = router.match(ctx.request.getMethod(), path);
            if (found.route == nullptr && ctx.request.getMethod() == "HEAD") found = router.match("GET", path);
            return found;
        };
        auto match = matchIn(services_.router);
        if (match.allowed.empty()) {
            match = matchIn(services_.webRouter);
            page = !match.allowed.empty();
        }
        if (match.allowed.empty()) throw Error(ErrorCode::kNotFound, "route.unknown", "no such resource");
        if (match.route == nullptr) {
            std::string allow;
            for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
            throw MethodNotAllowed{allow};
        }
        const auto& route = *match.route;
        routePattern = route.pattern;
        ctx.params = std::move(match.params);
        ctx.query = queryOf(uri);
        if (!route.roles.empty()) {
            if (page) {
                web::authenticate(ctx, *services_.authenticator, wallClock());
                // A one-time password is changed before anything else is done with the account.
                if (ctx.session->mustChangePassword && route.pattern != "/haslo" && route.pattern != "/wyloguj") {
                    throw Error(ErrorCode::kFailedPrecondition, "auth.password_change_required", "change the one-time password first");
                }
            } else {
                authenticate(ctx);
            }
            if (!allows(route, ctx.who().role)) {
                throw Error(ErrorCode::kPermissionDenied, "auth.forbidden",
                            std::string("the role ") + toString(ctx.who().role) + " may not use " + route.method + " " + route.pattern);
            }
            if (const int wait = services_.rateLimiter->take(ctx.who().actorId); wait > 0) {
                ctx.response.set("Retry-After", std::to_string(wait));
                throw Error(ErrorCode::kResourceExhausted, "rate.limited", "too many requests for this API key; retry later");
            }
        }
        route.handler(ctx);
    }

    void authenticate(RequestContext& ctx) {
        const auto header = ctx.request.get("Authorization", "");
        const std::string scheme = "Bearer ";
        if (header.size() <= scheme.size() || Poco::icompare(header.substr(0, scheme.size()), scheme) != 0) {
            ctx.response.set("WWW-Authenticate", "Bearer realm=\"kooperdoc\"");
            throw Error(ErrorCode::kUnauthenticated, "auth.missing", "send Authorization: Bearer <API key>");
        }
        try {
            ctx.principal = services_.authenticator->authenticateApiKey(Poco::trim(header.substr(scheme.size())), wallClock());
        } catch (const Error& e) {
            if (e.code() == ErrorCode::kUnauthenticated) ctx.response.set("WWW-Authenticate", "Bearer realm=\"kooperdoc\", error=\"invalid_token\"");
            throw;
        }
    }

    template <typename Send>
    static void sendIfPossible(HTTPServerResponse& response, Send send) {
        // A handler that failed after it began its answer cannot start another one.
        if (response.sent()) return;
        send();
    }

    void logFailure(const RequestContext& ctx, const std::string& route, const std::string& code, const std::string& what) {
        // The message of an internal failure names files or hosts, not people: handlers never
        // put request data into exceptions they do not expect.
        services_.log->write({{"level", "error"}, {"msg", "request_failed"}, {"request_id", ctx.requestId}, {"route", route},
                              {"error", code}, {"detail", what}});
    }
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit HandlerFactory(const Services& services) : services_(services) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
        return new ApiHandler(services_);
    }

private:
    const Services& services_;
};

int intSetting(const Poco::Util::AbstractConfiguration& config, const std::string& key, int fallback, int minimum) {
    int value = fallback;
    try {
        value = config.getInt(key, fallback);
    } catch (const Poco::Exception&) {
        throw Error(ErrorCode::kInvalidArgument, "config.invalid", key + " must be a whole number");
    }
    if (value < minimum) throw Error(ErrorCode::kInvalidArgument, "config.invalid", key + " must be at least " + std::to_string(minimum));
    return value;
}

}  // namespace

HttpLimits loadHttpLimits(const Poco::Util::AbstractConfiguration& config) {
    HttpLimits limits;
    limits.maxBodyBytes = static_cast<std::size_t>(intSetting(config, "kooperdoc.http.max_body_bytes", static_cast<int>(limits.maxBodyBytes), 1024));
    limits.maxThreads = intSetting(config, "kooperdoc.http.max_threads", limits.maxThreads, 1);
    limits.maxQueued = intSetting(config, "kooperdoc.http.max_queued", limits.maxQueued, 0);
    limits.timeoutSeconds = intSetting(config, "kooperdoc.http.timeout_seconds", limits.timeoutSeconds, 1);
    limits.rateLimitPerMinute = intSetting(config, "kooperdoc.http.rate_limit_per_minute", limits.rateLimitPerMinute, 0);
    limits.maxBatchBytes = static_cast<std::size_t>(intSetting(config, "kooperdoc.http.max_batch_bytes", static_cast<int>(limits.maxBatchBytes), 1024));
    limits.maxBatchLines = intSetting(config, "kooperdoc.http.max_batch_lines", limits.maxBatchLines, 1);
    return limits;
}

namespace {

/// kooperdoc.verify.trust, plus the development CA when the seal is the development identity
/// (so the service's own documents verify in development).
std::vector<std::string> trustAnchors(const Poco::Util::AbstractConfiguration& config, const SigningSetup& signing) {
    std::vector<std::string> files;
    Poco::StringTokenizer list(config.getString("kooperdoc.verify.trust", ""), ",",
                               Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    files.assign(list.begin(), list.end());
    if (signing.development) files.push_back(signing.identityDir + "/ca.pem");
    std::vector<std::string> anchors;
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw Error(ErrorCode::kNotFound, "file.unreadable", "cannot read trust anchor " + file);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        for (auto& der : verify::certificatesFromPemOrDer(bytes.str())) anchors.push_back(std::move(der));
    }
    return anchors;
}

class KooperdocServer : public Poco::Util::ServerApplication {
protected:
    void defineOptions(Poco::Util::OptionSet& options) override {
        ServerApplication::defineOptions(options);
        options.addOption(Poco::Util::Option("help", "h", "describe the options").required(false).repeatable(false)
                              .callback(Poco::Util::OptionCallback<KooperdocServer>(this, &KooperdocServer::showHelp)));
        options.addOption(Poco::Util::Option("port", "p", "TCP port (default 8080)").required(false)
                              .repeatable(false).argument("N").binding("kooperdoc.http.port"));
        options.addOption(Poco::Util::Option("config", "c", "settings file (see config/kooperdoc.properties)")
                              .required(false).repeatable(false).argument("FILE")
                              .callback(Poco::Util::OptionCallback<KooperdocServer>(this, &KooperdocServer::loadConfig)));
        options.addOption(Poco::Util::Option("data-dir", "d", "keep the database, blobs and keys in DIR (like the storage commands)")
                              .required(false).repeatable(false).argument("DIR")
                              .callback(Poco::Util::OptionCallback<KooperdocServer>(this, &KooperdocServer::setDataDir)));
        options.addOption(Poco::Util::Option("bind", "b", "address to listen on (default 127.0.0.1)")
                              .required(false).repeatable(false).argument("ADDRESS").binding("kooperdoc.http.bind"));
    }

    void loadConfig(const std::string&, const std::string& path) {
        // Below the command line's own priority, so --port still wins over the file.
        loadConfiguration(path, Poco::Util::Application::PRIO_DEFAULT);
    }

    void showHelp(const std::string&, const std::string&) {
        Poco::Util::HelpFormatter formatter(options());
        formatter.setCommand("kooperdoc serve");
        formatter.setUsage("[options]");
        formatter.setHeader("Runs the Kooperdoc HTTP service: the /v1 REST API (docs/api.md, GET /openapi.json), /healthz, /readyz, /metrics.");
        formatter.format(std::cout);
        helpRequested_ = true;
        stopOptionsProcessing();
    }

    int main(const std::vector<std::string>&) override {
        if (helpRequested_) return EXIT_OK;
        const auto port = static_cast<Poco::UInt16>(config().getUInt("kooperdoc.http.port", 8080));
        const auto bind = config().getString("kooperdoc.http.bind", "127.0.0.1");
        templates::Catalog::builtIn();  // load and check every template before accepting requests
        openApiDocument();
        const auto limits = loadHttpLimits(config());
        const auto signing = loadSigningSetup(config(), {}, std::cerr, wallClock());
        // The store opens (and migrates) before the first request, so a bad database or key
        // stops the service at start-up instead of failing requests later.
        StorageOverrides overrides;
        if (!dataDir_.empty()) overrides.dataDir = dataDir_;
        const StorageSetup storageSetup = loadStorageSetup(config(), overrides);
        auto store = openDocumentStore(storageSetup, std::cerr);
        // Entries the service records wait for a TSA only every N entries and in background jobs, so
        // it can afford the usual HTTP timeout.
        audit::AuditLog auditLog(store->repository().auditStore(), loadAuditSigner(storageSetup, std::cerr),
                                 storageSetup.auditCheckpointEvery,
                                 auditTimestamper(storageSetup, std::chrono::seconds(10)));
        // Webhooks follow the audit log: every event it records that a source system cares about
        // is queued in the database (nothing acknowledged is lost) and sent by the job.
        const WebhookSettings webhookSettings = loadWebhookSettings(config());
        WebhookDispatcher webhooks(*store, webhookSettings, [] { return wallClock(); });
        auditLog.setObserver(webhooks.auditObserver());
        std::unique_ptr<WebhookJob> webhookJob;
        if (webhookSettings.pollInterval.count() > 0) {
            webhookJob = std::make_unique<WebhookJob>(webhooks, webhookSettings.pollInterval, std::cerr);
            webhooks.setOnQueued([job = webhookJob.get()] { job->wake(); });
        }
        Authenticator authenticator(store->repository(), loadAuthPolicy(config()));
        if (config().getBool("kooperdoc.bootstrap.first_admin", true)) {
            const auto first = createFirstAdmin(*store, authenticator, auditLog, config().getString("kooperdoc.bootstrap.tenant", "default"),
                                                config().getString("kooperdoc.bootstrap.admin_login", "admin"), wallClock());
            if (first) {
                // On stdout, before "listening on": the README's run command shows it to the person starting it.
                std::cout << "kooperdoc: first administrator \"" << first->login << "\" (tenant " << first->tenantId
                          << "), one-time password: " << first->oneTimePassword << "\n"
                          << "kooperdoc: the password is shown only now; log in at /logowanie and set your own" << std::endl;
            }
        }
        Metrics metrics;
        RateLimiter rateLimiter(limits.rateLimitPerMinute);
        Admission admission(limits.maxThreads, limits.maxQueued);
        JsonLog jsonLog(std::cerr);

        Services services;
        services.api.store = store.get();
        services.api.retention = storageSetup.retention.get();
        services.api.log = &auditLog;
        services.api.authenticator = &authenticator;
        services.api.signing = &signing;
        services.api.verifyOptions.trustAnchorsDer = trustAnchors(config(), signing);
        services.api.tsa = signing.embeddedTsa;
        services.api.limits = limits;
        services.api.metrics = &metrics;
        services.api.rateLimiter = &rateLimiter;
        services.api.webhooks = &webhooks;
        services.api.clock = wallClock;
        services.router = buildRouter(services.api);
        services.webRouter = web::buildWebRouter(services.api);
        services.authenticator = &authenticator;
        services.admission = &admission;
        services.rateLimiter = &rateLimiter;
        services.metrics = &metrics;
        services.log = &jsonLog;

        std::unique_ptr<CheckpointJob> checkpointJob;
        if (storageSetup.auditCheckpointInterval > 0) {
            checkpointJob = std::make_unique<CheckpointJob>(
                auditLog, std::chrono::seconds(storageSetup.auditCheckpointInterval), std::cerr);
        }
        std::unique_ptr<RetentionJob> retentionJob;
        if (const auto interval = config().getInt64("kooperdoc.retention.sweep_interval", 86400); interval > 0) {
            retentionJob = std::make_unique<RetentionJob>(*store, *storageSetup.retention, std::chrono::seconds(interval), std::cerr,
                                                          &auditLog, [] { return wallClock(); });
        }
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(bind, port));
        // Poco's pool takes the workers and the waiting room: Admission decides who works and
        // answers 503 to the rest, which Poco itself would only drop.
        const int poolSize = limits.maxThreads + limits.maxQueued + 2;
        // Each listener owns its parameters (a reference-counted object that must not be shared raw).
        const auto serverParams = [&] {
            Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
            params->setMaxThreads(poolSize);
            params->setMaxQueued(poolSize);
            params->setTimeout(Poco::Timespan(limits.timeoutSeconds, 0));
            params->setKeepAliveTimeout(Poco::Timespan(5, 0));
            return params;
        };
        auto secureSocket = secureServerSocket(bind);
        Poco::ThreadPool pool(2, secureSocket ? 2 * poolSize : poolSize);
        Poco::Net::HTTPServer server(new HandlerFactory(services), pool, socket, serverParams());
        server.start();
        std::unique_ptr<Poco::Net::HTTPServer> secureServer;
        if (secureSocket) {
            secureServer = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(services), pool, *secureSocket, serverParams());
            secureServer->start();
        }
        // Port 0 lets the system choose; print the real one so scripts and tests can find it.
        const std::string host = bind == "0.0.0.0" ? "localhost" : bind;
        std::cout << "kooperdoc: listening on http://" << host << ":" << socket.address().port() << std::endl;
        if (secureSocket) std::cout << "kooperdoc: listening on https://" << host << ":" << secureSocket->address().port() << std::endl;
        jsonLog.write({{"level", "info"}, {"msg", "listening"}, {"port", std::to_string(socket.address().port())}});
        if (retentionJob) retentionJob->start();
        if (checkpointJob) checkpointJob->start();
        if (webhookJob) webhookJob->start();
        waitForTerminationRequest();
        if (retentionJob) retentionJob->stop();
        if (checkpointJob) checkpointJob->stop();
        // Stop accepting, then let in-flight requests finish (bounded by the request timeout)
        // before the store and the log they use go away.
        server.stop();
        if (secureServer) secureServer->stop();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limits.timeoutSeconds);
        while (metrics.inFlight().load() > 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        server.stopAll(true);
        if (secureServer) secureServer->stopAll(true);
        pool.joinAll();
        // No request can queue a delivery any more: the job may stop (what is queued stays queued).
        auditLog.setObserver({});
        if (webhookJob) webhookJob->stop();
        jsonLog.write({{"level", "info"}, {"msg", "stopped"}});
        return EXIT_OK;
    }

private:
    bool helpRequested_ = false;

    /// The HTTPS listener of kooperdoc.https.* (none when kooperdoc.https.port is not set): TLS 1.2
    /// or newer with the configured certificate chain and key (PEM).
    std::unique_ptr<Poco::Net::SecureServerSocket> secureServerSocket(const std::string& bind) {
        if (!config().has("kooperdoc.https.port")) return nullptr;
        const auto port = static_cast<Poco::UInt16>(intSetting(config(), "kooperdoc.https.port", 0, 0));
        const auto certificate = config().getString("kooperdoc.https.certificate", "");
        const auto key = config().getString("kooperdoc.https.private_key", "");
        if (certificate.empty() || key.empty()) {
            throw Error(ErrorCode::kInvalidArgument, "config.invalid",
                        "kooperdoc.https.port needs kooperdoc.https.certificate and kooperdoc.https.private_key");
        }
        try {
            Poco::Net::initializeSSL();
            Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key, certificate, "",
                                                                     Poco::Net::Context::VERIFY_NONE, 9, false,
                                                                     "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES");
            context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
            context->enableSessionCache(true, "kooperdoc");
            return std::make_unique<Poco::Net::SecureServerSocket>(Poco::Net::SocketAddress(bind, port), 64, context);
        } catch (const Poco::Exception& e) {
            throw Error(ErrorCode::kInvalidArgument, "config.invalid", "the HTTPS listener cannot start: " + e.displayText());
        }
    }
    std::string dataDir_;

    void setDataDir(const std::string&, const std::string& dir) { dataDir_ = dir; }
};

}  // namespace

int runServer(int argc, char** argv) {
    KooperdocServer app;
    return app.run(argc, argv);
}

}  // namespace kooperdoc::server
