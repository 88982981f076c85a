// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// docs/openapi/openapi.json, compiled into the binary and served at GET /openapi.json. It is
// written for people (descriptions, examples), so it is checked in rather than generated; a test
// holds it to the router's routes, method for method.

#include <string>

namespace kooperdoc::server {

const std::string& openApiDocument();

}  // namespace kooperdoc::server
