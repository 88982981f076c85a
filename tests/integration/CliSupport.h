// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "Process.h"
#include "TestPaths.h"

namespace kooperdoc::testing {

/// A fixed SOURCE_DATE_EPOCH (2026-01-15 10:00 UTC) makes every rendering reproducible.
constexpr const char* kEpoch = "1768471200";

inline std::string cli() { return KOOPERDOC_CLI; }

/// A fresh directory under the build tree for one test's files.
inline std::string scratchDir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / ("kooperdoc-test-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

inline CommandResult renderCli(const std::string& id, const std::string& input, const std::string& output,
                               const std::string& extra = "") {
    return runCommand("SOURCE_DATE_EPOCH=" + std::string(kEpoch) + " " + quote(cli()) + " render " + quote(id) + " " +
                      quote(input) + " -o " + quote(output) + " " + extra);
}

inline std::string pdfText(const std::string& pdf, bool layout = false) {
    return runCommand(std::string("pdftotext ") + (layout ? "-layout " : "") + quote(pdf) + " -").output;
}

}  // namespace kooperdoc::testing
