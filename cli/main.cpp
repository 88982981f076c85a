// SPDX-License-Identifier: AGPL-3.0-or-later
#include <iostream>
#include <string>
#include <vector>

#include "Commands.h"
#include "kooperdoc/server/Server.h"

int main(int argc, char** argv) {
    // `serve` hands the whole command line to Poco's ServerApplication (signals, daemon
    // options); everything else is ours.
    if (argc > 1 && std::string(argv[1]) == "serve") return kooperdoc::server::runServer(argc - 1, argv + 1);
    std::vector<std::string> args(argv + 1, argv + argc);
    return kooperdoc::cli::run(args, std::cout, std::cerr);
}
