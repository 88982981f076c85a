// SPDX-License-Identifier: AGPL-3.0-or-later
// The webhook rows (schema migration 7) for SqlRepository, kept apart so the repository's class
// only forwards to them. Contracts: Repository.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "Sql.h"
#include "kooperdoc/storage/Repository.h"

namespace kooperdoc::storage::sql {

void insertWebhook(Database& db, const WebhookRecord& webhook);
std::vector<WebhookRecord> webhooks(Database& db, const std::string& tenantId);
std::optional<WebhookRecord> webhook(Database& db, const std::string& tenantId, const std::string& id);
bool deleteWebhook(Database& db, const std::string& tenantId, const std::string& id);
bool setWebhookDisabled(Database& db, const std::string& tenantId, const std::string& id, bool disabled);
std::size_t insertWebhookDeliveries(Database& db, const std::vector<WebhookDelivery>& deliveries);
std::vector<WebhookDelivery> claimDueWebhookDeliveries(Database& db, std::int64_t now, std::size_t limit,
                                                       std::int64_t leaseUntil);
void updateWebhookDelivery(Database& db, const WebhookDelivery& delivery);
std::optional<WebhookDelivery> webhookDelivery(Database& db, const std::string& tenantId, const std::string& id);
std::vector<WebhookDelivery> webhookDeliveries(Database& db, const std::string& tenantId, const std::string& webhookId,
                                               std::size_t limit);
bool redeliverWebhookDelivery(Database& db, const std::string& tenantId, const std::string& id, std::int64_t now);

}  // namespace kooperdoc::storage::sql
