// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The web UI's pages by area (each file adds its routes to the web router).

#include "../Api.h"
#include "../Router.h"

namespace kooperdoc::server::web {

void addAccountPages(Router& router, const Api& api);   ///< log in and out, password, home
void addDocumentPages(Router& router, const Api& api);  ///< animator: list, download, upload; the trail
void addVerifyPages(Router& router, const Api& api);    ///< auditor: any PDF's report
void addDpoPages(Router& router, const Api& api);       ///< dpo: subjects, retention, holds
void addAdminPages(Router& router, const Api& api);     ///< admin: users, keys, RODO settings, webhooks
void addRetentionPages(Router& router, const Api& api); ///< dpo: retention report and disposal, legal holds

/// Every role (a page any signed-in person may open).
std::vector<Role> anyRole();

}  // namespace kooperdoc::server::web
