// SPDX-License-Identifier: AGPL-3.0-or-later
#include "FirstAdmin.h"

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"

namespace kooperdoc::server {
namespace {

void record(audit::AuditLog& log, const std::string& tenantId, const std::string& type, const std::string& sha256,
            std::map<std::string, std::string> details, std::int64_t now) {
    audit::AuditEvent event;
    event.time = now;
    event.tenantId = tenantId;
    event.actorId = "system";
    event.actorRole = "system";
    event.type = type;
    event.documentSha256 = sha256;
    event.details = std::move(details);
    log.record(event);
}

}  // namespace

std::optional<FirstAdmin> createFirstAdmin(storage::DocumentStore& store, Authenticator& authenticator, audit::AuditLog& log,
                                           const std::string& tenantId, const std::string& login, std::int64_t now) {
    auto& repository = store.repository();
    for (const auto& tenant : repository.tenantIds()) {
        if (!repository.users(tenant).empty()) return std::nullopt;
    }
    if (!repository.tenant(tenantId)) {
        const std::string profile = "{}";  // the administrator fills in the RODO settings in the web UI
        store.putTenant(tenantId, profile, now);
        record(log, tenantId, "config.changed", sha256Hex(profile), {{"setting", "tenant"}, {"action", "created"}}, now);
    }
    IssuedUser issued;
    try {
        issued = authenticator.createUser(tenantId, login, Role::kAdmin, now);
    } catch (const Error& e) {
        if (e.code() == ErrorCode::kAlreadyExists) return std::nullopt;
        throw;
    }
    record(log, tenantId, "key.changed", "", {{"user", issued.id}, {"action", "created"}, {"role", "admin"}}, now);
    return FirstAdmin{tenantId, login, issued.oneTimePassword};
}

}  // namespace kooperdoc::server
