// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/server/SigningSetup.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include "kooperdoc/core/Error.h"
#include "kooperdoc/server/HttpClient.h"
#include "kooperdoc/signing/DevIdentity.h"

namespace kooperdoc::server {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultIdentityDir = ".kooperdoc/identity";

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::kNotFound, "file.unreadable", "cannot read " + path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string text(const Poco::Util::AbstractConfiguration& config, const std::string& key, const std::string& fallback = "") {
    const auto value = Poco::trim(config.getString(key, ""));
    return value.empty() ? fallback : value;
}

std::vector<std::string> list(const Poco::Util::AbstractConfiguration& config, const std::string& key) {
    std::vector<std::string> out;
    Poco::StringTokenizer tokens(text(config, key), ",",
                                 Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    for (const auto& token : tokens) out.push_back(token);
    return out;
}

bool flag(const Poco::Util::AbstractConfiguration& config, const std::string& key, bool fallback) {
    try {
        return config.getBool(key, fallback);
    } catch (const Poco::Exception&) {
        throw Error(ErrorCode::kInvalidArgument, "config.invalid", key + " must be true or false");
    }
}

std::string withoutTrailingNewlines(std::string password) {
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    return password;
}

}  // namespace

signing::SigningIdentity SigningSetup::sealIdentity() const {
    const auto dir = fs::path(identityDir);
    if (development) {
        return signing::SigningIdentity::fromPem(readFile((dir / "seal.pem").string()), readFile((dir / "seal.key.pem").string()));
    }
    if (!p12.empty()) {
        if (p12PasswordFile.empty()) {
            throw Error(ErrorCode::kInvalidArgument, "config.invalid",
                        "kooperdoc.signing.identity.p12 needs kooperdoc.signing.identity.p12-password-file");
        }
        return signing::SigningIdentity::fromPkcs12(readFile(p12), withoutTrailingNewlines(readFile(p12PasswordFile)));
    }
    return signing::SigningIdentity::fromPem(readFile(certificate), readFile(key));
}

SigningSetup loadSigningSetup(const Poco::Util::AbstractConfiguration& config, const SigningOverrides& overrides,
                              std::ostream& notices, std::int64_t now) {
    SigningSetup setup;
    setup.identityDir = overrides.identityDir.value_or(text(config, "kooperdoc.signing.identity.dir", kDefaultIdentityDir));
    setup.p12 = text(config, "kooperdoc.signing.identity.p12");
    setup.p12PasswordFile = text(config, "kooperdoc.signing.identity.p12-password-file");
    setup.certificate = text(config, "kooperdoc.signing.identity.certificate");
    setup.key = text(config, "kooperdoc.signing.identity.key");
    setup.development = overrides.identityDir.has_value() || (setup.p12.empty() && setup.certificate.empty());
    if (!setup.development && setup.p12.empty() && setup.key.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "config.invalid",
                    "kooperdoc.signing.identity.certificate needs kooperdoc.signing.identity.key");
    }
    setup.level = signing::parsePadesLevel(overrides.level.value_or(text(config, "kooperdoc.signing.level", "B-LT")));
    const auto devFile = [&](const char* name) { return (fs::path(setup.identityDir) / name).string(); };

    if (setup.development && !fs::exists(devFile("ca.pem"))) {  // ca.pem is written last
        // Two processes starting at once (the service and a command, parallel tests) would both
        // see no identity and the second would fail on the first's files: one creates, under a
        // lock beside the directory, and the other then finds it complete.
        const fs::path directory = fs::absolute(setup.identityDir);
        std::error_code ignored;
        fs::create_directories(directory.parent_path(), ignored);
        const std::string lockPath = directory.string() + ".lock";
        const int lock = ::open(lockPath.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        if (lock >= 0) ::flock(lock, LOCK_EX);
        try {
            if (!fs::exists(devFile("ca.pem"))) {
                signing::writeDevelopmentIdentity(setup.identityDir, now - 300);
                notices << "kooperdoc: created a development signing identity in " << setup.identityDir
                        << " (not for production: configure a qualified seal, see config/kooperdoc.properties)\n";
            }
        } catch (...) {
            if (lock >= 0) ::close(lock);
            throw;
        }
        if (lock >= 0) ::close(lock);  // closing releases the lock
    }

    if (const auto url = text(config, "kooperdoc.signing.tsa.url"); !url.empty()) {
        std::vector<std::string> trusted;
        for (const auto& file : list(config, "kooperdoc.signing.tsa.trusted-ca")) {
            for (auto& der : signing::readCertificates(readFile(file))) trusted.push_back(std::move(der));
        }
        setup.context.tsa = std::make_shared<signing::Rfc3161Client>(
            url, [](const std::string& to, const std::string& body, const std::string& type) { return httpPost(to, body, type); },
            std::move(trusted));
    } else if (const auto tsaCertificate = text(config, "kooperdoc.signing.tsa.certificate"); !tsaCertificate.empty()) {
        setup.embeddedTsa = std::make_shared<signing::EmbeddedTsa>(readFile(tsaCertificate),
                                                                   readFile(text(config, "kooperdoc.signing.tsa.key")));
    } else if (setup.development) {
        setup.embeddedTsa = std::make_shared<signing::EmbeddedTsa>(readFile(devFile("tsa.pem")), readFile(devFile("tsa.key.pem")));
    }
    if (setup.embeddedTsa) setup.context.tsa = setup.embeddedTsa;

    auto certificates = list(config, "kooperdoc.signing.dss.certificates");
    auto crls = list(config, "kooperdoc.signing.dss.crls");
    if (setup.development) {
        certificates.push_back(devFile("ca.pem"));
        crls.push_back(devFile("ca.crl.pem"));
    }
    for (const auto& file : certificates) {
        for (auto& der : signing::readCertificates(readFile(file))) setup.context.extraCertificatesDer.push_back(std::move(der));
    }
    for (const auto& file : crls) {
        for (auto& der : signing::readCrls(readFile(file))) setup.context.crlsDer.push_back(std::move(der));
    }
    if (flag(config, "kooperdoc.signing.dss.fetch-crls", false)) {
        setup.context.fetchCrl = [](const std::string& url) { return httpGet(url); };
    }
    return setup;
}

}  // namespace kooperdoc::server
