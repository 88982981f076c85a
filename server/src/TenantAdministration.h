// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the tenant administrator and the data protection officer do, once, for both ways in: the
// /v1 routes (routes/AdminRoutes.cpp, routes/RetentionRoutes.cpp) turn the values into JSON, the
// web pages (web/AdminPages.cpp, web/RetentionPages.cpp) into Mustache data. Each operation is
// scoped by the caller's tenant (another tenant's user, key, webhook or proposal is answered like
// one that does not exist), acts as the request's principal and records the audit event the
// change makes. Checking the shape of the input (JSON members, form fields) is the caller's; the
// library's refusals go on as Error, for the caller to say in its own way.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "Api.h"
#include "Webhooks.h"

namespace kooperdoc::server {

/// The JSON pointer (RFC 6901) of a top-level member: '~' and '/' in its name escaped.
std::string pointerTo(const std::string& member);

// ------------------------------------------------------------------------------------ tenant

/// Error{kNotFound, "storage.tenant_unknown"} when the caller's tenant is gone.
storage::TenantRecord callersTenant(const Api& api, const RequestContext& ctx);

/// Replaces the tenant's profile with \p profileJson (a JSON object), checked as `admin
/// create-tenant --profile` checks it: member by member (ValidationError, one violation per bad
/// member, pointer "/<member>"), then the whole; records config.changed. The stored tenant.
storage::TenantRecord replaceTenantProfile(const Api& api, const RequestContext& ctx, const std::string& profileJson);

// ------------------------------------------------------------------------------------- users

/// Error{kNotFound, "auth.user_unknown"} for a user of another tenant, or none.
storage::UserRecord tenantUser(const Api& api, const RequestContext& ctx, const std::string& id);

/// A user and the one-time password they log in with once (shown once, never stored).
struct UserWithPassword {
    storage::UserRecord user;
    std::string oneTimePassword;
};

/// Error{kInvalidArgument, "auth.role_unknown"} for \p role, other kInvalidArgument errors for
/// \p login; records key.changed (created).
UserWithPassword createUser(const Api& api, const RequestContext& ctx, const std::string& login, const std::string& role);
/// Error{kFailedPrecondition, "auth.self_disable"}: an administrator cannot disable themselves.
/// Records key.changed (disabled/enabled). The user afterwards.
storage::UserRecord setUserDisabled(const Api& api, const RequestContext& ctx, const std::string& id, bool disabled);
/// Records key.changed (password_reset).
UserWithPassword resetPassword(const Api& api, const RequestContext& ctx, const std::string& id);

// -------------------------------------------------------------------------------------- keys

struct KeyWithSecret {
    storage::ApiKeyRecord key;
    std::string secret;  ///< shown once; only its SHA-256 is kept
};

/// Error{kInvalidArgument, "auth.role_unknown"} for \p role, other kInvalidArgument errors for
/// \p label; records key.changed (created).
KeyWithSecret createApiKey(const Api& api, const RequestContext& ctx, const std::string& role, const std::string& label);
/// Error{kNotFound, "auth.key_unknown"}; Error{kFailedPrecondition, "auth.key_in_use"} for the key
/// the request came with. Revoking twice changes nothing and is logged once. The key afterwards.
storage::ApiKeyRecord revokeApiKey(const Api& api, const RequestContext& ctx, const std::string& id);

// ---------------------------------------------------------------------------------- webhooks

/// Error{kUnavailable, "webhook.unavailable"} when webhooks are not set up.
WebhookDispatcher& webhookDispatcher(const Api& api);
/// Error{kNotFound, "webhook.unknown"}.
storage::WebhookRecord tenantWebhook(const Api& api, const RequestContext& ctx, const std::string& id);

/// The dispatcher's "webhook.url_invalid" and "webhook.event_unknown" go on; records
/// config.changed (webhook created).
CreatedWebhook createWebhook(const Api& api, const RequestContext& ctx, const std::string& url,
                             const std::vector<std::string>& events);
/// The webhook as it was before it was deleted; records config.changed.
storage::WebhookRecord deleteWebhook(const Api& api, const RequestContext& ctx, const std::string& id);
/// The webhook afterwards; records config.changed.
storage::WebhookRecord setWebhookEnabled(const Api& api, const RequestContext& ctx, const std::string& id, bool enabled);

struct WebhookLog {
    storage::WebhookRecord webhook;
    std::vector<storage::WebhookDelivery> deliveries;  ///< newest first, at most the limit
};
WebhookLog webhookLog(const Api& api, const RequestContext& ctx, const std::string& id, std::size_t limit);
/// Error{kNotFound, "webhook.delivery_unknown"} for a delivery not of this webhook. Records
/// config.changed (redelivered). The delivery afterwards.
storage::WebhookDelivery redeliver(const Api& api, const RequestContext& ctx, const std::string& webhookId,
                                   const std::string& deliveryId);

// ------------------------------------------------------------------------- retention, holds

/// Error{kNotFound, "retention.proposal_unknown"}.
storage::DisposalProposal tenantProposal(const Api& api, const RequestContext& ctx, const std::string& id);

/// A sweep of the caller's tenant now: unless \p dryRun, what is due and not held becomes one
/// proposal with a retention.proposed event per item (nothing is erased).
storage::DisposalProposal runRetentionSweep(const Api& api, const RequestContext& ctx, bool dryRun);
/// The caller approves (\p archiveConsentRef: the state archive's consent, where a category needs
/// it); records retention.approved. The proposal afterwards.
storage::DisposalProposal approveProposal(const Api& api, const RequestContext& ctx, const std::string& id,
                                          const std::string& archiveConsentRef);
/// Records retention.rejected. The proposal afterwards.
storage::DisposalProposal rejectProposal(const Api& api, const RequestContext& ctx, const std::string& id);

struct ExecutedProposal {
    storage::DisposalProposal proposal;        ///< afterwards
    std::vector<storage::DisposalRecord> records;  ///< one per item, each with its retention.executed event
};
ExecutedProposal executeProposal(const Api& api, const RequestContext& ctx, const std::string& id);

/// A hold on the caller's document (Error{kNotFound, "storage.document_unknown"} for another
/// tenant's) or on a case, set by the caller; records hold.placed (its id, never the reason).
storage::LegalHold placeHold(const Api& api, const RequestContext& ctx, const std::string& documentId,
                             const std::string& caseRef, const std::string& reason);
/// Clears an active hold (storage.hold_unknown, 404, for an unknown, cleared or foreign one);
/// records hold.cleared. The hold afterwards.
storage::LegalHold clearHold(const Api& api, const RequestContext& ctx, const std::string& id);

}  // namespace kooperdoc::server
