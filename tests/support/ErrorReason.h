// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <functional>
#include <string>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::testing {

/// The stable reason of the kooperdoc::Error \p action throws, or "no error": tests compare
/// reasons, the contract clients switch on, rather than message texts.
inline std::string reasonOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.reason();
    }
    return "no error";
}

}  // namespace kooperdoc::testing
