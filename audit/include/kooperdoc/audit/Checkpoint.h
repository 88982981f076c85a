// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Signed checkpoints in the C2SP tlog-checkpoint format, a signed note
// (https://github.com/C2SP/C2SP/blob/main/tlog-checkpoint.md, signed-note.md):
//
//   kooperdoc.example/audit          ← origin
//   1234                             ← tree size
//   Ybase64RootHash…=                ← root
//
//   — kooperdoc.example/audit AAAAAbase64(key id ‖ Ed25519 signature)
//
// The audit key is an Ed25519 key of its own (not the PDF seal's), in a file only the service
// reads. Anyone holding the public key checks a checkpoint; nothing else is needed.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kooperdoc/core/Digest.h"

namespace kooperdoc::audit {

struct Checkpoint {
    std::string origin;
    std::uint64_t size = 0;
    Sha256 root{};
    std::string note; ///< the whole signed note as written
};

class CheckpointSigner {
public:
    /// A PEM Ed25519 private key; Error{kInvalidArgument, "audit.key_invalid"}.
    static CheckpointSigner fromPem(const std::string& origin, const std::string& privateKeyPem);
    /// Reads the key file, or creates it (0600) for development when it is missing.
    static CheckpointSigner loadOrCreate(const std::string& origin, const std::string& path);
    static std::string generatePem();

    CheckpointSigner(CheckpointSigner&&) noexcept;
    CheckpointSigner& operator=(CheckpointSigner&&) noexcept;
    ~CheckpointSigner();

    const std::string& origin() const { return origin_; }
    /// The public key, PEM (SubjectPublicKeyInfo): what auditors configure.
    std::string publicKeyPem() const;
    Checkpoint sign(std::uint64_t size, const Sha256& root) const;

private:
    struct Key;
    CheckpointSigner(std::string origin, std::unique_ptr<Key> key);
    std::string origin_;
    std::unique_ptr<Key> key_;
};

/// Parses \p note and checks its signature with \p publicKeyPem (for \p origin). nullopt with
/// \p whyNot when the note is malformed, names another origin or key, or the signature fails.
std::optional<Checkpoint> verifyCheckpoint(const std::string& note, const std::string& origin,
                                           const std::string& publicKeyPem, std::string* whyNot = nullptr);

}  // namespace kooperdoc::audit
