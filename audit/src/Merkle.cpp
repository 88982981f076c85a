// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/audit/Merkle.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::audit {
namespace {

Sha256 hashOf(std::uint8_t prefix, std::string_view a, std::string_view b = {}) {
    Sha256 out{};
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned int length = 0;
    const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, &prefix, 1) == 1 && EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
                    EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 && EVP_DigestFinal_ex(ctx, out.data(), &length) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) throw Error(ErrorCode::kInternal, "audit.crypto", "SHA-256 failed");
    return out;
}

std::string_view view(const Sha256& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }

/// The largest power of two strictly below n (n ≥ 2).
std::uint64_t split(std::uint64_t n) {
    std::uint64_t k = 1;
    while (k << 1 < n) k <<= 1;
    return k;
}

void path(const std::vector<Sha256>& leaves, std::uint64_t index, std::uint64_t begin, std::uint64_t end,
          std::vector<Sha256>& out) {
    const std::uint64_t n = end - begin;
    if (n <= 1) return;
    const std::uint64_t k = split(n);
    if (index < k) {
        path(leaves, index, begin, begin + k, out);
        out.push_back(rootOf(leaves, begin + k, end));
    } else {
        path(leaves, index - k, begin + k, end, out);
        out.push_back(rootOf(leaves, begin, begin + k));
    }
}

void subproof(const std::vector<Sha256>& leaves, std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool complete,
              std::vector<Sha256>& out) {
    const std::uint64_t n = end - begin;
    if (m == n) {
        if (!complete) out.push_back(rootOf(leaves, begin, end));
        return;
    }
    const std::uint64_t k = split(n);
    if (m <= k) {
        subproof(leaves, m, begin, begin + k, complete, out);
        out.push_back(rootOf(leaves, begin + k, end));
    } else {
        subproof(leaves, m - k, begin + k, end, false, out);
        out.push_back(rootOf(leaves, begin, begin + k));
    }
}

bool lsb(std::uint64_t x) { return (x & 1u) != 0; }

}  // namespace

Sha256 leafHash(std::string_view entry) { return hashOf(0x00, entry); }
Sha256 nodeHash(const Sha256& left, const Sha256& right) { return hashOf(0x01, view(left), view(right)); }
Sha256 emptyRoot() { return sha256(""); }

Sha256 rootOf(const std::vector<Sha256>& leaves, std::size_t begin, std::size_t end) {
    if (end > leaves.size() || begin > end) throw Error(ErrorCode::kInvalidArgument, "audit.range", "leaf range outside the log");
    const std::size_t n = end - begin;
    if (n == 0) return emptyRoot();
    if (n == 1) return leaves[begin];
    const std::size_t k = split(n);
    return nodeHash(rootOf(leaves, begin, begin + k), rootOf(leaves, begin + k, end));
}

std::vector<Sha256> inclusionProof(const std::vector<Sha256>& leaves, std::uint64_t index, std::uint64_t size) {
    if (size > leaves.size() || index >= size) {
        throw Error(ErrorCode::kInvalidArgument, "audit.proof_range", "no leaf " + std::to_string(index) + " in a tree of " + std::to_string(size));
    }
    std::vector<Sha256> out;
    path(leaves, index, 0, size, out);
    return out;
}

std::vector<Sha256> consistencyProof(const std::vector<Sha256>& leaves, std::uint64_t first, std::uint64_t second) {
    if (second > leaves.size() || first > second) {
        throw Error(ErrorCode::kInvalidArgument, "audit.proof_range",
                    "no consistency proof from " + std::to_string(first) + " to " + std::to_string(second));
    }
    std::vector<Sha256> out;
    if (first == 0 || first == second) return out;
    subproof(leaves, first, 0, second, true, out);
    return out;
}

bool verifyInclusion(const Sha256& leaf, std::uint64_t index, std::uint64_t size, const std::vector<Sha256>& proof,
                     const Sha256& root) {
    if (index >= size) return false;
    std::uint64_t fn = index, sn = size - 1;
    Sha256 r = leaf;
    for (const auto& p : proof) {
        if (sn == 0) return false;
        if (lsb(fn) || fn == sn) {
            r = nodeHash(p, r);
            if (!lsb(fn)) {
                while (!lsb(fn) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = nodeHash(r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && r == root;
}

bool verifyConsistency(std::uint64_t first, std::uint64_t second, const Sha256& firstRoot, const Sha256& secondRoot,
                       const std::vector<Sha256>& proof) {
    if (first > second) return false;
    if (first == second) return proof.empty() && firstRoot == secondRoot;
    if (first == 0) return proof.empty();  // the empty tree is a prefix of every tree
    if (proof.empty()) return false;
    std::vector<Sha256> path = proof;
    if ((first & (first - 1)) == 0) path.insert(path.begin(), firstRoot);
    std::uint64_t fn = first - 1, sn = second - 1;
    while (lsb(fn)) {
        fn >>= 1;
        sn >>= 1;
    }
    Sha256 fr = path[0], sr = path[0];
    for (std::size_t i = 1; i < path.size(); ++i) {
        const Sha256& c = path[i];
        if (sn == 0) return false;
        if (lsb(fn) || fn == sn) {
            fr = nodeHash(c, fr);
            sr = nodeHash(c, sr);
            if (!lsb(fn)) {
                while (!lsb(fn) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = nodeHash(sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && fr == firstRoot && sr == secondRoot;
}

}  // namespace kooperdoc::audit
