// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The key hierarchy of the store (issue 5, point 3):
//
//   master key (a file with mode 0600, or the environment; never in the database)
//     └─ wraps each data subject's key and each tenant's key (AES-256-GCM, bound to the owner's id)
//          └─ wrap each document's data key, once per subject the document is about
//               └─ encrypts every revision of the document's PDF (AES-256-GCM, bound to the blob id)
//
// Destroying a subject's wrapped key makes every document that rests on that subject alone
// unreadable everywhere, backups included: that is the crypto-shredding the erasure relies on.
// The keyed index (HMAC-SHA256 under a key derived from the master key, per tenant) lets the
// store find a person by PESEL or name without ever holding either in plain text.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace kooperdoc::storage {

using Key256 = std::array<std::uint8_t, 32>;

class MasterKey {
public:
    /// 32 bytes, base64 (with or without a trailing newline): the format of the key file and of
    /// $KOOPERDOC_MASTER_KEY. Error{kInvalidArgument, "storage.master_key_invalid"} otherwise.
    static MasterKey fromBase64(std::string_view text);
    /// Reads a key file; refuses one that group or others may read ("storage.master_key_exposed").
    static MasterKey load(const std::string& path);
    /// The development default: reads \p path, or creates it (0600, random) when it is missing.
    static MasterKey loadOrCreate(const std::string& path);
    static std::string generateBase64();

    /// A short fingerprint the database records at first use, so that starting with another
    /// master key fails at once ("storage.master_key_mismatch") instead of at the first read.
    std::string fingerprint() const;

    /// Wraps a subject's, a tenant's or a document's key for storage; \p owner is bound into the
    /// authentication tag, so a wrapped key moved to another row does not unwrap.
    std::string wrap(const Key256& key, std::string_view owner) const;
    Key256 unwrap(std::string_view wrapped, std::string_view owner) const;

    /// The keyed index of a person's identifier within a tenant (hex HMAC-SHA256).
    std::string indexHmac(std::string_view tenantId, std::string_view kind, std::string_view normalized) const;

private:
    explicit MasterKey(const Key256& key) : key_(key) {}
    Key256 key_;
};

Key256 randomKey();
/// 128 random bits as 32 hex digits: ids that reveal nothing (not even creation order),
/// never with eleven digits in a row, which the audit log would refuse as a possible PESEL.
std::string randomId();

/// AES-256-GCM: nonce (12 random bytes) ‖ ciphertext ‖ tag (16). \p context is authenticated,
/// not stored. open() throws Error{kDataLoss, "storage.decrypt_failed"} on any mismatch.
std::string sealBytes(const Key256& key, std::string_view plaintext, std::string_view context);
std::string openBytes(const Key256& key, std::string_view sealed, std::string_view context);

/// PESEL: the 11 digits, separators dropped. Names: NFC-free normalisation that people expect
/// to match — trimmed, inner whitespace collapsed, upper-cased (Polish letters included).
std::string normalizePesel(std::string_view pesel);
std::string normalizeName(std::string_view name);

}  // namespace kooperdoc::storage
