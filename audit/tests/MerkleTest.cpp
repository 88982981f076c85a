// SPDX-License-Identifier: AGPL-3.0-or-later
// Known answers from RFC 6962's reference tree (the vectors Certificate Transparency, Trillian
// and transparency-dev/merkle test with), proofs for every size and pair against an independent
// bottom-up reference, and the transparency-dev mutations, each of which must fail.
#include <catch2/catch.hpp>

#include <random>

#include "kooperdoc/audit/Merkle.h"

using namespace kooperdoc;
using namespace kooperdoc::audit;

namespace {

std::string unhex(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

Sha256 h(const std::string& hex) {
    Sha256 out{};
    const std::string bytes = unhex(hex);
    REQUIRE(bytes.size() == 32);
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

const std::vector<std::string> kLeafData = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                            "606162636465666768696a6b6c6d6e6f"};
const std::vector<std::string> kRoots = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::vector<Sha256> referenceLeaves() {
    std::vector<Sha256> leaves;
    for (const auto& data : kLeafData) leaves.push_back(leafHash(unhex(data)));
    return leaves;
}

/// An independent root: the bottom-up pairing of RFC 6962 section 2.1 (an odd node is carried
/// up unchanged), not the recursive split the implementation uses.
Sha256 bottomUpRoot(std::vector<Sha256> level) {
    if (level.empty()) return emptyRoot();
    while (level.size() > 1) {
        std::vector<Sha256> next;
        for (std::size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(nodeHash(level[i], level[i + 1]));
        if (level.size() % 2 == 1) next.push_back(level.back());
        level = std::move(next);
    }
    return level.front();
}

std::vector<Sha256> randomLeaves(std::mt19937& random, std::size_t n) {
    std::vector<Sha256> leaves;
    for (std::size_t i = 0; i < n; ++i) {
        std::string data(random() % 20, '\0');
        for (auto& c : data) c = static_cast<char>(random());
        leaves.push_back(leafHash(data));
    }
    return leaves;
}

}  // namespace

TEST_CASE("hashing and roots match RFC 6962's reference tree for sizes 0 to 8", "[audit][merkle]") {
    const auto leaves = referenceLeaves();
    CHECK(toHex(emptyRoot()) == kRoots[0]);
    CHECK(toHex(leafHash("")) == kRoots[1]);
    CHECK(toHex(leafHash("L123456")) == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
    for (std::size_t n = 0; n <= leaves.size(); ++n) {
        INFO("size " << n);
        CHECK(toHex(rootOf(leaves, 0, n)) == kRoots[n]);
    }
}

TEST_CASE("inclusion and consistency proofs equal the published vectors and verify", "[audit][merkle]") {
    const auto leaves = referenceLeaves();
    struct Vector {
        std::uint64_t first, second;
        std::vector<std::string> proof;
    };
    const std::vector<Vector> inclusion = {
        {0, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {5, 8, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
        {1, 5, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    };
    for (const auto& v : inclusion) {
        INFO("leaf " << v.first << " of " << v.second);
        std::vector<std::string> got;
        for (const auto& p : inclusionProof(leaves, v.first, v.second)) got.push_back(toHex(p));
        CHECK(got == v.proof);
        std::vector<Sha256> proof;
        for (const auto& p : v.proof) proof.push_back(h(p));
        CHECK(verifyInclusion(leaves[v.first], v.first, v.second, proof, h(kRoots[v.second])));
        CHECK_FALSE(verifyInclusion(leaves[v.first], v.first, v.second, proof, h(kRoots[0])));
    }
    const std::vector<Vector> consistency = {
        {1, 1, {}},
        {1, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {6, 8, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 5, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    };
    for (const auto& v : consistency) {
        INFO(v.first << " → " << v.second);
        std::vector<std::string> got;
        for (const auto& p : consistencyProof(leaves, v.first, v.second)) got.push_back(toHex(p));
        CHECK(got == v.proof);
        std::vector<Sha256> proof;
        for (const auto& p : v.proof) proof.push_back(h(p));
        CHECK(verifyConsistency(v.first, v.second, h(kRoots[v.first]), h(kRoots[v.second]), proof));
    }
}

TEST_CASE("every inclusion and consistency proof of random trees verifies, against an independent root", "[audit][merkle]") {
    std::mt19937 random(6962);
    for (std::size_t n = 1; n <= 40; ++n) {
        const auto leaves = randomLeaves(random, n);
        std::vector<Sha256> roots;
        for (std::size_t m = 0; m <= n; ++m) roots.push_back(bottomUpRoot({leaves.begin(), leaves.begin() + static_cast<long>(m)}));
        REQUIRE(rootOf(leaves) == roots[n]);
        for (std::uint64_t i = 0; i < n; ++i) {
            const auto proof = inclusionProof(leaves, i, n);
            CHECK(verifyInclusion(leaves[i], i, n, proof, roots[n]));
        }
        for (std::uint64_t m = 0; m <= n; ++m) {
            INFO(m << " → " << n);
            CHECK(rootOf(leaves, 0, m) == roots[m]);
            CHECK(verifyConsistency(m, n, roots[m], roots[n], consistencyProof(leaves, m, n)));
        }
    }
}

TEST_CASE("every transparency-dev mutation of a proof is refused", "[audit][merkle]") {
    std::mt19937 random(9162);
    const auto leaves = randomLeaves(random, 37);
    const std::uint64_t size = 37;
    const Sha256 root = rootOf(leaves);
    const Sha256 garbage = leafHash("garbage");
    for (std::uint64_t index : {0u, 5u, 27u, 31u, 36u}) {
        INFO("leaf " << index);
        const auto proof = inclusionProof(leaves, index, size);
        REQUIRE(verifyInclusion(leaves[index], index, size, proof, root));
        CHECK_FALSE(verifyInclusion(leaves[index], index, size, {}, root));  // empty-proof
        for (std::size_t i = 0; i < proof.size(); ++i) {
            for (int bit : {0, 7, 255}) {
                auto modified = proof;
                modified[i][static_cast<std::size_t>(bit) / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
                CHECK_FALSE(verifyInclusion(leaves[index], index, size, modified, root));
            }
            auto removed = proof;
            removed.erase(removed.begin() + static_cast<long>(i));
            CHECK_FALSE(verifyInclusion(leaves[index], index, size, removed, root));
            auto inserted = proof;
            inserted.insert(inserted.begin() + static_cast<long>(i), garbage);
            CHECK_FALSE(verifyInclusion(leaves[index], index, size, inserted, root));
        }
        auto preceding = proof;
        preceding.insert(preceding.begin(), garbage);
        CHECK_FALSE(verifyInclusion(leaves[index], index, size, preceding, root));
        auto trailing = proof;
        trailing.push_back(garbage);
        CHECK_FALSE(verifyInclusion(leaves[index], index, size, trailing, root));
        CHECK_FALSE(verifyInclusion(garbage, index, size, proof, root));                    // wrong-leaf
        if (index > 0) CHECK_FALSE(verifyInclusion(leaves[index], index - 1, size, proof, root));
        CHECK_FALSE(verifyInclusion(leaves[index], index + 1, size, proof, root));
        CHECK_FALSE(verifyInclusion(leaves[index], index, size * 2, proof, root));
        CHECK_FALSE(verifyInclusion(leaves[index], index, size / 2, proof, root));
        CHECK_FALSE(verifyInclusion(leaves[index], index, size, proof, garbage));          // random-root
        CHECK_FALSE(verifyInclusion(leaves[index], index, size, proof, emptyRoot()));      // empty-root
        CHECK_FALSE(verifyInclusion(leaves[index], size, size, proof, root));
    }
    for (const auto& [first, second] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1, 2}, {2, 3}, {1, 3}, {2, 4}, {5, 37}, {16, 37}, {31, 36}}) {
        INFO(first << " → " << second);
        const auto proof = consistencyProof(leaves, first, second);
        const Sha256 a = rootOf(leaves, 0, first), b = rootOf(leaves, 0, second);
        REQUIRE(verifyConsistency(first, second, a, b, proof));
        CHECK_FALSE(verifyConsistency(first, second, a, b, {}));
        CHECK_FALSE(verifyConsistency(second, first, b, a, proof));
        CHECK_FALSE(verifyConsistency(first, second, garbage, b, proof));
        CHECK_FALSE(verifyConsistency(first, second, a, garbage, proof));
        for (std::size_t i = 0; i < proof.size(); ++i) {
            auto modified = proof;
            modified[i][0] ^= 1;
            CHECK_FALSE(verifyConsistency(first, second, a, b, modified));
            auto removed = proof;
            removed.erase(removed.begin() + static_cast<long>(i));
            CHECK_FALSE(verifyConsistency(first, second, a, b, removed));
        }
        auto trailing = proof;
        trailing.push_back(garbage);
        CHECK_FALSE(verifyConsistency(first, second, a, b, trailing));
        auto preceding = proof;
        preceding.insert(preceding.begin(), garbage);
        CHECK_FALSE(verifyConsistency(first, second, a, b, preceding));
        if (second + 1 <= leaves.size()) CHECK_FALSE(verifyConsistency(first, second + 1, a, rootOf(leaves, 0, second + 1), proof));
    }
    // Bad parameters are refused by the prover, not answered.
    CHECK_THROWS(inclusionProof(leaves, 37, 37));
    CHECK_THROWS(inclusionProof(leaves, 0, 38));
    CHECK_THROWS(consistencyProof(leaves, 5, 4));
    CHECK_THROWS(consistencyProof(leaves, 10000000, 10000000));
}
