// SPDX-License-Identifier: AGPL-3.0-or-later
#include "Pages.h"

#include <ctime>
#include <map>
#include <sstream>

#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/PartHandler.h>
#include <Poco/StreamCopier.h>

#include <openssl/crypto.h>

#include "../Http.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::server::embedded_web {
struct File {
    const char* path;
    const unsigned char* data;
    std::size_t size;
};
extern const File kFiles[];
extern const std::size_t kFileCount;
}  // namespace kooperdoc::server::embedded_web

namespace kooperdoc::server::web {
namespace {

using Poco::Net::HTTPResponse;

const std::map<std::string, std::string>& assets() {
    static const auto* const files = [] {
        auto* map = new std::map<std::string, std::string>;
        for (std::size_t i = 0; i < embedded_web::kFileCount; ++i) {
            const auto& f = embedded_web::kFiles[i];
            (*map)[f.path] = std::string(reinterpret_cast<const char*>(f.data), f.size);
        }
        return map;
    }();
    return *files;
}

struct NavItem {
    const char* href;
    const char* label;
    std::vector<Role> roles;  ///< admin sees every item
};

const std::vector<NavItem>& navigation() {
    static const std::vector<NavItem> items{
        {"/dokumenty", "Dokumenty", {Role::kAnimator, Role::kAuditor}},
        {"/weryfikacja", "Weryfikacja podpisów", {Role::kAuditor}},
        {"/iod/osoby", "Osoby (RODO)", {Role::kDpo}},
        {"/iod/retencja", "Retencja", {Role::kDpo}},
        {"/iod/blokady", "Blokady prawne", {Role::kDpo}},
        {"/admin/uzytkownicy", "Użytkownicy", {}},
        {"/admin/klucze", "Klucze API", {}},
        {"/admin/jednostka", "Ustawienia RODO", {}},
        {"/admin/webhooki", "Webhooki", {}},
    };
    return items;
}

class CollectingPartHandler : public Poco::Net::PartHandler {
public:
    explicit CollectingPartHandler(std::map<std::string, Form::File>& files) : files_(files) {}
    void handlePart(const Poco::Net::MessageHeader& header, std::istream& stream) override {
        std::string disposition;
        Poco::Net::NameValueCollection parameters;
        Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""), disposition, parameters);
        Form::File file;
        file.fileName = parameters.get("filename", "");
        Poco::StreamCopier::copyToString(stream, file.bytes);
        files_[parameters.get("name", "")] = std::move(file);
    }

private:
    std::map<std::string, Form::File>& files_;
};

bool isSummerTimeInPoland(std::int64_t epoch) {
    // CEST runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October.
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm utc{};
    gmtime_r(&t, &utc);
    const auto lastSunday = [&](int month) {
        std::tm day{};
        day.tm_year = utc.tm_year;
        day.tm_mon = month;
        day.tm_mday = 31;
        day.tm_hour = 1;
        const auto at = timegm(&day);
        std::tm check{};
        gmtime_r(&at, &check);
        return static_cast<std::int64_t>(at) - static_cast<std::int64_t>(check.tm_wday) * 86400;
    };
    return epoch >= lastSunday(2) && epoch < lastSunday(9);
}

}  // namespace

const std::string& asset(const std::string& path) {
    const auto it = assets().find(path);
    if (it == assets().end()) throw Error(ErrorCode::kInternal, "web.asset_missing", "no embedded file " + path);
    return it->second;
}

std::string renderPage(const RequestContext& ctx, const std::string& name, const std::string& title, mustache::data data) {
    mustache::mustache body(asset("templates/" + name + ".mustache"));
    if (!body.is_valid()) throw Error(ErrorCode::kInternal, "web.template_invalid", name + ": " + body.error_message());
    mustache::data page;
    if (ctx.principal) {
        const auto role = ctx.who().role;
        mustache::data nav{mustache::data::type::list};
        const auto path = ctx.request.getURI().substr(0, ctx.request.getURI().find('?'));
        for (const auto& item : navigation()) {
            bool visible = role == Role::kAdmin;
            for (const auto r : item.roles) visible = visible || r == role;
            if (!visible) continue;
            mustache::data entry;
            entry.set("href", item.href);
            entry.set("label", item.label);
            if (path.rfind(item.href, 0) == 0) entry.set("current", true);
            nav.push_back(entry);
        }
        page.set("nav", nav);
        page.set("signedIn", true);
        page.set("roleName", roleName(toString(role)));
        page.set("tenant", ctx.who().tenantId);
        if (ctx.who().csrfToken) {
            page.set("csrf", *ctx.who().csrfToken);
            data.set("csrf", *ctx.who().csrfToken);
        }
    }
    // Messages after a redirect are named, not carried: a link cannot put words on our page.
    static const std::map<std::string, std::string> flashes{
        {"wylogowano", "Wylogowano."},
        {"haslo-zmienione", "Hasło zostało zmienione."},
        {"zapisano", "Zapisano."},
        {"konto-wylaczone", "Konto wyłączono; jego sesje zakończono."},
        {"konto-wlaczone", "Konto włączono."},
        {"klucz-odwolany", "Klucz API odwołano."},
        {"webhook-usuniety", "Webhook usunięto."},
        {"webhook-wlaczony", "Webhook włączono."},
        {"webhook-wylaczony", "Webhook wyłączono."},
        {"ponowiono", "Dostawę zaplanowano ponownie."},
        {"nic-do-brakowania", "Przegląd zakończony: żaden dokument nie podlega teraz brakowaniu."},
        {"propozycja-utworzona", "Przegląd utworzył propozycję brakowania. Sprawdź ją, a potem zatwierdź albo odrzuć."},
        {"propozycja-zatwierdzona", "Propozycję brakowania zatwierdzono."},
        {"propozycja-odrzucona", "Propozycję brakowania odrzucono."},
        {"propozycja-wykonana", "Brakowanie wykonano; protokoły brakowania zapisano."},
        {"blokada-zalozona", "Założono blokadę prawną."},
        {"blokada-zdjeta", "Zdjęto blokadę prawną."},
    };
    if (const auto flash = ctx.queryValue("komunikat"); flash && flashes.count(*flash) == 1) data.set("flash", flashes.at(*flash));
    page.set("title", title);
    page.set("content", body.render(data));
    mustache::mustache layout(asset("templates/layout.mustache"));
    return layout.render(page);
}

void sendHtml(RequestContext& ctx, const std::string& html, HTTPResponse::HTTPStatus status) {
    auto& r = ctx.response;
    r.set("Cache-Control", "no-store");
    // No script runs on any page: the UI is plain forms, so a stray injection has nothing to run.
    r.set("Content-Security-Policy",
          "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    r.set("X-Content-Type-Options", "nosniff");
    r.set("Referrer-Policy", "no-referrer");
    r.set("X-Frame-Options", "DENY");
    http::sendBytes(r, status, html, "text/html; charset=utf-8");
}

void redirect(RequestContext& ctx, const std::string& location) {
    ctx.response.set("Location", location);
    ctx.response.set("Cache-Control", "no-store");
    ctx.response.setStatus(HTTPResponse::HTTP_SEE_OTHER);
    ctx.response.setContentLength(0);
    ctx.response.send();
}

std::string Form::field(const std::string& name) const {
    const auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
}

Form readForm(RequestContext& ctx, std::size_t limit, bool checkCsrf) {
    http::requireMediaType(ctx.request, {"application/x-www-form-urlencoded", "multipart/form-data"});
    const auto body = http::readBody(ctx.request, limit);
    Form form;
    CollectingPartHandler files(form.files);
    std::istringstream in(body);
    try {
        Poco::Net::HTMLForm html;
        html.setFieldLimit(200);
        html.load(ctx.request, in, files);
        for (const auto& [name, value] : html) form.fields[name] = value;
    } catch (const Poco::Exception&) {
        throw Error(ErrorCode::kInvalidArgument, "request.form_invalid", "the form cannot be read");
    }
    if (checkCsrf) {
        const auto& expected = ctx.who().csrfToken;
        const auto given = form.field("csrf");
        // Only a session has a token; its forms must carry it (SameSite=Strict is the first line).
        if (!expected || given.size() != expected->size() || CRYPTO_memcmp(given.data(), expected->data(), given.size()) != 0) {
            throw Error(ErrorCode::kPermissionDenied, "auth.csrf", "the form's CSRF token does not match the session");
        }
    }
    return form;
}

std::string polishMessage(const Error& error) {
    static const std::map<std::string, std::string> messages{
        {"auth.login_failed", "Nieprawidłowy login lub hasło."},
        {"auth.locked", "Konto jest czasowo zablokowane po kilku nieudanych próbach logowania. Spróbuj ponownie później."},
        {"auth.session_invalid", "Sesja wygasła. Zaloguj się ponownie."},
        {"auth.password_weak", "Nowe hasło musi mieć co najmniej 12 znaków."},
        {"auth.forbidden", "Twoja rola nie ma dostępu do tej strony."},
        {"auth.csrf", "Formularz wygasł lub pochodzi z innej strony. Odśwież stronę i spróbuj ponownie."},
        {"storage.document_unknown", "Nie ma takiego dokumentu w Twojej jednostce."},
        {"route.unknown", "Nie ma takiej strony."},
        {"request.too_large", "Plik jest za duży."},
        {"request.form_invalid", "Nie udało się odczytać formularza."},
        {"upload.not_ours", "To nie jest dokument wydany przez Kooperdoc dla tej sprawy (plik nie zaczyna się od wydanej wersji)."},
        {"upload.forbidden_change", "Po wydaniu zmieniono treść dokumentu, a nie tylko dodano podpis."},
        {"upload.no_new_signature", "W przesłanym pliku nie ma nowego podpisu."},
        {"upload.not_revision_boundary", "Plik nie jest poprawną przyrostową wersją wydanego dokumentu."},
        {"upload.signature_coverage", "Podpis nie obejmuje całej swojej wersji dokumentu."},
        {"upload.signature_invalid", "Podpis jest nieważny (skrót lub podpis kryptograficzny się nie zgadza)."},
        {"upload.timestamp_invalid", "Znacznik czasu jest nieważny."},
        {"upload.trailing_data", "Za ostatnią wersją dokumentu dopisano dane."},
        {"upload.unexpected_signer", "Pole podpisał ktoś inny niż osoba, która miała podpisać."},
        {"upload.unsigned_field_changed", "Zmieniono pole podpisu, którego nikt nie podpisał."},
        {"upload.expected_field_unsigned", "Wymagane pole podpisu jest niepodpisane."},
        {"upload.file_missing", "Wybierz plik do przesłania."},
        {"identity.bad_password", "Nieprawidłowe hasło do pliku PKCS#12."},
        {"signature.field_signed", "To pole jest już podpisane."},
        {"signature.field_unknown", "Dokument nie ma takiego pola podpisu."},
        {"storage.revision_conflict", "W międzyczasie ktoś dodał nową wersję dokumentu. Odśwież stronę i spróbuj ponownie."},
        {"auth.user_unknown", "Nie ma takiego użytkownika w Twojej jednostce."},
        {"auth.key_unknown", "Nie ma takiego klucza API w Twojej jednostce."},
        {"auth.self_disable", "Nie możesz wyłączyć własnego konta."},
        {"webhook.unavailable", "Webhooki nie są skonfigurowane w tej instalacji."},
        {"webhook.unknown", "Nie ma takiego webhooka w Twojej jednostce."},
        {"webhook.delivery_unknown", "Nie ma takiej dostawy tego webhooka."},
        {"retention.archive_consent_required",
         "W propozycji są dokumenty kategorii B lub BE: podaj znak zgody archiwum państwowego na ich brakowanie."},
        {"retention.proposal_state", "Tę propozycję już rozpatrzono."},
        {"retention.proposal_unknown", "Nie ma takiej propozycji brakowania."},
        {"retention.not_approved", "Propozycję trzeba najpierw zatwierdzić."},
        {"storage.hold_unknown", "Nie ma takiej aktywnej blokady prawnej."},
    };
    const auto it = messages.find(error.reason());
    return it == messages.end() ? error.what() : it->second;
}

std::string displayTime(std::int64_t epochSeconds) {
    const std::int64_t local = epochSeconds + (isSummerTimeInPoland(epochSeconds) ? 7200 : 3600);
    std::time_t t = static_cast<std::time_t>(local);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
    return text;
}

std::string statusName(const std::string& status) {
    static const std::map<std::string, std::string> names{{"issued", "wydany"},
                                                          {"awaiting_signatures", "czeka na podpisy"},
                                                          {"signed", "podpisany"},
                                                          {"archived", "zarchiwizowany"},
                                                          {"erased", "usunięty"}};
    const auto it = names.find(status);
    return it == names.end() ? status : it->second;
}

std::string roleName(const std::string& role) {
    static const std::map<std::string, std::string> names{{"intake", "system przyjmujący dane"},
                                                          {"animator", "animator"},
                                                          {"auditor", "audytor"},
                                                          {"dpo", "inspektor ochrony danych"},
                                                          {"admin", "administrator"}};
    const auto it = names.find(role);
    return it == names.end() ? role : it->second;
}

}  // namespace kooperdoc::server::web
