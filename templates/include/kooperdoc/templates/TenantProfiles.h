// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <string>

#include "kooperdoc/core/Tenant.h"

namespace kooperdoc::templates {

/// Reads a tenant profile from JSON ({"id": "...", "name": "...", ...}). Unknown keys and
/// non-string values are rejected with Error{kInvalidArgument, "tenant.invalid"}.
TenantProfile parseTenantProfile(const std::string& json);

/// The development tenant: an obviously fictional "Przykładowo" centre, so documents rendered
/// without a configured tenant can never be mistaken for a real controller's.
TenantProfile exampleTenant();

}  // namespace kooperdoc::templates
