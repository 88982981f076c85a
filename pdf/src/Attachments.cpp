// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/pdf/Attachments.h"

#include <set>

namespace kooperdoc::pdf {
namespace {

/// Name trees nest through /Kids; a hostile file could loop or nest without end.
constexpr int kMaxTreeDepth = 16;
constexpr std::size_t kMaxFiles = 1000;

class TreeWalker {
public:
    TreeWalker(const PdfReader& reader, std::size_t revision, std::set<std::uint32_t> associated)
        : reader_(reader), revision_(revision), associated_(std::move(associated)) {}

    void walk(const PdfObject& node, int depth) {
        reader_.checkDeadline();
        if (depth > kMaxTreeDepth || files_.size() >= kMaxFiles) return;
        const auto resolved = reader_.deref(node, revision_);
        const auto* dictionary = resolved.asDictionary();
        if (dictionary == nullptr) return;
        // deref gives a value: keep it alive while pointers into it are used.
        const auto kidsObject = reader_.deref(dictionary->get("Kids"), revision_);
        if (const auto* kids = kidsObject.asArray()) {
            for (const auto& kid : *kids) {
                if (const auto ref = kid.asReference()) {
                    if (!visited_.insert(ref->number).second) continue;  // a loop
                }
                walk(kid, depth + 1);
            }
        }
        const auto namesObject = reader_.deref(dictionary->get("Names"), revision_);
        if (const auto* names = namesObject.asArray()) {
            for (std::size_t i = 0; i + 1 < names->size(); i += 2) file((*names)[i], (*names)[i + 1]);
        }
    }

    std::vector<EmbeddedFile> take() { return std::move(files_); }

private:
    void file(const PdfObject& key, const PdfObject& value) {
        const auto nameObject = reader_.deref(key, revision_);
        const auto* name = nameObject.asString();
        const auto specObject = reader_.deref(value, revision_);
        const auto* spec = specObject.asDictionary();
        if (name == nullptr || spec == nullptr) return;
        const auto efObject = reader_.deref(spec->get("EF"), revision_);
        const auto* ef = efObject.asDictionary();
        if (ef == nullptr) return;
        const PdfObject& which = ef->contains("UF") ? ef->get("UF") : ef->get("F");
        const auto streamObject = reader_.deref(which, revision_);
        const auto* stream = streamObject.asStream();
        if (stream == nullptr) return;
        EmbeddedFile out;
        out.name = textStringToUtf8(name->bytes);
        const auto relationshipObject = reader_.deref(spec->get("AFRelationship"), revision_);
        if (const auto* relationship = relationshipObject.asName()) out.relationship = *relationship;
        if (const auto ref = value.asReference()) out.associated = associated_.count(ref->number) != 0;
        out.bytes = reader_.decodeStream(*stream);
        files_.push_back(std::move(out));
    }

    const PdfReader& reader_;
    std::size_t revision_;
    std::set<std::uint32_t> associated_;
    std::set<std::uint32_t> visited_;
    std::vector<EmbeddedFile> files_;
};

}  // namespace

std::vector<EmbeddedFile> readEmbeddedFiles(const PdfReader& reader) {
    const std::size_t revision = reader.lastRevision();
    const auto root = reader.deref(reader.trailer(revision).get("Root"), revision);
    const auto* catalog = root.asDictionary();
    if (catalog == nullptr) return {};
    std::set<std::uint32_t> associated;
    const auto afObject = reader.deref(catalog->get("AF"), revision);
    if (const auto* af = afObject.asArray()) {
        for (const auto& item : *af) {
            if (const auto ref = item.asReference()) associated.insert(ref->number);
        }
    }
    const auto namesObject = reader.deref(catalog->get("Names"), revision);
    const auto* names = namesObject.asDictionary();
    if (names == nullptr) return {};
    TreeWalker walker(reader, revision, std::move(associated));
    walker.walk(names->get("EmbeddedFiles"), 0);
    return walker.take();
}

}  // namespace kooperdoc::pdf
