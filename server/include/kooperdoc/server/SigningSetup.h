// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <Poco/Util/AbstractConfiguration.h>

#include "kooperdoc/signing/Pades.h"
#include "kooperdoc/signing/SigningIdentity.h"
#include "kooperdoc/signing/Timestamp.h"

namespace kooperdoc::server {

/// The signing part of the configuration (config/kooperdoc.properties documents each key),
/// resolved into the objects that sign: shared by the CLI and the service, so both seal alike.
struct SigningSetup {
    std::string identityDir;
    /// No seal configured: the development identity in identityDir, created on first use.
    bool development = false;
    /// The configured seal's files (empty in development): a PKCS#12 with its password file, or
    /// a PEM certificate chain and key.
    std::string p12, p12PasswordFile, certificate, key;
    signing::PadesLevel level = signing::PadesLevel::kBLT;
    /// The TSA, validation data and CRL fetching that signing at `level` needs.
    signing::PadesContext context;
    /// The TSA inside this process, when there is one (served at POST /v1/timestamp).
    std::shared_ptr<signing::EmbeddedTsa> embeddedTsa;

    /// Loads the seal (PKCS#12, PEM, or the development identity) on each call: the key stays
    /// in memory only while it is used.
    signing::SigningIdentity sealIdentity() const;
};

struct SigningOverrides {
    std::optional<std::string> identityDir;  ///< --identity: the development identity in this directory
    std::optional<std::string> level;        ///< --level
};

/// Throws Error{kInvalidArgument, "config.invalid"} for a bad value, "signing.level_unknown",
/// Error{kNotFound, "file.unreadable"} for a named file that cannot be read. Writes a notice to
/// \p notices when it creates the development identity.
SigningSetup loadSigningSetup(const Poco::Util::AbstractConfiguration& config, const SigningOverrides& overrides,
                              std::ostream& notices, std::int64_t now);

}  // namespace kooperdoc::server
