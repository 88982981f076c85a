// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A fresh installation has nobody who could log in to create the others. When the store has no
// user at all, `kooperdoc serve` creates one administrator (and the tenant it belongs to, if
// missing) and prints the one-time password once — the README's run command shows it.

#include <cstdint>
#include <optional>
#include <string>

#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/server/Auth.h"
#include "kooperdoc/storage/DocumentStore.h"

namespace kooperdoc::server {

struct FirstAdmin {
    std::string tenantId;
    std::string login;
    std::string oneTimePassword;
};

/// The administrator created now, or nothing when any user exists already (also when another
/// instance starting at the same moment created it first).
std::optional<FirstAdmin> createFirstAdmin(storage::DocumentStore& store, Authenticator& authenticator, audit::AuditLog& log,
                                           const std::string& tenantId, const std::string& login, std::int64_t now);

}  // namespace kooperdoc::server
