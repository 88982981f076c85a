// SPDX-License-Identifier: AGPL-3.0-or-later
// The Polish web UI in a real browser: Debian's headless Chromium driven by chromedriver against a
// real `kooperdoc serve`. An animator logs in with a one-time password, sets their own, finds a
// document by case number, downloads it, uploads a copy signed elsewhere and reads the verdict;
// an auditor verifies a PDF and reads a document's audit trail; a DPO finds a person. Screenshots
// of every step are kept in <build>/test-artifacts/web. The session's rules (cookie flags, CSRF,
// lock-out, roles) are checked over plain HTTP beside it.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "ApiClient.h"
#include "WebDriver.h"

using namespace kooperdoc;
using namespace kooperdoc::testing;
using namespace kooperdoc::testing::api;

namespace {

const std::string kArtifacts = KOOPERDOC_ARTIFACT_DIR;

std::string lastLine(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text.substr(text.rfind('\n') + 1);
}

std::string createUser(const Api& api, const std::string& tenant, const std::string& login, const std::string& role) {
    const auto made = api.admin("create-user --tenant " + tenant + " --login " + login + " --role " + role);
    INFO(made.output);
    REQUIRE(made.exitCode == 0);
    return lastLine(made.output);
}

/// The one file that appears in \p dir (a finished download: no .crdownload left).
std::string waitForDownload(const std::string& dir) {
    for (int i = 0; i < 200; ++i) {
        if (std::filesystem::exists(dir)) {
            for (const auto& entry : std::filesystem::directory_iterator(dir)) {
                const auto name = entry.path().filename().string();
                if (name.find(".crdownload") == std::string::npos && entry.file_size() > 0) return entry.path().string();
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("no download arrived in " << dir);
    return {};
}

void logIn(WebDriver& browser, const std::string& base, const std::string& login, const std::string& password) {
    browser.go(base + "/logowanie");
    browser.type("#login", login);
    browser.type("#password", password);
    browser.follow("form.stack button[type=submit]");
}

/// An application/x-www-form-urlencoded body.
std::string form(const std::map<std::string, std::string>& fields) {
    std::string body;
    for (const auto& [name, value] : fields) {
        std::string encoded;
        Poco::URI::encode(value, "&=+;%", encoded);
        body += (body.empty() ? "" : "&") + name + "=" + encoded;
    }
    return body;
}

std::string cookieOf(const Reply& reply, const std::string& name);

/// A session cookie ("kd_session=…") for a new user of \p role, logged in over plain HTTP with
/// the one-time password, which is then replaced.
std::string sessionOf(const Api& api, const std::string& login, const std::string& role) {
    const auto oneTime = createUser(api, "gops", login, role);
    const auto page = api.call("GET", "/logowanie");
    const auto loginToken = cookieOf(page, "kd_login");
    const auto in = api.call("POST", "/logowanie", "", form({{"login", login}, {"password", oneTime}, {"login_csrf", loginToken}}),
                             "application/x-www-form-urlencoded", {{"Cookie", "kd_login=" + loginToken}});
    REQUIRE(in.status == 303);
    const auto cookie = "kd_session=" + cookieOf(in, "kd_session");
    const auto passwordPage = api.call("GET", "/haslo", "", "", "", {{"Cookie", cookie}});
    std::smatch m;
    REQUIRE(std::regex_search(passwordPage.body, m, std::regex("name=\"csrf\" value=\"([^\"]+)\"")));
    const auto changed = api.call("POST", "/haslo", "",
                                  form({{"csrf", m[1]}, {"old_password", oneTime}, {"new_password", "Haslo-" + login + "-2026"},
                                        {"repeat_password", "Haslo-" + login + "-2026"}}),
                                  "application/x-www-form-urlencoded", {{"Cookie", cookie}});
    REQUIRE(changed.status == 303);
    return cookie;
}

/// Logs in with a one-time password and replaces it with \p chosen (the page that must come first).
void setOwnPassword(WebDriver& browser, const std::string& base, const std::string& login, const std::string& oneTime,
                    const std::string& chosen) {
    logIn(browser, base, login, oneTime);
    REQUIRE(browser.url().find("/haslo") != std::string::npos);
    browser.type("#old_password", oneTime);
    browser.type("#new_password", chosen);
    browser.type("#repeat_password", chosen);
    browser.follow("form.stack button[type=submit]");
}

/// The Set-Cookie header's value for \p name from a reply.
std::string cookieOf(const Reply& reply, const std::string& name) {
    for (const auto& header : reply.setCookies) {
        std::smatch m;
        if (std::regex_search(header, m, std::regex("^" + name + "=([^;]*)"))) return m[1];
    }
    return "";
}

}  // namespace

TEST_CASE("an animator and an auditor do their work in the browser", "[web][browser]") {
    Api api;
    const auto base = api.server().url();
    const auto animatorPassword = createUser(api, "gops", "anna.nowak", "animator");
    const auto auditorPassword = createUser(api, "gops", "piotr.audyt", "auditor");
    const auto dpoPassword = createUser(api, "gops", "iod.gops", "dpo");
    const auto document = api.newDocument("gops", "OPS.4011.12/2026");
    api.newDocument("gops", "OPS.4011.99/2026");
    api.newDocument("mops", "OPS.4011.12/2026");  // another tenant's: never listed
    const auto downloads = api.dir() + "/downloads";
    std::filesystem::create_directories(downloads);
    WebDriver browser(downloads);
    const auto shot = [&](const std::string& name) { browser.screenshot(kArtifacts + "/" + name + ".png"); };

    // Not signed in: the home page sends the browser to the login page.
    browser.go(base + "/");
    CHECK(browser.url().find("/logowanie") != std::string::npos);
    CHECK(browser.title() == "Logowanie – Kooperdoc");
    // Keyboard first: the first Tab reaches the skip link.
    browser.keys("\xEE\x80\x84");  // Tab (U+E004)
    CHECK(browser.script("return document.activeElement.textContent") == "Przejdź do treści");
    // Every visible form control has a label (screen readers announce it).
    CHECK(browser.script("return String(Array.from(document.querySelectorAll('input:not([type=hidden]), select'))"
                         ".filter(e => !(e.labels && e.labels.length)).length)") == "0");
    shot("01-logowanie");

    // A wrong password: the page says so and nothing else happens.
    logIn(browser, base, "anna.nowak", "not-the-password");
    CHECK(browser.text("[role=alert]") == "Nieprawidłowy login lub hasło.");
    shot("02-bledne-haslo");

    // The one-time password works once, and only to set one's own.
    logIn(browser, base, "anna.nowak", animatorPassword);
    CHECK(browser.url().find("/haslo") != std::string::npos);
    shot("03-zmiana-hasla");
    browser.go(base + "/dokumenty");
    CHECK(browser.url().find("/haslo") != std::string::npos);
    browser.type("#old_password", animatorPassword);
    browser.type("#new_password", "Kooperacja-2026!");
    browser.type("#repeat_password", "Kooperacja-2026!");
    browser.follow("form.stack button[type=submit]");
    CHECK(browser.url().find("/dokumenty") != std::string::npos);
    CHECK(browser.text("p.notice") == "Hasło zostało zmienione.");

    // Find the document by a part of its case number (this tenant's only).
    browser.type("#sprawa", "12/2026");
    browser.follow("form.search button[type=submit]");
    CHECK(browser.text("#liczba") == "Znaleziono dokumentów: 1");
    CHECK(browser.count("tbody tr") == 1);
    shot("04-wyszukiwanie");
    browser.follow("tbody tr a");
    CHECK(browser.url() == base + "/dokumenty/" + document);
    CHECK(browser.source().find("OPS.4011.12/2026") != std::string::npos);
    shot("05-dokument");

    // Download the ready-to-sign PDF: the sealed bytes the API hands out.
    browser.click("a.button[download]");
    const auto downloaded = waitForDownload(downloads);
    const auto sealed = readFile(downloaded);
    CHECK(sealed == api.call("GET", "/v1/documents/" + document + "/pdf", api.key("gops/intake")).body);
    const auto pdfsig = runCommand("pdfsig " + quote(downloaded) + " 2>&1");
    CHECK(pdfsig.output.find("Signature is Valid.") != std::string::npos);

    // A tampered copy is refused at once, with the reason in Polish; nothing is stored.
    writeFile(api.dir() + "/tampered.pdf", sealed + "\n1 0 obj\n<< >>\nendobj\n%%EOF\n");
    browser.type("#plik", api.dir() + "/tampered.pdf");
    browser.follow("form[enctype] button[type=submit]");
    CHECK(browser.text("#wynik h2") == "Nie przyjęto pliku");
    CHECK(browser.source().find("upload.") != std::string::npos);
    shot("06-odrzucony");
    CHECK(browser.count("tbody tr") == 1);  // still one revision

    // Signed elsewhere (the development person's certificate, like a qualified signature) and uploaded.
    REQUIRE(runCommand("openssl pkcs12 -export -in " + quote(api.dir() + "/identity/person.pem") + " -inkey " +
                       quote(api.dir() + "/identity/person.key.pem") + " -out " + quote(api.dir() + "/person.p12") +
                       " -passout pass:secret 2>&1")
                .exitCode == 0);
    writeFile(api.dir() + "/person.password", "secret\n");
    const auto sign = runCommand(quote(cli()) + " --config " + quote(api.dir() + "/kooperdoc.properties") + " sign " + quote(downloaded) +
                                 " --field osoba-1 --p12 " + quote(api.dir() + "/person.p12") + " --password-file " +
                                 quote(api.dir() + "/person.password") + " -o " + quote(api.dir() + "/podpisany.pdf") + " 2>&1");
    INFO(sign.output);
    REQUIRE(sign.exitCode == 0);
    browser.type("#plik", api.dir() + "/podpisany.pdf");
    browser.follow("form[enctype] button[type=submit]");
    CHECK(browser.text("#wynik h2") == "Przyjęto podpisaną kopię");
    CHECK(browser.text("#wynik p").find("wersję 2") != std::string::npos);
    CHECK(browser.count("tbody tr") == 2);
    shot("07-przyjety");

    // Signing in the service with one's own PKCS#12: a wrong password is said at once and stores
    // nothing; the right one signs the next empty field.
    CHECK(browser.count("#pole option") >= 1);
    const auto field = browser.script("return document.getElementById('pole').value");
    browser.type("#p12", api.dir() + "/person.p12");
    browser.type("#haslo_p12", "not-the-password");
    browser.follow("form[action$='/podpisz'] button[type=submit]");
    CHECK(browser.text("#wynik h2") == "Nie podpisano");
    CHECK(browser.text("#wynik p") == "Nieprawidłowe hasło do pliku PKCS#12.");
    CHECK(browser.count("tbody tr") == 2);
    browser.type("#p12", api.dir() + "/person.p12");
    browser.type("#haslo_p12", "secret");
    browser.follow("form[action$='/podpisz'] button[type=submit]");
    CHECK(browser.text("#wynik h2") == "Podpisano w Kooperdoc");
    CHECK(browser.text("#wynik p").find("„" + field + "”") != std::string::npos);
    CHECK(browser.count("tbody tr") == 3);
    shot("07b-podpisany-w-kooperdoc");
    CHECK(api.call("GET", "/v1/documents/" + document, api.key("gops/auditor")).json()->getValue<std::string>("status") == "signed");

    // An animator has no verification page (403 page), and logs out.
    browser.go(base + "/weryfikacja");
    CHECK(browser.text("[role=alert] p") == "Twoja rola nie ma dostępu do tej strony.");
    browser.follow("header form.inline button");
    CHECK(browser.url().find("/logowanie") != std::string::npos);
    CHECK(browser.text("p.notice") == "Wylogowano.");
    browser.go(base + "/dokumenty");
    CHECK(browser.url().find("/logowanie") != std::string::npos);

    // The auditor: set a password, verify the signed PDF, read the trail with its proofs.
    setOwnPassword(browser, base, "piotr.audyt", auditorPassword, "Audyt-Kooperdoc-1");
    browser.go(base + "/weryfikacja");
    browser.type("#plik", api.dir() + "/podpisany.pdf");
    browser.follow("form[enctype] button[type=submit]");
    const auto report = browser.source();
    CHECK(report.find("Raport dla pliku „podpisany.pdf”") != std::string::npos);
    CHECK(browser.count(".report .passed") >= 1);
    CHECK(browser.count(".report .failed") == 0);
    shot("08-raport");
    browser.go(base + "/dokumenty/" + document + "/historia");
    CHECK(browser.text("p.result.ok").find("poprawny dowód") != std::string::npos);
    for (const std::string event : {"document.sealed", "document.downloaded", "document.upload_rejected", "document.upload_accepted"}) {
        INFO(event);
        CHECK(api.call("GET", "/v1/documents/" + document + "/audit", api.key("gops/auditor")).body.find(event) != std::string::npos);
    }
    CHECK(browser.count("tbody tr") >= 6);
    CHECK(browser.count("tbody span.bad") == 0);
    shot("09-historia");
    browser.follow("header form.inline button");

    // The DPO finds a person by name in a POST (the URL stays clean) and sees their documents.
    setOwnPassword(browser, base, "iod.gops", dpoPassword, "Ochrona-Danych-2026");
    browser.go(base + "/iod/osoby");
    browser.type("#nazwisko", "Grzegorz Żurawski");
    browser.follow("form.stack button[type=submit]");
    CHECK(browser.url() == base + "/iod/osoby");
    CHECK(browser.count("tbody tr") >= 1);
    CHECK(browser.source().find("Pobierz kopię danych") != std::string::npos);
    shot("10-iod-osoby");
}

TEST_CASE("the web session: cookie flags, CSRF, lock-out, roles and logins in the audit log", "[web]") {
    Api api(std::map<std::string, std::string>{{"kooperdoc.auth.max_failed_logins", "3"}});
    const auto password = createUser(api, "gops", "ewa.animator", "animator");

    const auto loginPage = api.call("GET", "/logowanie");
    REQUIRE(loginPage.status == 200);
    CHECK(loginPage.header("Content-Security-Policy").find("default-src 'none'") != std::string::npos);
    const auto loginToken = cookieOf(loginPage, "kd_login");
    REQUIRE(!loginToken.empty());

    // Without the login form's own token (another site posting it) nothing is checked.
    const auto forged = api.call("POST", "/logowanie", "", form({{"login", "ewa.animator"}, {"password", password}}),
                                 "application/x-www-form-urlencoded", {{"Cookie", "kd_login=" + loginToken}});
    CHECK(forged.status == 403);

    const auto login = [&](const std::string& pw) {
        return api.call("POST", "/logowanie", "", form({{"login", "ewa.animator"}, {"password", pw}, {"login_csrf", loginToken}}),
                        "application/x-www-form-urlencoded", {{"Cookie", "kd_login=" + loginToken}});
    };
    const auto ok = login(password);
    REQUIRE(ok.status == 303);
    CHECK(ok.header("Location") == "/haslo");
    const auto session = cookieOf(ok, "kd_session");
    REQUIRE(session.size() >= 32);
    bool flagged = false;
    for (const auto& header : ok.setCookies) {
        INFO(header);
        if (header.rfind("kd_session=", 0) == 0) {
            flagged = header.find("HttpOnly") != std::string::npos && header.find("SameSite=Strict") != std::string::npos &&
                      header.find("path=/") != std::string::npos && header.find("expires") == std::string::npos;
        }
    }
    CHECK(flagged);  // HttpOnly, SameSite=Strict, a session cookie (no expiry kept on disk)
    const auto cookie = "kd_session=" + session;

    // The one-time password must be changed before anything else.
    CHECK(api.call("GET", "/dokumenty", "", "", "", {{"Cookie", cookie}}).header("Location") == "/haslo");
    const auto page = api.call("GET", "/haslo", "", "", "", {{"Cookie", cookie}});
    REQUIRE(page.status == 200);
    std::smatch m;
    REQUIRE(std::regex_search(page.body, m, std::regex("name=\"csrf\" value=\"([^\"]+)\"")));
    const std::string csrf = m[1];
    // A state change without the session's CSRF token is refused; with it, it works.
    const std::map<std::string, std::string> change{{"old_password", password}, {"new_password", "Nowe-Haslo-Ewy-1"},
                                                    {"repeat_password", "Nowe-Haslo-Ewy-1"}};
    CHECK(api.call("POST", "/haslo", "", form(change), "application/x-www-form-urlencoded", {{"Cookie", cookie}}).status == 403);
    auto withToken = change;
    withToken["csrf"] = csrf;
    const auto changed = api.call("POST", "/haslo", "", form(withToken), "application/x-www-form-urlencoded", {{"Cookie", cookie}});
    CHECK(changed.status == 303);
    CHECK(api.call("GET", "/dokumenty", "", "", "", {{"Cookie", cookie}}).status == 200);
    // The cookie is HttpOnly and SameSite=Strict; an API key is no session, and a session no API key.
    CHECK(api.call("GET", "/dokumenty", api.key("gops/animator")).header("Location").rfind("/logowanie", 0) == 0);
    CHECK(api.call("GET", "/v1/documents", "", "", "", {{"Cookie", cookie}}).status == 401);
    CHECK(api.call("GET", "/iod/osoby", "", "", "", {{"Cookie", cookie}}).status == 403);

    // Three wrong passwords lock the account; even the right one is then refused (429).
    for (int i = 0; i < 3; ++i) CHECK(login("wrong-password-" + std::to_string(i)).status == 401);
    const auto locked = login("Nowe-Haslo-Ewy-1");
    CHECK(locked.status == 429);
    CHECK(locked.body.find("czasowo zablokowane") != std::string::npos);

    // Logins and failures are in the audit log under the user's pseudonymous id, not the login.
    int logins = 0, failures = 0;
    // The checkpoint note's second line is the log's size (C2SP tlog-checkpoint).
    const auto note = api.call("GET", "/v1/audit/checkpoint", api.key("gops/auditor")).body;
    const auto firstLine = note.find('\n');
    const int size = std::stoi(note.substr(firstLine + 1, note.find('\n', firstLine + 1) - firstLine - 1));
    REQUIRE(size > 10);
    for (int index = 0; index < size; ++index) {
        const auto entry = api.call("GET", "/v1/audit/proof/" + std::to_string(index), api.key("gops/auditor"));
        if (entry.status != 200) continue;  // another tenant's entry
        CHECK(entry.body.find("ewa.animator") == std::string::npos);
        if (entry.body.find("\\\"type\\\":\\\"user.login\\\"") != std::string::npos) ++logins;
        if (entry.body.find("\\\"type\\\":\\\"user.login_failed\\\"") != std::string::npos) ++failures;
    }
    CHECK(logins == 1);
    CHECK(failures == 4);
}

TEST_CASE("an administrator and a DPO look after the tenant in the browser", "[web][browser]") {
    Api api;
    const auto base = api.server().url();
    const auto adminPassword = createUser(api, "gops", "admin.gops", "admin");
    const auto dpoPassword = createUser(api, "gops", "iod.gops", "dpo");
    // A case closed in 2000: its B10 period ended in 2011, so a sweep now proposes the document.
    const auto document = api.newDocument("gops", "OPS.4011.31/2000");
    std::string dataDir;
#ifndef KOOPERDOC_TEST_POSTGRES
    dataDir = " --data-dir " + quote(api.dir() + "/data");
#endif
    const auto closed = runCommand(quote(cli()) + " --config " + quote(api.dir() + "/kooperdoc.properties") + dataDir +
                                   " case close OPS.4011.31/2000 --tenant gops --at 2000-06-01 2>&1");
    INFO(closed.output);
    REQUIRE(closed.exitCode == 0);
    const auto downloads = api.dir() + "/downloads";
    std::filesystem::create_directories(downloads);
    WebDriver browser(downloads);
    const auto shot = [&](const std::string& name) { browser.screenshot(kArtifacts + "/" + name + ".png"); };
    const auto unlabelled = [&] {
        return browser.script("return String(Array.from(document.querySelectorAll('input:not([type=hidden]), select'))"
                              ".filter(e => !(e.labels && e.labels.length)).length)");
    };
    const auto setValue = [&](const std::string& id, const std::string& value) {
        browser.script("document.getElementById('" + id + "').value = ''; return ''");
        browser.type("#" + id, value);
    };

    // The administrator sets a password and lands on the users' page.
    setOwnPassword(browser, base, "admin.gops", adminPassword, "Administrator-2026");
    CHECK(browser.url().find("/admin/uzytkownicy") != std::string::npos);
    CHECK(unlabelled() == "0");

    // A new animator: the one-time password is shown once, on the answer to the POST.
    browser.type("#login", "marta.animator");
    browser.click("#role option[value=animator]");
    browser.follow("form[action='/admin/uzytkownicy'] button[type=submit]");
    CHECK(browser.url() == base + "/admin/uzytkownicy");
    const auto martaPassword = browser.text("p.secret");
    CHECK(martaPassword.size() >= 12);
    CHECK(browser.text("p.notice").find("tylko raz") != std::string::npos);
    shot("11-admin-nowe-konto");
    browser.go(base + "/admin/uzytkownicy");
    CHECK(browser.source().find(martaPassword) == std::string::npos);
    CHECK(browser.source().find("marta.animator") != std::string::npos);
    CHECK(browser.count("tbody tr") == 3);  // admin, dpo, the new animator
    shot("12-admin-uzytkownicy");

    // An API key: made in the browser, it works against the API until it is revoked.
    browser.go(base + "/admin/klucze");
    CHECK(unlabelled() == "0");
    browser.click("#role option[value=animator]");
    browser.type("#label", "system dziedzinowy");
    browser.follow("form[action='/admin/klucze'] button[type=submit]");
    const auto key = browser.text("p.secret");
    const auto keyId = browser.text("dl.facts dd");
    CHECK(key.rfind("kd_", 0) == 0);
    shot("13-admin-nowy-klucz");
    CHECK(api.call("GET", "/v1/documents", key).status == 200);
    browser.go(base + "/admin/klucze");
    CHECK(browser.source().find(key) == std::string::npos);
    browser.follow("form[action='/admin/klucze/" + keyId + "/odwolaj'] button");
    CHECK(browser.text("p.notice") == "Klucz API odwołano.");
    CHECK(api.call("GET", "/v1/documents", key).status == 401);
    shot("14-admin-klucze");

    // The RODO settings: a bad NIP is refused beside its field, a good one is saved and shown again.
    browser.go(base + "/admin/jednostka");
    CHECK(unlabelled() == "0");
    CHECK(browser.script("return document.getElementById('profil-name').value") == "Gminny Ośrodek Pomocy Społecznej w Łaziskach");
    setValue("profil-nip", "1234567890");
    setValue("profil-dpo_email", "iod@gops.laziska.example");
    browser.follow("form.stack button[type=submit]");
    CHECK(browser.text("[role=alert]") == "Nie zapisano: popraw zaznaczone pola.");
    CHECK(browser.text("#blad-nip") == "NIP ma błędną cyfrę kontrolną.");
    shot("15-admin-rodo-blad");
    setValue("profil-nip", "5261040828");
    browser.follow("form.stack button[type=submit]");
    CHECK(browser.text("p.notice") == "Zapisano.");
    CHECK(browser.script("return document.getElementById('profil-dpo_email').value") == "iod@gops.laziska.example");
    CHECK(browser.script("return document.getElementById('profil-nip').value") == "5261040828");
    shot("16-admin-rodo");
    const auto tenant = api.call("GET", "/v1/tenant", api.key("gops/dpo"));
    CHECK(tenant.body.find("iod@gops.laziska.example") != std::string::npos);

    // A webhook: its signing secret shown once; the delivery log lists what an event queued.
    browser.go(base + "/admin/webhooki");
    CHECK(unlabelled() == "0");
    browser.type("#url", "https://odbiorca.example/kooperdoc");
    browser.click("#zdarzenie-document-sealed");
    browser.follow("form[action='/admin/webhooki'] button[type=submit]");
    CHECK(browser.text("p.secret").rfind("whsec_", 0) == 0);
    shot("17-admin-webhook-sekret");
    api.newDocument("gops", "OPS.4011.32/2026");  // document.sealed → one delivery
    browser.go(base + "/admin/webhooki");
    CHECK(browser.count("tbody tr") == 1);
    browser.follow("tbody tr a");
    CHECK(browser.title() == "Dziennik dostaw webhooka – Kooperdoc");
    CHECK(browser.count("tbody tr") == 1);
    CHECK(browser.text("tbody tr td") == "dokument wydany (opieczętowany)");
    shot("18-admin-webhook-dostawy");
    browser.follow("header form.inline button");

    // The new animator's one-time password works once, and the admin's pages are not theirs.
    setOwnPassword(browser, base, "marta.animator", martaPassword, "Animatorka-2026");
    browser.go(base + "/admin/uzytkownicy");
    CHECK(browser.text("[role=alert] p") == "Twoja rola nie ma dostępu do tej strony.");
    browser.follow("header form.inline button");

    // Over plain HTTP: roles, CSRF, and a secret's page that no cache keeps.
    const auto session = [&](const std::string& login, const std::string& password) {
        const auto page = api.call("GET", "/logowanie");
        const auto token = cookieOf(page, "kd_login");
        const auto reply = api.call("POST", "/logowanie", "", "login=" + login + "&password=" + password + "&login_csrf=" + token,
                                    "application/x-www-form-urlencoded", {{"Cookie", "kd_login=" + token}});
        REQUIRE(reply.status == 303);
        return "kd_session=" + cookieOf(reply, "kd_session");
    };
    const auto csrfOf = [](const std::string& html) {
        std::smatch m;
        REQUIRE(std::regex_search(html, m, std::regex("name=\"csrf\" value=\"([^\"]+)\"")));
        return std::string(m[1]);
    };
    const auto animator = session("marta.animator", "Animatorka-2026");
    CHECK(api.call("GET", "/admin/uzytkownicy", "", "", "", {{"Cookie", animator}}).status == 403);
    CHECK(api.call("GET", "/iod/retencja", "", "", "", {{"Cookie", animator}}).status == 403);
    const auto admin = session("admin.gops", "Administrator-2026");
    const auto keysPage = api.call("GET", "/admin/klucze", "", "", "", {{"Cookie", admin}});
    REQUIRE(keysPage.status == 200);
    CHECK(api.call("POST", "/admin/klucze", "", "role=admin&label=bez-tokenu", "application/x-www-form-urlencoded", {{"Cookie", admin}})
              .status == 403);
    const auto made = api.call("POST", "/admin/klucze", "", "role=auditor&label=audyt&csrf=" + csrfOf(keysPage.body),
                               "application/x-www-form-urlencoded", {{"Cookie", admin}});
    CHECK(made.status == 201);
    CHECK(made.header("Cache-Control") == "no-store");
    CHECK(made.header("Location").empty());
    CHECK(api.call("GET", "/v1/keys", api.key("gops/admin")).body.find("bez-tokenu") == std::string::npos);

    // The DPO places a legal hold on a document and sees it listed.
    setOwnPassword(browser, base, "iod.gops", dpoPassword, "Ochrona-Danych-2026");
    browser.go(base + "/iod/blokady");
    CHECK(unlabelled() == "0");
    browser.type("#document", document);
    browser.type("#reason", "kontrola NIK 2026");
    browser.follow("form.stack button[type=submit]");
    CHECK(browser.text("p.notice") == "Założono blokadę prawną.");
    CHECK(browser.count("#blokady tbody tr") == 1);
    CHECK(browser.text("#blokady tbody tr td") == document);
    shot("19-iod-blokady");
    CHECK(api.call("GET", "/v1/holds", api.key("gops/dpo")).body.find(document) != std::string::npos);
    // An unknown document is refused on the form, not with an error page.
    browser.type("#document", "no-such-document");
    browser.type("#reason", "test");
    browser.follow("form.stack button[type=submit]");
    CHECK(browser.text("p.error") == "Nie ma takiego dokumentu w Twojej jednostce.");

    // A retention sweep: the closed case's document is due but held, so nothing is proposed.
    browser.go(base + "/iod/retencja");
    CHECK(unlabelled() == "0");
    browser.follow("form[action='/iod/retencja/przeglad'] button");
    CHECK(browser.text("p.notice") == "Przegląd zakończony: żaden dokument nie podlega teraz brakowaniu.");
    CHECK(browser.text("#raport-liczba") == "Dokumentów: 2, w tym po terminie przechowywania: 1.");
    CHECK(browser.count("table[aria-describedby=raport-liczba] tbody tr") == 2);
    CHECK(browser.source().find("blokada prawna: kontrola NIK 2026") != std::string::npos);
    CHECK(browser.count("section.proposal") == 0);
    shot("20-iod-retencja");

    // The hold is cleared and stays in the list of cleared ones.
    browser.go(base + "/iod/blokady");
    browser.follow("#blokady tbody tr button");
    CHECK(browser.text("p.notice") == "Zdjęto blokadę prawną.");
    CHECK(browser.count("#blokady") == 0);
    CHECK(browser.count("#zdjete tbody tr") == 1);
    shot("21-iod-blokada-zdjeta");

    // Now the sweep proposes it; B10 needs the state archive's consent before approval.
    browser.go(base + "/iod/retencja");
    browser.follow("form[action='/iod/retencja/przeglad'] button");
    CHECK(browser.text("p.notice").find("utworzył propozycję") != std::string::npos);
    CHECK(browser.count("section.proposal") == 1);
    CHECK(browser.text("section.proposal tbody tr td") == document);
    CHECK(unlabelled() == "0");
    browser.follow("section.proposal form.stack button[type=submit]");
    CHECK(browser.text("[role=alert]") ==
          "W propozycji są dokumenty kategorii B lub BE: podaj znak zgody archiwum państwowego na ich brakowanie.");
    shot("22-iod-brak-zgody-archiwum");
    browser.type("section.proposal input[name=archive_consent_ref]", "AP-WA/17/2026");
    browser.follow("section.proposal form.stack button[type=submit]");
    CHECK(browser.text("p.notice") == "Propozycję brakowania zatwierdzono.");
    CHECK(browser.text("section.proposal h3").find("zatwierdzona") != std::string::npos);
    browser.follow("section.proposal button.danger");
    CHECK(browser.text("p.notice") == "Brakowanie wykonano; protokoły brakowania zapisano.");
    CHECK(browser.text("section.proposal h3").find("wykonana") != std::string::npos);
    CHECK(browser.text("#raport-liczba") == "Dokumentów: 1, w tym po terminie przechowywania: 0.");
    shot("23-iod-brakowanie-wykonane");
    CHECK(api.call("GET", "/v1/documents/" + document, api.key("gops/auditor")).json()->getValue<std::string>("status") == "erased");
}

TEST_CASE("every role meets every page as the page table says", "[web][roles]") {
    Api api;
    const auto document = api.newDocument();
    const auto subject = subjectIdOf(api, "Zofia Kęsik");
    std::map<std::string, std::string> sessions;
    for (const std::string role : {"intake", "animator", "auditor", "dpo", "admin"}) sessions[role] = sessionOf(api, "osoba." + role, role);

    // Page → the roles it is for besides admin ("*": every role).
    const std::vector<std::pair<std::string, std::set<std::string>>> pages{
        {"/haslo", {"*"}},
        {"/dokumenty", {"animator", "auditor"}},
        {"/dokumenty/" + document, {"animator", "auditor"}},
        {"/dokumenty/" + document + "/pdf", {"animator"}},
        {"/dokumenty/" + document + "/historia", {"animator", "auditor"}},
        {"/dokumenty/" + document + "/karta-audytu", {"animator", "auditor"}},
        {"/weryfikacja", {"auditor"}},
        {"/iod/osoby", {"dpo"}},
        {"/iod/osoby/" + subject + "/eksport", {"dpo"}},
        {"/iod/osoby/" + subject + "/usun", {"dpo"}},
        {"/iod/retencja", {"dpo"}},
        {"/iod/blokady", {"dpo"}},
        {"/admin/uzytkownicy", {}},
        {"/admin/klucze", {}},
        {"/admin/jednostka", {}},
        {"/admin/webhooki", {}},
    };
    int cells = 0;
    for (const auto& [path, allowedRoles] : pages) {
        for (const auto& [role, cookie] : sessions) {
            const bool allowed = role == "admin" || allowedRoles.count("*") == 1 || allowedRoles.count(role) == 1;
            const auto reply = api.call("GET", path, "", "", "", {{"Cookie", cookie}});
            INFO(role << " GET " << path << " → " << reply.status);
            CHECK(reply.status == (allowed ? 200 : 403));
            if (!allowed) CHECK(reply.body.find("Twoja rola nie ma dostępu do tej strony.") != std::string::npos);
            ++cells;
        }
        // Without a session every page sends the browser to log in.
        const auto anonymous = api.call("GET", path);
        INFO("anonymous GET " << path);
        CHECK(anonymous.status == 303);
        CHECK(anonymous.header("Location").rfind("/logowanie?dalej=", 0) == 0);
    }
    CHECK(cells == 16 * 5);
    // The home page sends each role to its work; intake accounts are told to use the API.
    const std::map<std::string, std::string> homes{
        {"animator", "/dokumenty"}, {"auditor", "/dokumenty"}, {"dpo", "/iod/osoby"}, {"admin", "/admin/uzytkownicy"}};
    for (const auto& [role, home] : homes) CHECK(api.call("GET", "/", "", "", "", {{"Cookie", sessions[role]}}).header("Location") == home);
    CHECK(api.call("GET", "/", "", "", "", {{"Cookie", sessions["intake"]}}).body.find("Konto systemowe") != std::string::npos);
}
