// SPDX-License-Identifier: AGPL-3.0-or-later
#include "SqlWebhooks.h"

#include "kooperdoc/core/Error.h"

namespace kooperdoc::storage::sql {
namespace {

constexpr const char* kWebhookColumns = "id, tenant_id, url, wrapped_secret, events, created_at, disabled";
constexpr const char* kDeliveryColumns =
    "id, webhook_id, tenant_id, event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error, "
    "created_at, delivered_at";

WebhookRecord webhookFrom(const Row& row) {
    WebhookRecord w;
    w.id = asText(row[0]);
    w.tenantId = asText(row[1]);
    w.url = asText(row[2]);
    w.wrappedSecret = asText(row[3]);
    w.events = asText(row[4]);
    w.createdAt = asInt(row[5]);
    w.disabled = asInt(row[6]) != 0;
    return w;
}

WebhookDelivery deliveryFrom(const Row& row) {
    WebhookDelivery d;
    d.id = asText(row[0]);
    d.webhookId = asText(row[1]);
    d.tenantId = asText(row[2]);
    d.eventType = asText(row[3]);
    d.payload = asText(row[4]);
    d.status = asText(row[5]);
    d.attempts = static_cast<int>(asInt(row[6]));
    d.nextAttemptAt = asInt(row[7]);
    if (const auto code = asOptionalInt(row[8])) d.lastStatusCode = static_cast<int>(*code);
    d.lastError = asText(row[9]);
    d.createdAt = asInt(row[10]);
    d.deliveredAt = asOptionalInt(row[11]);
    return d;
}

Param optionalInt(const std::optional<int>& value) {
    return value ? Param(std::int64_t{*value}) : Param(Null{});
}

}  // namespace

void insertWebhook(Database& db, const WebhookRecord& w) {
    db.inTransaction([&](Transaction& tx) {
        if (!tx.single("SELECT id FROM tenants WHERE id = $1", {w.tenantId})) {
            throw Error(ErrorCode::kNotFound, "storage.tenant_unknown", "no tenant " + w.tenantId);
        }
        tx.execute("INSERT INTO webhooks (id, tenant_id, url, wrapped_secret, events, created_at, disabled) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   {w.id, w.tenantId, w.url, w.wrappedSecret, w.events, w.createdAt, std::int64_t{w.disabled ? 1 : 0}});
    });
}

std::vector<WebhookRecord> webhooks(Database& db, const std::string& tenantId) {
    std::vector<WebhookRecord> out;
    db.inTransaction([&](Transaction& tx) {
        for (const auto& row : tx.query(std::string("SELECT ") + kWebhookColumns +
                                            " FROM webhooks WHERE tenant_id = $1 ORDER BY created_at, id",
                                        {tenantId})) {
            out.push_back(webhookFrom(row));
        }
    });
    return out;
}

std::optional<WebhookRecord> webhook(Database& db, const std::string& tenantId, const std::string& id) {
    std::optional<WebhookRecord> out;
    db.inTransaction([&](Transaction& tx) {
        if (auto row = tx.single(std::string("SELECT ") + kWebhookColumns + " FROM webhooks WHERE tenant_id = $1 AND id = $2",
                                 {tenantId, id})) {
            out = webhookFrom(*row);
        }
    });
    return out;
}

bool deleteWebhook(Database& db, const std::string& tenantId, const std::string& id) {
    bool found = false;
    db.inTransaction([&](Transaction& tx) {
        if (!tx.single("SELECT id FROM webhooks WHERE tenant_id = $1 AND id = $2", {tenantId, id})) return;
        found = true;
        tx.execute("DELETE FROM webhook_deliveries WHERE webhook_id = $1", {id});
        tx.execute("DELETE FROM webhooks WHERE id = $1", {id});
    });
    return found;
}

bool setWebhookDisabled(Database& db, const std::string& tenantId, const std::string& id, bool disabled) {
    bool found = false;
    db.inTransaction([&](Transaction& tx) {
        if (!tx.single("SELECT id FROM webhooks WHERE tenant_id = $1 AND id = $2", {tenantId, id})) return;
        found = true;
        tx.execute("UPDATE webhooks SET disabled = $1 WHERE id = $2", {std::int64_t{disabled ? 1 : 0}, id});
    });
    return found;
}

std::size_t insertWebhookDeliveries(Database& db, const std::vector<WebhookDelivery>& deliveries) {
    std::size_t stored = 0;
    db.inTransaction([&](Transaction& tx) {
        for (const auto& d : deliveries) {
            // A webhook deleted between the caller's listing and this insert takes no delivery
            // (its foreign key would fail the whole batch otherwise).
            if (!tx.single("SELECT id FROM webhooks WHERE tenant_id = $1 AND id = $2", {d.tenantId, d.webhookId})) continue;
            tx.execute(std::string("INSERT INTO webhook_deliveries (") + kDeliveryColumns +
                           ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                       {d.id, d.webhookId, d.tenantId, d.eventType, d.payload, d.status, std::int64_t{d.attempts},
                        d.nextAttemptAt, optionalInt(d.lastStatusCode), d.lastError.empty() ? Param(Null{}) : Param(d.lastError),
                        d.createdAt, optionalParam(d.deliveredAt)});
            ++stored;
        }
    });
    return stored;
}

std::vector<WebhookDelivery> claimDueWebhookDeliveries(Database& db, std::int64_t now, std::size_t limit,
                                                       std::int64_t leaseUntil) {
    std::vector<WebhookDelivery> claimed;
    db.inTransaction([&](Transaction& tx) {
        std::string select = "SELECT d.id, d.webhook_id, d.tenant_id, d.event_type, d.payload, d.status, d.attempts, "
                             "d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.delivered_at "
                             "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                             "WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.disabled = 0 "
                             "ORDER BY d.next_attempt_at, d.id LIMIT $2";
        // PostgreSQL: rows another instance is claiming right now are skipped, not waited for,
        // and never claimed twice. SQLite: the transaction is BEGIN IMMEDIATE, so claims are
        // serialised by the database's write lock.
        if (db.postgres()) select += " FOR UPDATE OF d SKIP LOCKED";
        for (const auto& row : tx.query(select, {now, static_cast<std::int64_t>(limit)})) claimed.push_back(deliveryFrom(row));
        for (auto& d : claimed) {
            tx.execute("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2", {leaseUntil, d.id});
            d.nextAttemptAt = leaseUntil;
        }
    });
    return claimed;
}

void updateWebhookDelivery(Database& db, const WebhookDelivery& d) {
    db.inTransaction([&](Transaction& tx) {
        tx.execute("UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_status_code = $4, "
                   "last_error = $5, delivered_at = $6 WHERE id = $7",
                   {d.status, std::int64_t{d.attempts}, d.nextAttemptAt, optionalInt(d.lastStatusCode),
                    d.lastError.empty() ? Param(Null{}) : Param(d.lastError), optionalParam(d.deliveredAt), d.id});
    });
}

std::optional<WebhookDelivery> webhookDelivery(Database& db, const std::string& tenantId, const std::string& id) {
    std::optional<WebhookDelivery> out;
    db.inTransaction([&](Transaction& tx) {
        if (auto row = tx.single(std::string("SELECT ") + kDeliveryColumns +
                                     " FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2",
                                 {tenantId, id})) {
            out = deliveryFrom(*row);
        }
    });
    return out;
}

std::vector<WebhookDelivery> webhookDeliveries(Database& db, const std::string& tenantId, const std::string& webhookId,
                                               std::size_t limit) {
    std::vector<WebhookDelivery> out;
    db.inTransaction([&](Transaction& tx) {
        // Placeholders in ascending order: SQLite numbers `$n` by first appearance.
        const std::string sqlText = std::string("SELECT ") + kDeliveryColumns + " FROM webhook_deliveries WHERE tenant_id = $1" +
                                    (webhookId.empty() ? " ORDER BY created_at DESC, id DESC LIMIT $2"
                                                       : " AND webhook_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3");
        Params params{tenantId};
        if (!webhookId.empty()) params.emplace_back(webhookId);
        params.emplace_back(static_cast<std::int64_t>(limit));
        for (const auto& row : tx.query(sqlText, params)) out.push_back(deliveryFrom(row));
    });
    return out;
}

bool redeliverWebhookDelivery(Database& db, const std::string& tenantId, const std::string& id, std::int64_t now) {
    bool found = false;
    db.inTransaction([&](Transaction& tx) {
        if (!tx.single("SELECT id FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2", {tenantId, id})) return;
        found = true;
        tx.execute("UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, "
                   "delivered_at = NULL WHERE id = $2",
                   {now, id});
    });
    return found;
}

}  // namespace kooperdoc::storage::sql
