// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Who is asking (issue 7, point 3). Systems present API keys (`Authorization: Bearer KEY`),
// people log in to the web UI with a password and then carry a session cookie. Either way a
// request becomes a Principal: one tenant, one role, a pseudonymous actor id for the audit log.
// Secrets are never stored: API keys and session tokens as SHA-256 (they are 256-bit random, so
// a fast hash is enough), passwords as argon2id (libargon2).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Util/AbstractConfiguration.h>

#include "kooperdoc/storage/Repository.h"

namespace kooperdoc::server {

enum class Role : std::uint8_t { kIntake, kAnimator, kAuditor, kDpo, kAdmin };

/// "intake", "animator", "auditor", "dpo", "admin".
const char* toString(Role role);
/// Error{kInvalidArgument, "auth.role_unknown"}.
Role parseRole(const std::string& text);

struct Principal {
    std::string tenantId;
    Role role = Role::kIntake;
    /// For the audit log: "key:<key id>" or "user:<user id>" — never a login name.
    std::string actorId;
    /// Set for a web session: the token its forms must echo (CSRF), which API keys do not need.
    std::optional<std::string> csrfToken;
};

struct IssuedApiKey {
    std::string id;      ///< public, for listing and revoking
    std::string secret;  ///< shown once: "kd_<id>_<random>"; only its SHA-256 is kept
};

struct IssuedUser {
    std::string id;
    std::string oneTimePassword;  ///< shown once; the user must change it at first login
};

struct Session {
    std::string token;      ///< the cookie value; only its SHA-256 is kept
    std::string csrfToken;  ///< echoed by every state-changing form
    Principal principal;
    bool mustChangePassword = false;
};

struct AuthPolicy {
    int maxFailedLogins = 5;               ///< then the account locks
    std::int64_t lockoutSeconds = 15 * 60;
    std::int64_t sessionSeconds = 8 * 3600;
    /// argon2id cost (RFC 9106's second recommended option, fit for a 2-core server).
    std::uint32_t argon2MemoryKiB = 64 * 1024;
    std::uint32_t argon2Iterations = 3;
    std::uint32_t argon2Parallelism = 1;
};

/// The kooperdoc.auth.* keys (config/kooperdoc.properties), each defaulting to AuthPolicy's.
/// Error{kInvalidArgument, "config.invalid"} for a value out of range.
AuthPolicy loadAuthPolicy(const Poco::Util::AbstractConfiguration& config);

class Authenticator {
public:
    Authenticator(storage::Repository& repository, AuthPolicy policy = {});

    IssuedApiKey createApiKey(const std::string& tenantId, Role role, const std::string& label, std::int64_t now);
    /// Error{kNotFound, "auth.key_unknown"}.
    void revokeApiKey(const std::string& tenantId, const std::string& keyId, std::int64_t now);
    std::vector<storage::ApiKeyRecord> apiKeys(const std::string& tenantId);
    /// The key's principal; Error{kUnauthenticated, "auth.invalid_key"} for an unknown, malformed
    /// or revoked key (one answer for all three, in constant time per stored hash).
    Principal authenticateApiKey(const std::string& secret, std::int64_t now);

    /// A person: login is their work login (not a PESEL), role and tenant fixed at creation.
    /// Error{kAlreadyExists, "auth.login_taken"}.
    IssuedUser createUser(const std::string& tenantId, const std::string& login, Role role, std::int64_t now);
    /// The tenant's users (records with password hashes: callers show only what they must).
    std::vector<storage::UserRecord> users(const std::string& tenantId);
    /// A disabled user can neither log in nor use a session; disabling ends every session at once.
    /// Error{kNotFound, "auth.user_unknown"} for a user of no or another tenant.
    void setUserDisabled(const std::string& tenantId, const std::string& userId, bool disabled);
    /// A new one-time password (shown once; to be changed at the next login), every session of
    /// the user ended and any lock-out lifted: the way back for someone who forgot theirs.
    /// Error{kNotFound, "auth.user_unknown"}.
    IssuedUser resetPassword(const std::string& tenantId, const std::string& userId);
    /// Error{kUnauthenticated, "auth.login_failed"} (unknown login or wrong password: one answer),
    /// Error{kResourceExhausted, "auth.locked"} while locked out (the password is not checked).
    Session login(const std::string& login, const std::string& password, std::int64_t now);
    /// Error{kUnauthenticated, "auth.session_invalid"} for unknown or expired sessions.
    Session authenticateSession(const std::string& token, std::int64_t now);
    void logout(const std::string& token);
    /// Error{kInvalidArgument, "auth.password_weak"} below 12 characters.
    void changePassword(const std::string& token, const std::string& oldPassword, const std::string& newPassword, std::int64_t now);

    /// argon2id in the PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
    std::string hashPassword(const std::string& password) const;
    bool checkPassword(const std::string& password, const std::string& phcHash) const;

private:
    storage::Repository& repository_;
    AuthPolicy policy_;
};

}  // namespace kooperdoc::server
