// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/core/Tenant.h"

namespace kooperdoc {

const char* const TenantProfile::kFieldNames[] = {
    "name", "short_name", "kind", "address", "city", "nip", "regon",
    "email", "dpo_email", "withdrawal_address", "archival_period"};

}  // namespace kooperdoc
