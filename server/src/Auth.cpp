// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/server/Auth.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <Poco/Exception.h>

#include <array>
#include <cstring>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/storage/Keys.h"

namespace kooperdoc::server {
namespace {

constexpr const char* kKeyPrefix = "kd_";
constexpr std::size_t kKeyIdLength = 16;       // hex: 64 bits, only needs to be unique
constexpr std::size_t kSecretBytes = 32;       // 256 bits: a fast hash of it is safe to store
constexpr std::size_t kSecretChars = 43;       // base64url of 32 bytes, unpadded
constexpr std::size_t kOneTimePasswordBytes = 15;  // 20 characters
constexpr std::size_t kMinPasswordCharacters = 12;
// argon2 hashes any length, but a megabyte "password" is a request to burn CPU, not a login.
constexpr std::size_t kMaxPasswordBytes = 1024;
constexpr std::uint32_t kSaltBytes = 16;
constexpr std::uint32_t kHashBytes = 32;

std::string randomBytes(std::size_t count) {
    std::string bytes(count, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
        throw Error(ErrorCode::kInternal, "auth.random_failed", "the system's random number generator failed");
    }
    return bytes;
}

std::string base64Url(const std::string& bytes) {
    static const char* const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : bytes) {
        buffer = (buffer << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[(buffer >> bits) & 0x3f];
        }
    }
    if (bits > 0) out += alphabet[(buffer << (6 - bits)) & 0x3f];
    return out;
}

std::string randomToken() { return base64Url(randomBytes(kSecretBytes)); }

bool isBase64Url(const std::string& text, std::size_t from, std::size_t length) {
    if (text.size() != from + length) return false;
    for (std::size_t i = from; i < text.size(); ++i) {
        const char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    }
    return true;
}

bool isLowerHex(const std::string& text) {
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

/// The key id a well-formed secret names ("kd_<id>_<secret>"), else empty.
std::string keyIdOf(const std::string& secret) {
    const std::size_t prefix = std::strlen(kKeyPrefix);
    if (secret.compare(0, prefix, kKeyPrefix) != 0 || secret.size() < prefix + kKeyIdLength + 1) return "";
    const std::string id = secret.substr(prefix, kKeyIdLength);
    if (!isLowerHex(id) || secret[prefix + kKeyIdLength] != '_') return "";
    if (!isBase64Url(secret, prefix + kKeyIdLength + 1, kSecretChars)) return "";
    return id;
}

/// Hex digests compared without an early exit, so the time taken says nothing about how much
/// of a guess matched.
bool sameDigest(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool validLogin(const std::string& login) {
    if (login.size() < 3 || login.size() > 64) return false;
    for (const char c : login) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return false;
    }
    return true;
}

std::size_t utf8Characters(const std::string& text) {
    std::size_t count = 0;
    for (const char c : text) count += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
    return count;
}

void requireStrongPassword(const std::string& password) {
    if (utf8Characters(password) < kMinPasswordCharacters) {
        throw Error(ErrorCode::kInvalidArgument, "auth.password_weak",
                    "a password needs at least " + std::to_string(kMinPasswordCharacters) + " characters");
    }
    if (password.size() > kMaxPasswordBytes) {
        throw Error(ErrorCode::kInvalidArgument, "auth.password_too_long",
                    "a password may have at most " + std::to_string(kMaxPasswordBytes) + " bytes");
    }
}

[[noreturn]] void invalidKey() {
    throw Error(ErrorCode::kUnauthenticated, "auth.invalid_key", "the API key is unknown, malformed or revoked");
}

[[noreturn]] void loginFailed() {
    throw Error(ErrorCode::kUnauthenticated, "auth.login_failed", "wrong login or password");
}

[[noreturn]] void sessionInvalid() {
    throw Error(ErrorCode::kUnauthenticated, "auth.session_invalid", "the session is unknown or has expired: log in again");
}

[[noreturn]] void locked(std::int64_t until) {
    throw Error(ErrorCode::kResourceExhausted, "auth.locked",
                "too many failed logins: the account is locked until " + std::to_string(until) + " (seconds since the epoch)");
}

bool isLocked(const storage::UserRecord& user, std::int64_t now) { return user.lockedUntil && now < *user.lockedUntil; }

struct ActiveSession {
    storage::SessionRecord record;
    storage::UserRecord user;
};

ActiveSession activeSession(storage::Repository& repository, const std::string& token, std::int64_t now) {
    if (!isBase64Url(token, 0, kSecretChars)) sessionInvalid();
    const std::string digest = sha256Hex(token);
    const auto record = repository.session(digest);
    if (!record || !sameDigest(record->tokenSha256, digest)) sessionInvalid();
    if (record->expiresAt <= now) {
        repository.deleteSession(digest);
        sessionInvalid();
    }
    auto user = repository.user(record->userId);
    if (!user || user->disabled) sessionInvalid();
    return {*record, std::move(*user)};
}

Session sessionOf(const std::string& token, const ActiveSession& active) {
    Session session;
    session.token = token;
    session.csrfToken = active.record.csrfToken;
    session.principal.tenantId = active.user.tenantId;
    session.principal.role = parseRole(active.user.role);
    session.principal.actorId = "user:" + active.user.id;
    session.principal.csrfToken = active.record.csrfToken;
    session.mustChangePassword = active.user.mustChangePassword;
    return session;
}

}  // namespace

const char* toString(Role role) {
    switch (role) {
    case Role::kIntake: return "intake";
    case Role::kAnimator: return "animator";
    case Role::kAuditor: return "auditor";
    case Role::kDpo: return "dpo";
    case Role::kAdmin: return "admin";
    }
    return "intake";
}

Role parseRole(const std::string& text) {
    for (const Role role : {Role::kIntake, Role::kAnimator, Role::kAuditor, Role::kDpo, Role::kAdmin}) {
        if (text == toString(role)) return role;
    }
    throw Error(ErrorCode::kInvalidArgument, "auth.role_unknown",
                "unknown role \"" + text + "\" (intake, animator, auditor, dpo, admin)");
}

AuthPolicy loadAuthPolicy(const Poco::Util::AbstractConfiguration& config) {
    const auto number = [&](const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
        std::int64_t value = fallback;
        try {
            value = config.getInt64(key, fallback);
        } catch (const Poco::Exception&) {
            throw Error(ErrorCode::kInvalidArgument, "config.invalid", key + " must be a whole number");
        }
        if (value < min || value > max) {
            throw Error(ErrorCode::kInvalidArgument, "config.invalid",
                        key + " must lie between " + std::to_string(min) + " and " + std::to_string(max));
        }
        return value;
    };
    const AuthPolicy defaults;
    AuthPolicy policy;
    policy.maxFailedLogins = static_cast<int>(number("kooperdoc.auth.max_failed_logins", defaults.maxFailedLogins, 1, 100));
    policy.lockoutSeconds = number("kooperdoc.auth.lockout_seconds", defaults.lockoutSeconds, 1, 7 * 86400);
    policy.sessionSeconds = number("kooperdoc.auth.session_seconds", defaults.sessionSeconds, 60, 31 * 86400);
    policy.argon2Parallelism =
        static_cast<std::uint32_t>(number("kooperdoc.auth.argon2.parallelism", defaults.argon2Parallelism, 1, 16));
    // argon2 needs 8 KiB per lane; 4 GiB is beyond any server this runs on.
    policy.argon2MemoryKiB = static_cast<std::uint32_t>(
        number("kooperdoc.auth.argon2.memory_kib", defaults.argon2MemoryKiB, 8 * policy.argon2Parallelism, 4 * 1024 * 1024));
    policy.argon2Iterations =
        static_cast<std::uint32_t>(number("kooperdoc.auth.argon2.iterations", defaults.argon2Iterations, 1, 100));
    return policy;
}

Authenticator::Authenticator(storage::Repository& repository, AuthPolicy policy)
    : repository_(repository), policy_(policy) {}

IssuedApiKey Authenticator::createApiKey(const std::string& tenantId, Role role, const std::string& label, std::int64_t now) {
    if (label.size() > 200) throw Error(ErrorCode::kInvalidArgument, "auth.label_invalid", "a key's label has at most 200 bytes");
    for (const char c : label) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            throw Error(ErrorCode::kInvalidArgument, "auth.label_invalid", "a key's label holds a control character");
        }
    }
    IssuedApiKey issued;
    issued.id = storage::randomId().substr(0, kKeyIdLength);
    issued.secret = kKeyPrefix + issued.id + "_" + randomToken();
    storage::ApiKeyRecord record;
    record.id = issued.id;
    record.tenantId = tenantId;
    record.role = toString(role);
    record.label = label;
    record.keySha256 = sha256Hex(issued.secret);
    record.createdAt = now;
    repository_.insertApiKey(record);
    return issued;
}

void Authenticator::revokeApiKey(const std::string& tenantId, const std::string& keyId, std::int64_t now) {
    if (!repository_.revokeApiKey(tenantId, keyId, now)) {
        throw Error(ErrorCode::kNotFound, "auth.key_unknown", "tenant " + tenantId + " has no API key " + keyId);
    }
}

std::vector<storage::ApiKeyRecord> Authenticator::apiKeys(const std::string& tenantId) { return repository_.apiKeys(tenantId); }

Principal Authenticator::authenticateApiKey(const std::string& secret, std::int64_t now) {
    (void)now;  // a revoked key stays revoked whatever the clock says
    const std::string id = keyIdOf(secret);
    if (id.empty()) invalidKey();
    const std::string digest = sha256Hex(secret);
    const auto record = repository_.apiKeyByHash(digest);
    if (!record || !sameDigest(record->keySha256, digest) || record->id != id || record->revokedAt) invalidKey();
    Principal principal;
    principal.tenantId = record->tenantId;
    principal.role = parseRole(record->role);
    principal.actorId = "key:" + record->id;
    return principal;
}

IssuedUser Authenticator::createUser(const std::string& tenantId, const std::string& login, Role role, std::int64_t now) {
    if (!validLogin(login)) {
        throw Error(ErrorCode::kInvalidArgument, "auth.login_invalid",
                    "a login has 3 to 64 characters: lower-case ASCII letters, digits, '.', '_' and '-'");
    }
    IssuedUser issued;
    issued.id = storage::randomId();
    issued.oneTimePassword = base64Url(randomBytes(kOneTimePasswordBytes));
    storage::UserRecord record;
    record.id = issued.id;
    record.tenantId = tenantId;
    record.login = login;
    record.role = toString(role);
    record.passwordHash = hashPassword(issued.oneTimePassword);
    record.mustChangePassword = true;
    record.createdAt = now;
    if (!repository_.insertUser(record)) {
        throw Error(ErrorCode::kAlreadyExists, "auth.login_taken", "the login is taken");
    }
    return issued;
}

std::vector<storage::UserRecord> Authenticator::users(const std::string& tenantId) { return repository_.users(tenantId); }

void Authenticator::setUserDisabled(const std::string& tenantId, const std::string& userId, bool disabled) {
    if (!repository_.setUserDisabled(tenantId, userId, disabled)) {
        throw Error(ErrorCode::kNotFound, "auth.user_unknown", "tenant " + tenantId + " has no user " + userId);
    }
    // authenticateSession refuses a disabled user anyway; deleting the rows makes it final.
    if (disabled) repository_.deleteSessionsOfUser(userId, "");
}

IssuedUser Authenticator::resetPassword(const std::string& tenantId, const std::string& userId) {
    const auto user = repository_.user(userId);
    if (!user || user->tenantId != tenantId) {
        throw Error(ErrorCode::kNotFound, "auth.user_unknown", "tenant " + tenantId + " has no user " + userId);
    }
    IssuedUser issued;
    issued.id = userId;
    issued.oneTimePassword = base64Url(randomBytes(kOneTimePasswordBytes));
    repository_.setPassword(userId, hashPassword(issued.oneTimePassword), true);
    repository_.deleteSessionsOfUser(userId, "");
    repository_.recordSuccessfulLogin(userId);  // clears the failure count and the lock
    return issued;
}

Session Authenticator::login(const std::string& login, const std::string& password, std::int64_t now) {
    const auto user = validLogin(login) && password.size() <= kMaxPasswordBytes ? repository_.userByLogin(login) : std::nullopt;
    if (!user) {
        // As long as a real check, so that the time taken does not tell which logins exist.
        hashPassword(password.substr(0, kMaxPasswordBytes));
        loginFailed();
    }
    if (isLocked(*user, now)) locked(*user->lockedUntil);
    if (!checkPassword(password, user->passwordHash)) {
        repository_.recordFailedLogin(user->id, policy_.maxFailedLogins, now + policy_.lockoutSeconds);
        loginFailed();
    }
    if (user->disabled) loginFailed();
    repository_.recordSuccessfulLogin(user->id);
    repository_.deleteExpiredSessions(now);

    storage::SessionRecord record;
    const std::string token = randomToken();
    record.tokenSha256 = sha256Hex(token);
    record.userId = user->id;
    record.csrfToken = randomToken();
    record.createdAt = now;
    record.expiresAt = now + policy_.sessionSeconds;
    repository_.insertSession(record);
    return sessionOf(token, {record, *user});
}

Session Authenticator::authenticateSession(const std::string& token, std::int64_t now) {
    return sessionOf(token, activeSession(repository_, token, now));
}

void Authenticator::logout(const std::string& token) {
    if (!token.empty()) repository_.deleteSession(sha256Hex(token));
}

void Authenticator::changePassword(const std::string& token, const std::string& oldPassword, const std::string& newPassword,
                                   std::int64_t now) {
    const ActiveSession active = activeSession(repository_, token, now);
    requireStrongPassword(newPassword);
    if (isLocked(active.user, now)) locked(*active.user.lockedUntil);
    // A session left open must not become a way to guess the password without the lock-out.
    if (oldPassword.size() > kMaxPasswordBytes || !checkPassword(oldPassword, active.user.passwordHash)) {
        repository_.recordFailedLogin(active.user.id, policy_.maxFailedLogins, now + policy_.lockoutSeconds);
        throw Error(ErrorCode::kUnauthenticated, "auth.login_failed", "the current password is wrong");
    }
    if (newPassword == oldPassword) {
        throw Error(ErrorCode::kInvalidArgument, "auth.password_unchanged", "the new password must differ from the old one");
    }
    repository_.setPassword(active.user.id, hashPassword(newPassword), false);
    // Whoever else held a session with the old password loses it.
    repository_.deleteSessionsOfUser(active.user.id, active.record.tokenSha256);
}

std::string Authenticator::hashPassword(const std::string& password) const {
    const std::string salt = randomBytes(kSaltBytes);
    const std::size_t length = argon2_encodedlen(policy_.argon2Iterations, policy_.argon2MemoryKiB, policy_.argon2Parallelism,
                                                 kSaltBytes, kHashBytes, Argon2_id);
    std::string encoded(length, '\0');
    const int rc = argon2id_hash_encoded(policy_.argon2Iterations, policy_.argon2MemoryKiB, policy_.argon2Parallelism,
                                         password.data(), password.size(), salt.data(), salt.size(), kHashBytes,
                                         encoded.data(), encoded.size());
    if (rc != ARGON2_OK) {
        throw Error(ErrorCode::kInternal, "auth.hash_failed", std::string("argon2id: ") + argon2_error_message(rc));
    }
    encoded.resize(std::strlen(encoded.c_str()));
    return encoded;
}

bool Authenticator::checkPassword(const std::string& password, const std::string& phcHash) const {
    if (phcHash.rfind("$argon2id$", 0) != 0) return false;
    return argon2id_verify(phcHash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace kooperdoc::server
