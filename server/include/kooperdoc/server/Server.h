// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

namespace kooperdoc::server {

/// Runs `kooperdoc serve ...` as a Poco ServerApplication: parses its options, serves HTTP
/// until SIGINT/SIGTERM, then stops accepting and lets in-flight requests finish.
/// argv[0] is "serve".
int runServer(int argc, char** argv);

}  // namespace kooperdoc::server
