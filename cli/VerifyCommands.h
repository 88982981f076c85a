// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "CommandSupport.h"

namespace kooperdoc::cli {

/// verify: ETSI-style verification of every signature in a PDF (exit 0 all TOTAL-PASSED, 1 not).
void addVerifyCommands(CommandTable& table);

}  // namespace kooperdoc::cli
