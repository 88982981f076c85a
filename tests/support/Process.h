// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace kooperdoc::testing {

struct CommandResult {
    int exitCode = -1;
    std::string output;  ///< stdout only; stderr passes through to the test log
};

/// Runs a shell command and captures its standard output. For tests that check our output with
/// independent tools (pdftotext, qpdf, pdffonts, zbarimg, PDFBox).
inline CommandResult runCommand(const std::string& command) {
    CommandResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[65536];
    std::size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
    const int status = pclose(pipe);
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

inline std::string quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

/// One SQL statement through psql on \p connection (a libpq connection string): the PostgreSQL
/// tests' way behind the repository's back.
inline CommandResult psqlCommand(const std::string& connection, const std::string& statement) {
    return runCommand("psql -v ON_ERROR_STOP=1 -q " + quote(connection) + " -c " + quote(statement) + " 2>&1");
}

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

inline void writeFile(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

/// Folds every run of whitespace to one space, so text checks survive line wrapping decisions.
inline std::string foldWhitespace(const std::string& text) {
    std::string out;
    bool space = false;
    for (unsigned char c : text) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += static_cast<char>(c);
    }
    return out;
}

}  // namespace kooperdoc::testing
