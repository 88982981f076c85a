// SPDX-License-Identifier: AGPL-3.0-or-later
// The audit trail from the command line (issue 6): recording the storage commands' events, the
// `audit` command.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "CommandSupport.h"
#include "kooperdoc/audit/AuditLog.h"
#include "kooperdoc/audit/Trail.h"
#include "kooperdoc/server/StorageSetup.h"
#include "kooperdoc/service/DocumentIssuer.h"

namespace kooperdoc::cli {

/// audit verify, prove, checkpoint, public-key, check.
void addAuditCommands(CommandTable& table);

/// The storage configuration a command names (--config, --data-dir); defined in StorageCommands.
server::StorageSetup storageSetupFor(const Context& ctx, const Arguments& a);

/// Records what a storage command did, in the audit log of its own database. Made before the
/// command changes anything (so a missing or bad audit key, or a bad --actor, fails it first) and
/// used after the change has committed: a failed command records nothing, and every event names
/// a change that happened. Values are ids and codes only (audit::AuditLog::record refuses names).
class EventRecorder {
public:
    /// --actor ID (default "cli") and --role ROLE (default "admin"): pseudonymous ids, never names.
    EventRecorder(const Context& ctx, const Arguments& a, storage::Repository& repository, std::int64_t now);

    void record(const std::string& type, const std::string& tenantId, const std::string& documentId = "",
                const std::string& documentSha256 = "", const std::map<std::string, std::string>& details = {});
    audit::AuditLog& log() { return log_; }
    service::Actor actor() const { return {actorId_, actorRole_}; }

private:
    audit::AuditLog log_;
    std::string actorId_, actorRole_;
    std::int64_t now_;
};

}  // namespace kooperdoc::cli
