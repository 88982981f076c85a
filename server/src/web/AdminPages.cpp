// SPDX-License-Identifier: AGPL-3.0-or-later
// The administrator's pages: users, API keys, the tenant's RODO settings, webhooks with their
// delivery log. The same library calls and audit events as the admin API (routes/AdminRoutes.cpp),
// scoped by the caller's tenant: another tenant's user, key or webhook is answered like one that
// does not exist. A secret (one-time password, key, webhook signing secret) is shown once, on the
// page that answers the POST that made it — never in a URL, where history and logs would keep it.
#include "PageRoutes.h"
#include "Pages.h"

#include <algorithm>
#include <sstream>

#include <Poco/JSON/Object.h>

#include "../Http.h"
#include "../TenantAdministration.h"
#include "../Webhooks.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/templates/TenantProfiles.h"

namespace kooperdoc::server::web {
namespace {

using Poco::Net::HTTPResponse;

/// Admin forms are a few short fields; the tenant profile is the largest.
constexpr std::size_t kFormLimit = 64 * 1024;

/// The roles a person may be given (intake is a system's role: it has keys, not logins).
const std::vector<Role>& userRoles() {
    static const std::vector<Role> list{Role::kAnimator, Role::kAuditor, Role::kDpo, Role::kAdmin};
    return list;
}
const std::vector<Role>& keyRoles() {
    static const std::vector<Role> list{Role::kIntake, Role::kAnimator, Role::kAuditor, Role::kDpo, Role::kAdmin};
    return list;
}

mustache::data roleOptions(const std::vector<Role>& list) {
    mustache::data options{mustache::data::type::list};
    for (const auto role : list) {
        mustache::data option;
        option.set("value", toString(role));
        option.set("label", roleName(toString(role)));
        options.push_back(option);
    }
    return options;
}

mustache::data fact(const std::string& label, const std::string& value) {
    mustache::data f;
    f.set("label", label);
    f.set("value", value);
    return f;
}

/// The one page a secret is ever shown on (sendHtml sends it with Cache-Control: no-store).
struct SecretPage {
    std::string title, heading, secretLabel, secret, note, back, backLabel;
    std::vector<std::pair<std::string, std::string>> facts;
};

void sendSecretPage(RequestContext& ctx, const SecretPage& page, HTTPResponse::HTTPStatus status) {
    mustache::data data;
    data.set("heading", page.heading);
    mustache::data facts{mustache::data::type::list};
    for (const auto& [label, value] : page.facts) facts.push_back(fact(label, value));
    data.set("facts", facts);
    data.set("secretLabel", page.secretLabel);
    data.set("secret", page.secret);
    data.set("note", page.note);
    data.set("back", page.back);
    data.set("backLabel", page.backLabel);
    sendHtml(ctx, renderPage(ctx, "one-time-secret", page.title, data), status);
}

// ------------------------------------------------------------------------------------- users

void usersPage(const Api& api, RequestContext& ctx, const std::string& error = "", const std::string& login = "",
               HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK) {
    const auto now = api.clock();
    mustache::data rows{mustache::data::type::list};
    for (const auto& user : api.authenticator->users(ctx.who().tenantId)) {
        mustache::data row;
        row.set("id", user.id);
        row.set("login", user.login);
        row.set("role", roleName(user.role));
        if (user.disabled) {
            row.set("state", "wyłączone");
        } else if (user.lockedUntil && *user.lockedUntil > now) {
            row.set("state", "zablokowane do " + displayTime(*user.lockedUntil));
        } else {
            row.set("state", "aktywne");
        }
        row.set("disabled", user.disabled);
        row.set("mustChange", user.mustChangePassword);
        row.set("created", displayTime(user.createdAt));
        // An administrator cannot switch off their own account (the API refuses it too).
        row.set("self", ctx.who().actorId == "user:" + user.id);
        rows.push_back(row);
    }
    mustache::data data;
    data.set("users", rows);
    data.set("roles", roleOptions(userRoles()));
    data.set("login", login);
    if (!error.empty()) data.set("error", error);
    sendHtml(ctx, renderPage(ctx, "admin-users", "Użytkownicy", data), status);
}

void createUser(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, kFormLimit);
    const auto login = form.field("login");
    UserWithPassword created;
    try {
        created = server::createUser(api, ctx, login, form.field("role"));
    } catch (const Error& e) {
        if (e.reason() == "auth.login_taken") {
            usersPage(api, ctx, "Ten login jest już zajęty.", login, HTTPResponse::HTTP_CONFLICT);
            return;
        }
        if (e.code() != ErrorCode::kInvalidArgument) throw;
        usersPage(api, ctx,
                  e.reason() == "auth.role_unknown" ? "Wybierz rolę z listy."
                                                    : "Login ma od 3 do 64 znaków: małe litery a–z, cyfry, „.”, „_” i „-”.",
                  login, HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
        return;
    }
    sendSecretPage(ctx,
                   {"Nowe konto", "Utworzono konto", "Hasło jednorazowe", created.oneTimePassword,
                    "Hasło jest pokazywane tylko ten jeden raz i nigdzie nie jest zapisane. Przekaż je osobie bezpiecznym kanałem; "
                    "przy pierwszym logowaniu musi ustawić własne hasło.",
                    "/admin/uzytkownicy", "Wróć do listy użytkowników",
                    {{"Login", login}, {"Rola", roleName(created.user.role)}}},
                   HTTPResponse::HTTP_CREATED);
}

void setUserDisabled(const Api& api, RequestContext& ctx, bool disabled) {
    readForm(ctx, kFormLimit);
    server::setUserDisabled(api, ctx, ctx.param("id"), disabled);
    redirect(ctx, std::string("/admin/uzytkownicy?komunikat=") + (disabled ? "konto-wylaczone" : "konto-wlaczone"));
}

void resetPassword(const Api& api, RequestContext& ctx) {
    readForm(ctx, kFormLimit);
    const auto reset = server::resetPassword(api, ctx, ctx.param("id"));
    const auto& user = reset.user;
    sendSecretPage(ctx,
                   {"Nowe hasło jednorazowe", "Ustawiono nowe hasło jednorazowe", "Hasło jednorazowe", reset.oneTimePassword,
                    "Hasło jest pokazywane tylko ten jeden raz. Dotychczasowe sesje tej osoby zakończono; przy następnym "
                    "logowaniu musi ustawić własne hasło.",
                    "/admin/uzytkownicy", "Wróć do listy użytkowników", {{"Login", user.login}, {"Rola", roleName(user.role)}}},
                   HTTPResponse::HTTP_OK);
}

// -------------------------------------------------------------------------------------- keys

void keysPage(const Api& api, RequestContext& ctx, const std::string& error = "", const std::string& label = "",
              HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK) {
    mustache::data rows{mustache::data::type::list};
    for (const auto& key : api.authenticator->apiKeys(ctx.who().tenantId)) {
        mustache::data row;
        row.set("id", key.id);
        row.set("role", roleName(key.role));
        row.set("label", key.label);
        row.set("created", displayTime(key.createdAt));
        if (key.revokedAt) row.set("revoked", displayTime(*key.revokedAt));
        rows.push_back(row);
    }
    mustache::data data;
    data.set("keys", rows);
    data.set("roles", roleOptions(keyRoles()));
    data.set("label", label);
    if (!error.empty()) data.set("error", error);
    sendHtml(ctx, renderPage(ctx, "admin-keys", "Klucze API", data), status);
}

void createKey(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, kFormLimit);
    const auto label = form.field("label");
    KeyWithSecret created;
    try {
        created = createApiKey(api, ctx, form.field("role"), label);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::kInvalidArgument) throw;
        keysPage(api, ctx,
                 e.reason() == "auth.role_unknown" ? "Wybierz rolę z listy." : "Opis ma najwyżej 200 bajtów i żadnych znaków sterujących.",
                 label, HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
        return;
    }
    sendSecretPage(ctx,
                   {"Nowy klucz API", "Utworzono klucz API", "Klucz", created.secret,
                    "Klucz jest pokazywany tylko ten jeden raz: przechowujemy wyłącznie jego skrót. Wpisz go w konfigurację "
                    "systemu, który będzie go używał (nagłówek „Authorization: Bearer …”).",
                    "/admin/klucze", "Wróć do listy kluczy",
                    {{"Identyfikator", created.key.id}, {"Rola", roleName(created.key.role)}, {"Opis", label}}},
                   HTTPResponse::HTTP_CREATED);
}

void revokeKey(const Api& api, RequestContext& ctx) {
    readForm(ctx, kFormLimit);
    revokeApiKey(api, ctx, ctx.param("id"));
    redirect(ctx, "/admin/klucze?komunikat=klucz-odwolany");
}

// ------------------------------------------------------------------------------------ tenant

/// Polish labels of the profile's fields, in TenantProfile::kFieldNames' order.
const char* profileLabel(const std::string& field) {
    static const std::map<std::string, const char*> labels{
        {"name", "Pełna nazwa administratora danych"},
        {"short_name", "Nazwa skrócona"},
        {"kind", "Rodzaj jednostki (np. OPS, PCPR, ROPS)"},
        {"address", "Adres siedziby"},
        {"city", "Miejscowość (do dat na dokumentach)"},
        {"nip", "NIP"},
        {"regon", "REGON"},
        {"email", "Adres e-mail jednostki"},
        {"dpo_email", "Adres e-mail inspektora ochrony danych"},
        {"withdrawal_address", "Gdzie można wycofać zgodę"},
        {"archival_period", "Okres przechowywania dokumentów (tekst klauzuli)"},
    };
    const auto it = labels.find(field);
    return it == labels.end() ? "" : it->second;
}

void tenantPage(RequestContext& ctx, const std::map<std::string, std::string>& values, const std::map<std::string, std::string>& errors,
                HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK) {
    mustache::data fields{mustache::data::type::list};
    for (std::size_t i = 0; i < TenantProfile::kFieldCount; ++i) {
        const std::string name = TenantProfile::kFieldNames[i];
        mustache::data field;
        field.set("name", name);
        field.set("label", profileLabel(name));
        const auto value = values.find(name);
        field.set("value", value == values.end() ? std::string() : value->second);
        if (const auto error = errors.find(name); error != errors.end()) field.set("error", error->second);
        fields.push_back(field);
    }
    mustache::data data;
    data.set("fields", fields);
    if (!errors.empty()) data.set("invalid", true);
    sendHtml(ctx, renderPage(ctx, "admin-tenant", "Ustawienia RODO jednostki", data), status);
}

TenantProfile storedProfile(const storage::TenantRecord& tenant) {
    return tenant.profileJson.empty() ? TenantProfile{} : templates::parseTenantProfile(tenant.profileJson);
}

void showTenant(const Api& api, RequestContext& ctx) { tenantPage(ctx, storedProfile(callersTenant(api, ctx)).fields, {}); }

/// Checked as PUT /v1/tenant checks it (replaceTenantProfile): every field on its own, so each
/// error sits by its field, then the whole. An empty field is left out of the profile: clauses
/// then print no such line.
void saveTenant(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, kFormLimit);
    const auto stored = storedProfile(callersTenant(api, ctx));
    Poco::JSON::Object profile(Poco::JSON_PRESERVE_KEY_ORDER);
    if (!stored.id.empty()) profile.set("id", stored.id);  // not on the form: kept as it was
    std::map<std::string, std::string> values;
    for (std::size_t i = 0; i < TenantProfile::kFieldCount; ++i) {
        const std::string name = TenantProfile::kFieldNames[i];
        values[name] = form.field(name);
        if (!values[name].empty()) profile.set(name, values[name]);
    }
    std::ostringstream text;
    profile.stringify(text);
    try {
        replaceTenantProfile(api, ctx, text.str());
    } catch (const ValidationError& e) {
        std::map<std::string, std::string> errors;
        for (const auto& violation : e.violations()) {
            const auto name = violation.pointer.empty() ? std::string() : violation.pointer.substr(1);  // "/nip" → nip
            errors[name] = name == "nip" ? "NIP ma błędną cyfrę kontrolną." : "Nieprawidłowa wartość.";
        }
        tenantPage(ctx, values, errors, HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
        return;
    }
    redirect(ctx, "/admin/jednostka?komunikat=zapisano");
}

// ---------------------------------------------------------------------------------- webhooks

std::string eventLabel(const std::string& event) {
    static const std::map<std::string, std::string> labels{
        {"document.sealed", "dokument wydany (opieczętowany)"}, {"document.signed", "dokument podpisany"},
        {"document.verified", "dokument zweryfikowany"},         {"consent.withdrawn", "wycofanie zgody"},
        {"subject.erased", "usunięcie danych osoby"},            {"document.erased", "usunięcie dokumentu"},
    };
    const auto it = labels.find(event);
    return it == labels.end() ? event : it->second;
}

std::string eventsText(const std::string& events) {
    if (events == "*" || events.empty()) return "wszystkie zdarzenia";
    std::string out;
    std::stringstream list(events);
    for (std::string event; std::getline(list, event, ',');) out += (out.empty() ? "" : ", ") + eventLabel(event);
    return out;
}

std::string deliveryStatusName(const std::string& status) {
    if (status == "pending") return "oczekuje";
    if (status == "delivered") return "dostarczono";
    if (status == "failed") return "nieudana";
    return status;
}

void webhooksPage(const Api& api, RequestContext& ctx, const std::string& error = "", const std::string& url = "",
                  HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK) {
    mustache::data data;
    if (api.webhooks == nullptr) {
        data.set("unavailable", true);
    } else {
        data.set("available", true);
        mustache::data rows{mustache::data::type::list};
        for (const auto& webhook : api.webhooks->webhooks(ctx.who().tenantId)) {
            mustache::data row;
            row.set("id", webhook.id);
            row.set("url", webhook.url);
            row.set("events", eventsText(webhook.events));
            row.set("disabled", webhook.disabled);
            row.set("created", displayTime(webhook.createdAt));
            rows.push_back(row);
        }
        data.set("webhooks", rows);
        mustache::data events{mustache::data::type::list};
        for (const char* const* type = kWebhookEventTypes; *type != nullptr; ++type) {
            mustache::data event;
            std::string id = *type;
            std::replace(id.begin(), id.end(), '.', '-');
            event.set("id", id);
            event.set("value", *type);
            event.set("label", eventLabel(*type));
            events.push_back(event);
        }
        data.set("events", events);
        data.set("url", url);
    }
    if (!error.empty()) data.set("error", error);
    sendHtml(ctx, renderPage(ctx, "admin-webhooks", "Webhooki", data), status);
}

void createWebhook(const Api& api, RequestContext& ctx) {
    const auto form = readForm(ctx, kFormLimit);
    webhookDispatcher(api);  // 503 before anything else when webhooks are not set up
    const auto url = form.field("url");
    // One checkbox per event, each under its own name (a form's repeated names would collapse);
    // none ticked subscribes to all of them, as an empty list does in the API.
    std::vector<std::string> events;
    for (const char* const* type = kWebhookEventTypes; *type != nullptr; ++type) {
        if (!form.field(std::string("event_") + *type).empty()) events.emplace_back(*type);
    }
    CreatedWebhook created;
    try {
        created = server::createWebhook(api, ctx, url, events);
    } catch (const Error& e) {
        if (e.reason() != "webhook.url_invalid" && e.reason() != "webhook.event_unknown") throw;
        webhooksPage(api, ctx,
                     e.reason() == "webhook.url_invalid" ? "Adres musi mieć postać https://HOST/… bez użytkownika i hasła."
                                                         : "Nieznany typ zdarzenia.",
                     url, HTTPResponse::HTTP_UNPROCESSABLE_ENTITY);
        return;
    }
    sendSecretPage(ctx,
                   {"Nowy webhook", "Dodano webhook", "Sekret podpisu", created.secret,
                    "Sekret jest pokazywany tylko ten jeden raz. System odbierający sprawdza nim nagłówek Kooperdoc-Signature "
                    "każdego powiadomienia (HMAC-SHA256).",
                    "/admin/webhooki", "Wróć do listy webhooków",
                    {{"Identyfikator", created.webhook.id}, {"Adres", created.webhook.url}, {"Zdarzenia", eventsText(created.webhook.events)}}},
                   HTTPResponse::HTTP_CREATED);
}

void deleteWebhook(const Api& api, RequestContext& ctx) {
    readForm(ctx, kFormLimit);
    server::deleteWebhook(api, ctx, ctx.param("id"));
    redirect(ctx, "/admin/webhooki?komunikat=webhook-usuniety");
}

void setWebhookEnabled(const Api& api, RequestContext& ctx, bool enabled) {
    readForm(ctx, kFormLimit);
    server::setWebhookEnabled(api, ctx, ctx.param("id"), enabled);
    redirect(ctx, std::string("/admin/webhooki?komunikat=") + (enabled ? "webhook-wlaczony" : "webhook-wylaczony"));
}

void deliveriesPage(const Api& api, RequestContext& ctx) {
    const auto log = webhookLog(api, ctx, ctx.param("id"), 100);
    const auto& webhook = log.webhook;
    mustache::data rows{mustache::data::type::list};
    for (const auto& delivery : log.deliveries) {
        mustache::data row;
        row.set("deliveryId", delivery.id);
        row.set("event", eventLabel(delivery.eventType));
        row.set("status", deliveryStatusName(delivery.status));
        row.set("statusCode", delivery.status);
        row.set("attempts", std::to_string(delivery.attempts));
        row.set("lastStatus", delivery.lastStatusCode ? std::to_string(*delivery.lastStatusCode) : std::string("—"));
        row.set("lastError", delivery.lastError.empty() ? std::string("—") : delivery.lastError);
        row.set("created", displayTime(delivery.createdAt));
        row.set("next", delivery.status == "pending" ? displayTime(delivery.nextAttemptAt) : std::string("—"));
        row.set("delivered", delivery.deliveredAt ? displayTime(*delivery.deliveredAt) : std::string("—"));
        rows.push_back(row);
    }
    mustache::data data;
    data.set("webhookId", webhook.id);
    data.set("url", webhook.url);
    data.set("events", eventsText(webhook.events));
    data.set("disabled", webhook.disabled);
    data.set("created", displayTime(webhook.createdAt));
    data.set("deliveries", rows);
    data.set("any", !rows.is_empty_list());
    sendHtml(ctx, renderPage(ctx, "admin-webhook", "Dziennik dostaw webhooka", data));
}

void redeliver(const Api& api, RequestContext& ctx) {
    readForm(ctx, kFormLimit);
    const auto& id = ctx.param("id");
    server::redeliver(api, ctx, id, ctx.param("delivery"));
    redirect(ctx, "/admin/webhooki/" + id + "?komunikat=ponowiono");
}

}  // namespace

void addAdminPages(Router& router, const Api& api) {
    // An empty role list would make a route public: these are the administrator's alone.
    const auto admin = roles({Role::kAdmin});
    router.add("GET", "/admin/uzytkownicy", admin, [&api](RequestContext& ctx) { usersPage(api, ctx); });
    router.add("POST", "/admin/uzytkownicy", admin, [&api](RequestContext& ctx) { createUser(api, ctx); });
    router.add("POST", "/admin/uzytkownicy/{id}/wylacz", admin, [&api](RequestContext& ctx) { setUserDisabled(api, ctx, true); });
    router.add("POST", "/admin/uzytkownicy/{id}/wlacz", admin, [&api](RequestContext& ctx) { setUserDisabled(api, ctx, false); });
    router.add("POST", "/admin/uzytkownicy/{id}/haslo", admin, [&api](RequestContext& ctx) { resetPassword(api, ctx); });

    router.add("GET", "/admin/klucze", admin, [&api](RequestContext& ctx) { keysPage(api, ctx); });
    router.add("POST", "/admin/klucze", admin, [&api](RequestContext& ctx) { createKey(api, ctx); });
    router.add("POST", "/admin/klucze/{id}/odwolaj", admin, [&api](RequestContext& ctx) { revokeKey(api, ctx); });

    router.add("GET", "/admin/jednostka", admin, [&api](RequestContext& ctx) { showTenant(api, ctx); });
    router.add("POST", "/admin/jednostka", admin, [&api](RequestContext& ctx) { saveTenant(api, ctx); });

    router.add("GET", "/admin/webhooki", admin, [&api](RequestContext& ctx) { webhooksPage(api, ctx); });
    router.add("POST", "/admin/webhooki", admin, [&api](RequestContext& ctx) { createWebhook(api, ctx); });
    router.add("GET", "/admin/webhooki/{id}", admin, [&api](RequestContext& ctx) { deliveriesPage(api, ctx); });
    router.add("POST", "/admin/webhooki/{id}/usun", admin, [&api](RequestContext& ctx) { deleteWebhook(api, ctx); });
    router.add("POST", "/admin/webhooki/{id}/wlacz", admin, [&api](RequestContext& ctx) { setWebhookEnabled(api, ctx, true); });
    router.add("POST", "/admin/webhooki/{id}/wylacz", admin, [&api](RequestContext& ctx) { setWebhookEnabled(api, ctx, false); });
    router.add("POST", "/admin/webhooki/{id}/dostawy/{delivery}/ponow", admin, [&api](RequestContext& ctx) { redeliver(api, ctx); });
}

}  // namespace kooperdoc::server::web
