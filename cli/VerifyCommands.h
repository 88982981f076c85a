// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "CommandSupport.h"
#include "kooperdoc/verify/Verifier.h"

namespace kooperdoc::cli {

/// verify: ETSI-style verification of every signature in a PDF (exit 0 all TOTAL-PASSED, 1 not).
void addVerifyCommands(CommandTable& table);

/// The verification options of --trust, --at, --crl, --ocsp, --trusted-list, --list-signer and
/// --require-revocation (shared by `verify` and `document verify`). Unreadable trust material is
/// a UsageError: verifying against the wrong anchors silently would give a wrong answer.
verify::VerifyOptions verifyOptionsOf(const Arguments& a);

/// The report as `verify` prints it: JSON, or a line per signature.
void printReport(Context& ctx, const verify::VerificationReport& report, bool json);

}  // namespace kooperdoc::cli
