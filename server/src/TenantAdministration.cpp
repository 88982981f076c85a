// SPDX-License-Identifier: AGPL-3.0-or-later
#include "TenantAdministration.h"

#include <algorithm>
#include <sstream>

#include <Poco/JSON/Object.h>

#include "Http.h"
#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/service/SubjectExport.h"
#include "kooperdoc/templates/TenantProfiles.h"

namespace kooperdoc::server {
namespace {

std::vector<storage::ApiKeyRecord>::const_iterator findKey(const std::vector<storage::ApiKeyRecord>& keys, const std::string& id) {
    return std::find_if(keys.begin(), keys.end(), [&](const storage::ApiKeyRecord& k) { return k.id == id; });
}

void recordWebhookChange(const Api& api, const RequestContext& ctx, const std::string& webhookId, const std::string& action) {
    // The URL stays in the webhook's row; the log keeps its id.
    api.record(ctx, "config.changed", "", "", {{"setting", "webhook"}, {"action", action}, {"webhook", webhookId}});
}

}  // namespace

std::string pointerTo(const std::string& member) {
    std::string out = "/";
    for (const char c : member) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

// ------------------------------------------------------------------------------------ tenant

storage::TenantRecord callersTenant(const Api& api, const RequestContext& ctx) {
    const auto tenant = api.store->repository().tenant(ctx.who().tenantId);
    // A key outlives nothing: its tenant exists while it authenticates. Say so plainly if not.
    if (!tenant) throw Error(ErrorCode::kNotFound, "storage.tenant_unknown", "the caller's tenant is gone");
    return *tenant;
}

storage::TenantRecord replaceTenantProfile(const Api& api, const RequestContext& ctx, const std::string& profileJson) {
    const auto body = http::parseJsonObject(profileJson);
    std::vector<Violation> violations;
    for (const auto& [name, value] : *body) {
        Poco::JSON::Object single;
        single.set(name, value);
        std::ostringstream member;
        single.stringify(member);
        try {
            templates::parseTenantProfile(member.str());
        } catch (const Error& e) {
            violations.push_back({pointerTo(name), e.reason(), "Nieprawidłowe pole profilu instytucji.", e.what()});
        }
    }
    if (!violations.empty()) throw ValidationError(violations);
    templates::parseTenantProfile(profileJson);  // the whole, too: the one rule that decides what is printable
    const auto& tenantId = callersTenant(api, ctx).id;
    api.store->putTenant(tenantId, profileJson, api.clock());
    api.record(ctx, "config.changed", "", sha256Hex(profileJson), {{"setting", "tenant"}, {"action", "updated"}});
    return callersTenant(api, ctx);
}

// ------------------------------------------------------------------------------------- users

storage::UserRecord tenantUser(const Api& api, const RequestContext& ctx, const std::string& id) {
    const auto user = api.store->repository().user(id);
    if (!user || user->tenantId != ctx.who().tenantId) {
        throw Error(ErrorCode::kNotFound, "auth.user_unknown", "no user " + id + " in this tenant");
    }
    return *user;
}

UserWithPassword createUser(const Api& api, const RequestContext& ctx, const std::string& login, const std::string& role) {
    const auto parsed = parseRole(role);
    const auto issued = api.authenticator->createUser(ctx.who().tenantId, login, parsed, api.clock());
    api.record(ctx, "key.changed", "", "", {{"user", issued.id}, {"action", "created"}, {"role", toString(parsed)}});
    return {tenantUser(api, ctx, issued.id), issued.oneTimePassword};
}

storage::UserRecord setUserDisabled(const Api& api, const RequestContext& ctx, const std::string& id, bool disabled) {
    tenantUser(api, ctx, id);
    if (disabled && ctx.who().actorId == "user:" + id) {
        throw Error(ErrorCode::kFailedPrecondition, "auth.self_disable", "an administrator cannot disable their own account");
    }
    api.authenticator->setUserDisabled(ctx.who().tenantId, id, disabled);
    api.record(ctx, "key.changed", "", "", {{"user", id}, {"action", disabled ? "disabled" : "enabled"}});
    return tenantUser(api, ctx, id);
}

UserWithPassword resetPassword(const Api& api, const RequestContext& ctx, const std::string& id) {
    tenantUser(api, ctx, id);
    const auto issued = api.authenticator->resetPassword(ctx.who().tenantId, id);
    api.record(ctx, "key.changed", "", "", {{"user", id}, {"action", "password_reset"}});
    return {tenantUser(api, ctx, id), issued.oneTimePassword};
}

// -------------------------------------------------------------------------------------- keys

KeyWithSecret createApiKey(const Api& api, const RequestContext& ctx, const std::string& role, const std::string& label) {
    const auto parsed = parseRole(role);
    const auto issued = api.authenticator->createApiKey(ctx.who().tenantId, parsed, label, api.clock());
    api.record(ctx, "key.changed", "", "", {{"key", issued.id}, {"action", "created"}, {"role", toString(parsed)}});
    const auto keys = api.authenticator->apiKeys(ctx.who().tenantId);
    const auto it = findKey(keys, issued.id);
    if (it == keys.end()) throw Error(ErrorCode::kInternal, "auth.key_unknown", "the new API key " + issued.id + " is not listed");
    return {*it, issued.secret};
}

/// Decision: the key a request comes with cannot revoke itself (409 auth.key_in_use). Revoking
/// one's own key by mistake would lock the tenant's admin out of the API; a rotation makes the
/// new key first and revokes the old one with it (or with `kooperdoc admin revoke-key`). A page
/// request comes with a session, never a key, so it never meets this refusal.
storage::ApiKeyRecord revokeApiKey(const Api& api, const RequestContext& ctx, const std::string& id) {
    const auto keys = api.authenticator->apiKeys(ctx.who().tenantId);
    const auto it = findKey(keys, id);
    if (it == keys.end()) throw Error(ErrorCode::kNotFound, "auth.key_unknown", "no API key " + id + " in this tenant");
    if (ctx.who().actorId == "key:" + id) {
        throw Error(ErrorCode::kFailedPrecondition, "auth.key_in_use",
                    "a key cannot revoke itself: revoke it with another admin key or `kooperdoc admin revoke-key`");
    }
    api.authenticator->revokeApiKey(ctx.who().tenantId, id, api.clock());
    // Revoking twice changes nothing, so it is logged once.
    if (!it->revokedAt) api.record(ctx, "key.changed", "", "", {{"key", id}, {"action", "revoked"}});
    const auto after = api.authenticator->apiKeys(ctx.who().tenantId);
    const auto revoked = findKey(after, id);
    if (revoked == after.end()) throw Error(ErrorCode::kNotFound, "auth.key_unknown", "no API key " + id + " in this tenant");
    return *revoked;
}

// ---------------------------------------------------------------------------------- webhooks

WebhookDispatcher& webhookDispatcher(const Api& api) {
    if (api.webhooks == nullptr) throw Error(ErrorCode::kUnavailable, "webhook.unavailable", "webhooks are not set up");
    return *api.webhooks;
}

storage::WebhookRecord tenantWebhook(const Api& api, const RequestContext& ctx, const std::string& id) {
    const auto webhook = api.store->repository().webhook(ctx.who().tenantId, id);
    if (!webhook) throw Error(ErrorCode::kNotFound, "webhook.unknown", "no webhook " + id + " in this tenant");
    return *webhook;
}

CreatedWebhook createWebhook(const Api& api, const RequestContext& ctx, const std::string& url, const std::vector<std::string>& events) {
    const auto created = webhookDispatcher(api).createWebhook(ctx.who().tenantId, url, events);
    recordWebhookChange(api, ctx, created.webhook.id, "created");
    return created;
}

storage::WebhookRecord deleteWebhook(const Api& api, const RequestContext& ctx, const std::string& id) {
    auto& webhooks = webhookDispatcher(api);
    const auto webhook = tenantWebhook(api, ctx, id);
    webhooks.deleteWebhook(ctx.who().tenantId, id);
    recordWebhookChange(api, ctx, id, "deleted");
    return webhook;
}

storage::WebhookRecord setWebhookEnabled(const Api& api, const RequestContext& ctx, const std::string& id, bool enabled) {
    auto& webhooks = webhookDispatcher(api);
    tenantWebhook(api, ctx, id);
    webhooks.setWebhookEnabled(ctx.who().tenantId, id, enabled);
    recordWebhookChange(api, ctx, id, enabled ? "enabled" : "disabled");
    return tenantWebhook(api, ctx, id);
}

WebhookLog webhookLog(const Api& api, const RequestContext& ctx, const std::string& id, std::size_t limit) {
    auto& webhooks = webhookDispatcher(api);
    auto webhook = tenantWebhook(api, ctx, id);
    return {std::move(webhook), webhooks.deliveries(ctx.who().tenantId, id, limit)};
}

storage::WebhookDelivery redeliver(const Api& api, const RequestContext& ctx, const std::string& webhookId, const std::string& deliveryId) {
    auto& webhooks = webhookDispatcher(api);
    tenantWebhook(api, ctx, webhookId);
    const auto unknown = [&] {
        return Error(ErrorCode::kNotFound, "webhook.delivery_unknown", "no delivery " + deliveryId + " of webhook " + webhookId);
    };
    const auto delivery = api.store->repository().webhookDelivery(ctx.who().tenantId, deliveryId);
    if (!delivery || delivery->webhookId != webhookId) throw unknown();
    webhooks.redeliver(ctx.who().tenantId, deliveryId);
    api.record(ctx, "config.changed", "", "",
               {{"setting", "webhook"}, {"action", "redelivered"}, {"webhook", webhookId}, {"delivery", deliveryId}});
    const auto after = api.store->repository().webhookDelivery(ctx.who().tenantId, deliveryId);
    if (!after) throw unknown();
    return *after;
}

// ------------------------------------------------------------------------- retention, holds

storage::DisposalProposal tenantProposal(const Api& api, const RequestContext& ctx, const std::string& id) {
    const auto proposal = api.store->repository().disposalProposal(ctx.who().tenantId, id);
    if (!proposal) throw Error(ErrorCode::kNotFound, "retention.proposal_unknown", "no disposal proposal " + id + " in this tenant");
    return *proposal;
}

storage::DisposalProposal runRetentionSweep(const Api& api, const RequestContext& ctx, bool dryRun) {
    storage::RetentionSweep sweep(*api.store, *api.retention);
    auto proposal = sweep.run(ctx.who().tenantId, api.clock(), dryRun);
    if (!dryRun) {
        for (const auto& item : proposal.items) {
            api.record(ctx, "retention.proposed", item.documentId, "", {{"proposal", proposal.id}, {"rule", item.ruleId}});
        }
    }
    return proposal;
}

storage::DisposalProposal approveProposal(const Api& api, const RequestContext& ctx, const std::string& id,
                                          const std::string& archiveConsentRef) {
    tenantProposal(api, ctx, id);
    storage::RetentionSweep sweep(*api.store, *api.retention);
    sweep.approve(ctx.who().tenantId, id, ctx.who().actorId, archiveConsentRef, api.clock());
    api.record(ctx, "retention.approved", "", "", {{"proposal", id}});
    return tenantProposal(api, ctx, id);
}

storage::DisposalProposal rejectProposal(const Api& api, const RequestContext& ctx, const std::string& id) {
    tenantProposal(api, ctx, id);
    storage::RetentionSweep sweep(*api.store, *api.retention);
    sweep.reject(ctx.who().tenantId, id, ctx.who().actorId, api.clock());
    api.record(ctx, "retention.rejected", "", "", {{"proposal", id}});
    return tenantProposal(api, ctx, id);
}

ExecutedProposal executeProposal(const Api& api, const RequestContext& ctx, const std::string& id) {
    tenantProposal(api, ctx, id);
    storage::RetentionSweep sweep(*api.store, *api.retention);
    auto records = sweep.execute(ctx.who().tenantId, id, api.clock());
    for (const auto& r : records) {
        api.record(ctx, "retention.executed", r.documentId, "",
                   {{"proposal", id}, {"outcome", service::erasureGroundCode(r.outcome)}, {"record", r.id}});
    }
    return {tenantProposal(api, ctx, id), std::move(records)};
}

storage::LegalHold placeHold(const Api& api, const RequestContext& ctx, const std::string& documentId, const std::string& caseRef,
                             const std::string& reason) {
    // A document of another tenant is answered like an unknown one.
    const auto document = documentId.empty() ? std::string() : api.document(ctx, documentId).id;
    const auto hold = storage::placeLegalHold(api.store->repository(), ctx.who().tenantId, document, caseRef, reason,
                                              ctx.who().actorId, api.clock());
    // The reason is free text in the hold's row; the log keeps the hold's id (as the CLI does).
    api.record(ctx, "hold.placed", hold.documentId, "", {{"hold", hold.id}, {"scope", hold.documentId.empty() ? "case" : "document"}});
    return hold;
}

storage::LegalHold clearHold(const Api& api, const RequestContext& ctx, const std::string& id) {
    api.store->repository().clearHold(ctx.who().tenantId, id, ctx.who().actorId, api.clock());
    api.record(ctx, "hold.cleared", "", "", {{"hold", id}});
    for (const auto& h : api.store->repository().legalHolds(ctx.who().tenantId)) {
        if (h.id == id) return h;
    }
    throw Error(ErrorCode::kNotFound, "storage.hold_unknown", "no hold " + id + " in this tenant");
}

}  // namespace kooperdoc::server
