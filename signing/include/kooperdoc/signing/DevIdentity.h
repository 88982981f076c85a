// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>

namespace kooperdoc::signing {

/// Creates a development PKI in \p directory (made with mode 0700 when missing), so a fresh
/// installation can seal documents without a real certificate. Never for production: the CA's
/// private key is not kept, and every certificate says "deweloperski" in its name.
///
/// Files: ca.pem (root CA, RSA-3072, 10 years), seal.pem + seal.key.pem (service seal, RSA-2048,
/// 3 years, chain seal → CA), seal.p12 with a random password in seal.p12.password (no trailing
/// newline), person.pem + person.key.pem (ECDSA P-256 "Jan Kowalski", SERIALNUMBER
/// PNOPL-44051401359, for tests), tsa.pem + tsa.key.pem (timestamping, critical extendedKeyUsage),
/// ca.crl.pem (empty CRL, next update in 30 days). Keys and the PKCS#12 are 0600; every file is
/// written to a temporary name and linked into place, so none is ever seen half-written and
/// none is overwritten. ca.pem is written last: a directory with ca.pem holds a complete identity.
///
/// \param nowEpochSeconds start of every validity period and the CRL's thisUpdate.
/// Throws Error{kAlreadyExists, "identity.exists"} when any of these files exists already.
void writeDevelopmentIdentity(const std::string& directory, std::int64_t nowEpochSeconds);

} // namespace kooperdoc::signing
