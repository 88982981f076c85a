// SPDX-License-Identifier: AGPL-3.0-or-later
// The tenant administrator's /v1 routes: the tenant's profile, users, API keys and webhooks with
// their delivery log. Thin over Authenticator, WebhookDispatcher and DocumentStore, the same code
// `kooperdoc admin` runs. Everything is scoped by the caller's tenant: another tenant's user, key
// or webhook is answered exactly like one that does not exist (404). Secrets (a key's secret, a
// one-time password, a webhook's signing secret) appear once, in the answer that makes them, with
// Cache-Control: no-store; the audit log names users and keys by id, never a login.
#include "../Api.h"
#include "../Http.h"
#include "../TenantAdministration.h"
#include "../Webhooks.h"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/service/SubjectExport.h"

namespace kooperdoc::server {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Net::HTTPResponse;

/// Admin bodies are a few fields; a tenant profile is the largest, well under this.
constexpr std::size_t kMaxAdminBody = 64 * 1024;

Poco::Dynamic::Var optionalTime(const std::optional<std::int64_t>& epoch) {
    return epoch ? Poco::Dynamic::Var(service::isoTime(*epoch)) : Poco::Dynamic::Var();
}

Object::Ptr jsonBody(RequestContext& ctx) {
    http::requireMediaType(ctx.request, {"application/json"});
    return http::parseJsonObject(http::readBody(ctx.request, kMaxAdminBody));
}

/// A string member: "" and a violation when required and missing, or when not a string.
std::string stringField(const Object::Ptr& body, const std::string& name, bool required, std::vector<Violation>& violations) {
    if (!body->has(name) || body->get(name).isEmpty()) {
        if (required) violations.push_back({pointerTo(name), "schema.required", "Pole jest wymagane.", name + " is required"});
        return {};
    }
    if (!body->get(name).isString()) {
        violations.push_back({pointerTo(name), "request.type", "Pole musi być tekstem.", name + " must be a string"});
        return {};
    }
    return body->getValue<std::string>(name);
}

/// An input error of the library (kInvalidArgument: a bad role, login, label) as the 422 of the
/// field it came from — the role's for auth.role_unknown, else \p pointer's; anything else goes
/// on as it is.
template <typename F>
auto asViolation(const std::string& pointer, const std::string& messagePl, F&& call) -> decltype(call()) {
    try {
        return call();
    } catch (const ValidationError&) {
        throw;
    } catch (const Error& e) {
        if (e.code() != ErrorCode::kInvalidArgument) throw;
        if (e.reason() == "auth.role_unknown") throw ValidationError({Violation{"/role", e.reason(), "Nieznana rola.", e.what()}});
        throw ValidationError({Violation{pointer, e.reason(), messagePl, e.what()}});
    }
}

void sendSecret(RequestContext& ctx, HTTPResponse::HTTPStatus status, const Object::Ptr& body) {
    // The only copy of a secret: no cache, proxy or browser history may keep it.
    ctx.response.set("Cache-Control", "no-store");
    http::sendJson(ctx.response, status, body);
}

// ------------------------------------------------------------------------------------ tenant

Object::Ptr tenantJson(const storage::TenantRecord& tenant) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("tenant_id", tenant.id);
    Poco::JSON::Parser parser;
    const auto profile = parser.parse(tenant.profileJson.empty() ? std::string("{}") : tenant.profileJson);
    o->set("profile", profile);
    o->set("created_at", service::isoTime(tenant.createdAt));
    return o;
}

void getTenant(const Api& api, RequestContext& ctx) {
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, tenantJson(callersTenant(api, ctx)));
}

/// The profile is checked the way `admin create-tenant --profile` and `tenant put` check it
/// (templates::parseTenantProfile), member by member so every bad member gets its own pointer.
void putTenant(const Api& api, RequestContext& ctx) {
    http::requireMediaType(ctx.request, {"application/json"});
    const auto text = http::readBody(ctx.request, kMaxAdminBody);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, tenantJson(replaceTenantProfile(api, ctx, text)));
}

// ------------------------------------------------------------------------------------- users

Object::Ptr userJson(const storage::UserRecord& user, std::int64_t now) {
    // Never the password hash: it is what an attacker would take offline.
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("id", user.id);
    o->set("login", user.login);
    o->set("role", user.role);
    o->set("disabled", user.disabled);
    o->set("must_change_password", user.mustChangePassword);
    o->set("locked_until", user.lockedUntil && *user.lockedUntil > now ? optionalTime(user.lockedUntil) : Poco::Dynamic::Var());
    o->set("created_at", service::isoTime(user.createdAt));
    return o;
}

void listUsers(const Api& api, RequestContext& ctx) {
    Array::Ptr list = new Array;
    const auto now = api.clock();
    for (const auto& user : api.authenticator->users(ctx.who().tenantId)) list->add(userJson(user, now));
    Object::Ptr answer = new Object;
    answer->set("users", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

void createUser(const Api& api, RequestContext& ctx) {
    const auto body = jsonBody(ctx);
    std::vector<Violation> violations;
    const auto login = stringField(body, "login", true, violations);
    const auto roleText = stringField(body, "role", true, violations);
    if (!violations.empty()) throw ValidationError(violations);
    const auto created = asViolation("/login", "Login ma od 3 do 64 znaków: małe litery a–z, cyfry, '.', '_' i '-'.",
                                     [&] { return server::createUser(api, ctx, login, roleText); });
    auto answer = userJson(created.user, api.clock());
    answer->set("one_time_password", created.oneTimePassword);
    ctx.response.set("Location", "/v1/users/" + created.user.id);
    sendSecret(ctx, HTTPResponse::HTTP_CREATED, answer);
}

void setUserDisabled(const Api& api, RequestContext& ctx, bool disabled) {
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, userJson(server::setUserDisabled(api, ctx, ctx.param("id"), disabled), api.clock()));
}

void resetPassword(const Api& api, RequestContext& ctx) {
    const auto reset = server::resetPassword(api, ctx, ctx.param("id"));
    auto answer = userJson(reset.user, api.clock());
    answer->set("one_time_password", reset.oneTimePassword);
    sendSecret(ctx, HTTPResponse::HTTP_OK, answer);
}

// -------------------------------------------------------------------------------------- keys

Object::Ptr keyJson(const storage::ApiKeyRecord& key, const RequestContext& ctx) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("id", key.id);
    o->set("role", key.role);
    o->set("label", key.label);
    o->set("created_at", service::isoTime(key.createdAt));
    o->set("revoked_at", optionalTime(key.revokedAt));
    o->set("current", ctx.who().actorId == "key:" + key.id);  // the key this request came with
    return o;
}

void listKeys(const Api& api, RequestContext& ctx) {
    Array::Ptr list = new Array;
    for (const auto& key : api.authenticator->apiKeys(ctx.who().tenantId)) list->add(keyJson(key, ctx));
    Object::Ptr answer = new Object;
    answer->set("keys", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

void createKey(const Api& api, RequestContext& ctx) {
    const auto body = jsonBody(ctx);
    std::vector<Violation> violations;
    const auto roleText = stringField(body, "role", true, violations);
    const auto label = stringField(body, "label", false, violations);
    if (!violations.empty()) throw ValidationError(violations);
    const auto created = asViolation("/label", "Etykieta ma najwyżej 200 bajtów i żadnych znaków sterujących.",
                                     [&] { return createApiKey(api, ctx, roleText, label); });
    auto answer = keyJson(created.key, ctx);
    answer->set("secret", created.secret);
    sendSecret(ctx, HTTPResponse::HTTP_CREATED, answer);
}

/// A key cannot revoke itself (409 auth.key_in_use; TenantAdministration.cpp says why).
void revokeKey(const Api& api, RequestContext& ctx) {
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, keyJson(revokeApiKey(api, ctx, ctx.param("id")), ctx));
}

// ---------------------------------------------------------------------------------- webhooks

Object::Ptr webhookJson(const storage::WebhookRecord& webhook) {
    // Never the secret, wrapped or not: it was shown once, at creation.
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("id", webhook.id);
    o->set("url", webhook.url);
    Array::Ptr events = new Array;
    std::stringstream list(webhook.events);
    for (std::string event; std::getline(list, event, ',');) events->add(event);
    o->set("events", events);
    o->set("disabled", webhook.disabled);
    o->set("created_at", service::isoTime(webhook.createdAt));
    return o;
}

void listWebhooks(const Api& api, RequestContext& ctx) {
    Array::Ptr list = new Array;
    for (const auto& webhook : webhookDispatcher(api).webhooks(ctx.who().tenantId)) list->add(webhookJson(webhook));
    Object::Ptr answer = new Object;
    answer->set("webhooks", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

void createWebhook(const Api& api, RequestContext& ctx) {
    const auto body = jsonBody(ctx);
    std::vector<Violation> violations;
    const auto url = stringField(body, "url", true, violations);
    std::vector<std::string> events;
    if (body->has("events") && !body->get("events").isEmpty()) {
        const auto value = body->get("events");
        if (value.type() != typeid(Array::Ptr)) {
            violations.push_back({"/events", "request.type", "Pole musi być tablicą.", "events must be an array"});
        } else {
            const auto list = value.extract<Array::Ptr>();
            for (std::size_t i = 0; i < list->size(); ++i) {
                const auto item = list->get(static_cast<unsigned>(i));
                if (!item.isString()) {
                    violations.push_back({"/events/" + std::to_string(i), "request.type", "Element musi być tekstem.", "must be a string"});
                } else {
                    events.push_back(item.extract<std::string>());
                }
            }
        }
    }
    if (!violations.empty()) throw ValidationError(violations);
    CreatedWebhook created;
    try {
        created = server::createWebhook(api, ctx, url, events);
    } catch (const Error& e) {
        if (e.reason() == "webhook.url_invalid") {
            throw ValidationError({Violation{"/url", e.reason(), "Adres musi mieć postać https://HOST/… bez użytkownika i hasła.", e.what()}});
        }
        if (e.reason() == "webhook.event_unknown") {
            throw ValidationError({Violation{"/events", e.reason(), "Nieznany typ zdarzenia.", e.what()}});
        }
        throw;
    }
    auto answer = webhookJson(created.webhook);
    answer->set("secret", created.secret);
    ctx.response.set("Location", "/v1/webhooks/" + created.webhook.id);
    sendSecret(ctx, HTTPResponse::HTTP_CREATED, answer);
}

void deleteWebhook(const Api& api, RequestContext& ctx) {
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, webhookJson(server::deleteWebhook(api, ctx, ctx.param("id"))));
}

void setWebhookEnabled(const Api& api, RequestContext& ctx, bool enabled) {
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, webhookJson(server::setWebhookEnabled(api, ctx, ctx.param("id"), enabled)));
}

Object::Ptr deliveryJson(const storage::WebhookDelivery& delivery) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("id", delivery.id);
    o->set("webhook_id", delivery.webhookId);
    o->set("event", delivery.eventType);
    o->set("status", delivery.status);
    o->set("attempts", delivery.attempts);
    o->set("next_attempt_at", delivery.status == "pending" ? Poco::Dynamic::Var(service::isoTime(delivery.nextAttemptAt)) : Poco::Dynamic::Var());
    o->set("last_status_code", delivery.lastStatusCode ? Poco::Dynamic::Var(*delivery.lastStatusCode) : Poco::Dynamic::Var());
    o->set("last_error", delivery.lastError.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(delivery.lastError));
    o->set("created_at", service::isoTime(delivery.createdAt));
    o->set("delivered_at", optionalTime(delivery.deliveredAt));
    // The body as sent: identifiers and hashes only (docs/webhooks.md), so it may be shown.
    Poco::JSON::Parser parser;
    o->set("payload", parser.parse(delivery.payload));
    return o;
}

void listDeliveries(const Api& api, RequestContext& ctx) {
    const auto& id = ctx.param("id");
    webhookDispatcher(api);
    tenantWebhook(api, ctx, id);  // 503 and 404 come before a complaint about the limit
    std::size_t limit = 100;
    if (const auto text = ctx.queryValue("limit")) {
        std::size_t used = 0;
        long value = 0;
        try {
            value = std::stol(*text, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != text->size() || value < 1 || value > 1000) {
            throw Error(ErrorCode::kInvalidArgument, "request.limit_invalid", "limit is a number from 1 to 1000");
        }
        limit = static_cast<std::size_t>(value);
    }
    Array::Ptr list = new Array;
    for (const auto& delivery : webhookLog(api, ctx, id, limit).deliveries) list->add(deliveryJson(delivery));
    Object::Ptr answer = new Object;
    answer->set("deliveries", list);
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, answer);
}

void redeliver(const Api& api, RequestContext& ctx) {
    http::sendJson(ctx.response, HTTPResponse::HTTP_OK, deliveryJson(server::redeliver(api, ctx, ctx.param("id"), ctx.param("delivery"))));
}

}  // namespace

void addAdminRoutes(Router& router, const Api& api) {
    const auto admin = roles({Role::kAdmin});
    router.add("GET", "/v1/tenant", roles({Role::kDpo}), [&api](RequestContext& ctx) { getTenant(api, ctx); });
    router.add("PUT", "/v1/tenant", admin, [&api](RequestContext& ctx) { putTenant(api, ctx); });

    router.add("GET", "/v1/users", admin, [&api](RequestContext& ctx) { listUsers(api, ctx); });
    router.add("POST", "/v1/users", admin, [&api](RequestContext& ctx) { createUser(api, ctx); });
    router.add("POST", "/v1/users/{id}/disable", admin, [&api](RequestContext& ctx) { setUserDisabled(api, ctx, true); });
    router.add("POST", "/v1/users/{id}/enable", admin, [&api](RequestContext& ctx) { setUserDisabled(api, ctx, false); });
    router.add("POST", "/v1/users/{id}/reset-password", admin, [&api](RequestContext& ctx) { resetPassword(api, ctx); });

    router.add("GET", "/v1/keys", admin, [&api](RequestContext& ctx) { listKeys(api, ctx); });
    router.add("POST", "/v1/keys", admin, [&api](RequestContext& ctx) { createKey(api, ctx); });
    router.add("DELETE", "/v1/keys/{id}", admin, [&api](RequestContext& ctx) { revokeKey(api, ctx); });

    router.add("GET", "/v1/webhooks", admin, [&api](RequestContext& ctx) { listWebhooks(api, ctx); });
    router.add("POST", "/v1/webhooks", admin, [&api](RequestContext& ctx) { createWebhook(api, ctx); });
    router.add("DELETE", "/v1/webhooks/{id}", admin, [&api](RequestContext& ctx) { deleteWebhook(api, ctx); });
    router.add("POST", "/v1/webhooks/{id}/enable", admin, [&api](RequestContext& ctx) { setWebhookEnabled(api, ctx, true); });
    router.add("POST", "/v1/webhooks/{id}/disable", admin, [&api](RequestContext& ctx) { setWebhookEnabled(api, ctx, false); });
    router.add("GET", "/v1/webhooks/{id}/deliveries", admin, [&api](RequestContext& ctx) { listDeliveries(api, ctx); });
    router.add("POST", "/v1/webhooks/{id}/deliveries/{delivery}/redeliver", admin,
               [&api](RequestContext& ctx) { redeliver(api, ctx); });
}

}  // namespace kooperdoc::server
