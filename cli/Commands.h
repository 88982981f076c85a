// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace kooperdoc::cli {

/// Exit codes are a contract with scripts and CI checks: never renumber them.
enum ExitCode : int {
    kExitOk = 0,
    kExitFailed = 1,      ///< the command ran and its answer is "no" (reserved for verify)
    kExitUsage = 2,       ///< bad arguments, unknown template or command
    kExitInvalid = 3,     ///< the input data break the template's schema
    kExitError = 4,       ///< anything else: unreadable file, internal fault
};

/// Runs `kooperdoc ARGS...` (without the program name) and returns the exit code.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace kooperdoc::cli
