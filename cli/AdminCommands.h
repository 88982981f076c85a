// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "CommandSupport.h"

namespace kooperdoc::cli {

/// admin create-tenant, create-key, revoke-key, list-keys, create-user (issue 7, point 3).
void addAdminCommands(CommandTable& table);

}  // namespace kooperdoc::cli
