// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "CommandSupport.h"

namespace kooperdoc::cli {

/// store, tenant, document, case, subject, hold, retention, backup, restore (issue 5).
void addStorageCommands(CommandTable& table);

}  // namespace kooperdoc::cli
