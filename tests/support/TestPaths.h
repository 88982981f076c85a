// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdlib>
#include <string>

namespace kooperdoc::testing {

/// The checkout's root: tests find data by absolute path, never through the working directory.
inline std::string sourceDir() {
    const char* fromEnv = std::getenv("KOOPERDOC_SOURCE_DIR");
    return fromEnv != nullptr ? fromEnv : KOOPERDOC_SOURCE_DIR_DEFAULT;
}

inline std::string sharedDir() { return sourceDir() + "/../shared"; }

}  // namespace kooperdoc::testing
