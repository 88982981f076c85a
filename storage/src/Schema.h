// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <string>
#include <vector>

namespace kooperdoc::storage {

struct Migration {
    int version;
    std::string description;
    std::vector<std::string> statements;
};

/// In version order, starting at 1 without gaps (a unit test checks).
const std::vector<Migration>& migrations();

}  // namespace kooperdoc::storage
