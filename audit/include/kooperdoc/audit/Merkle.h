// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// RFC 6962 / RFC 9162 Merkle trees, the structure Certificate Transparency, Trillian and Rekor
// use: leaf hash SHA-256(0x00 ‖ entry), node hash SHA-256(0x01 ‖ left ‖ right) (the prefixes keep
// a leaf from passing for a node), split at the largest power of two below n. Proofs are built
// from the leaf hashes and verified with RFC 9162's algorithms (2.1.3.2, 2.1.4.2), which need
// nothing but the proof, the sizes and the roots: an auditor checks them without the log.

#include <cstdint>
#include <string_view>
#include <vector>

#include "kooperdoc/core/Digest.h"

namespace kooperdoc::audit {

Sha256 leafHash(std::string_view entry);
Sha256 nodeHash(const Sha256& left, const Sha256& right);
/// The root of an empty tree: SHA-256 of nothing.
Sha256 emptyRoot();

/// Merkle Tree Hash of leaves [begin, end) of \p leaves (already leaf-hashed).
Sha256 rootOf(const std::vector<Sha256>& leaves, std::size_t begin, std::size_t end);
inline Sha256 rootOf(const std::vector<Sha256>& leaves) { return rootOf(leaves, 0, leaves.size()); }

/// PATH(index, D[size]): the audit path of leaf \p index in the tree of the first \p size leaves.
std::vector<Sha256> inclusionProof(const std::vector<Sha256>& leaves, std::uint64_t index, std::uint64_t size);
/// PROOF(first, D[second]): that the tree of \p first leaves is a prefix of the one of \p second.
std::vector<Sha256> consistencyProof(const std::vector<Sha256>& leaves, std::uint64_t first, std::uint64_t second);

bool verifyInclusion(const Sha256& leaf, std::uint64_t index, std::uint64_t size, const std::vector<Sha256>& proof,
                     const Sha256& root);
bool verifyConsistency(std::uint64_t first, std::uint64_t second, const Sha256& firstRoot, const Sha256& secondRoot,
                       const std::vector<Sha256>& proof);

}  // namespace kooperdoc::audit
