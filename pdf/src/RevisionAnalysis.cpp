// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/pdf/RevisionAnalysis.h"

#include <algorithm>
#include <map>
#include <set>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::pdf {

namespace {

using Level = ModificationLevel;

Level maxLevel(Level a, Level b) {
    return a < b ? b : a;
}

// ------------------------------------------------------------------ object paths and sites

// A place in the signed revision that refers to an object: the indirect object (or the
// trailer) holding the reference, and the key/index path inside it. pyHanko calls it a
// relative context; we keep only these last hops, so the map stays linear in the file size
// where pyHanko's absolute paths can grow exponentially.
constexpr std::uint32_t kTrailerAnchor = UINT32_MAX;

struct Site {
    std::uint32_t anchor = kTrailerAnchor;
    std::string path;
    friend bool operator<(const Site& a, const Site& b) {
        return a.anchor != b.anchor ? a.anchor < b.anchor : a.path < b.path;
    }
};

// Length-prefixed, so no name byte can forge a step boundary.
void appendKey(std::string& path, std::string_view key) {
    path += 'k';
    path += std::to_string(key.size());
    path += ':';
    path += key;
}
void appendIndex(std::string& path, std::size_t index) {
    path += 'i';
    path += std::to_string(index);
    path += ';';
}
bool pathEndsWithKey(const std::string& path, std::string_view key) {
    std::string suffix;
    appendKey(suffix, key);
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct Step {
    std::string key; // empty when an index
    std::size_t index = 0;
    static Step k(std::string name) { return {std::move(name), 0}; }
    static Step i(std::size_t index) { return {std::string(), index}; }
};
using Path = std::vector<Step>;

void appendStep(std::string& path, const Step& step) {
    if (step.key.empty())
        appendIndex(path, step.index);
    else
        appendKey(path, step.key);
}

// ------------------------------------------------------------------ verdict plumbing

struct Suspicious {
    std::string code;
    std::string detail;
    std::uint32_t object = 0;
};

[[noreturn]] void suspicious(std::string code, std::string detail, std::uint32_t object = 0) {
    throw Suspicious{std::move(code), std::move(detail), object};
}

const std::set<std::string, std::less<>> kRootExempt{"AcroForm", "DSS",      "Extensions",
                                                     "Metadata", "MarkInfo", "Version"};
const std::set<std::string, std::less<>> kAcroFormExempt{"Fields", "DR", "DA", "Q", "NeedAppearances", "SigFlags"};
const std::set<std::string, std::less<>> kFieldAlwaysModifiable{"Ff", "Type"};
const std::set<std::string, std::less<>> kValueUpdateKeys{"Ff", "Type", "AP", "AS", "V", "F", "DA", "Q"};

bool isStructElement(const PdfDictionary& d) {
    const PdfObject type = d.get("Type");
    return d.contains("S") && d.contains("P") && (type.isNull() || type.isName("StructElem"));
}

/// For each object number reachable from the trailer of a revision: every site referring to
/// it. /Parent back-pointers and structure-element /P are skipped, as pyHanko does: they
/// carry no content of their own.
using Usages = std::map<std::uint32_t, std::set<Site>>;

Usages collectUsages(const PdfReader& reader, std::size_t revision) {
    Usages usages;
    std::set<std::uint32_t> visited;
    std::vector<ObjectRef> queue;
    auto walk = [&](auto&& self, const PdfObject& value, std::uint32_t anchor, std::string& path) -> void {
        if (const auto ref = value.asReference()) {
            usages[ref->number].insert({anchor, path});
            if (visited.insert(ref->number).second) queue.push_back(*ref);
            return;
        }
        if (const PdfDictionary* d = value.asDictionary()) {
            const bool structElement = isStructElement(*d);
            for (const auto& [key, child] : d->entries()) {
                if (key == "Parent" || (structElement && key == "P")) continue;
                const std::size_t mark = path.size();
                appendKey(path, key);
                self(self, child, anchor, path);
                path.resize(mark);
            }
        } else if (const PdfArray* a = value.asArray()) {
            for (std::size_t i = 0; i < a->size(); ++i) {
                const std::size_t mark = path.size();
                appendIndex(path, i);
                self(self, (*a)[i], anchor, path);
                path.resize(mark);
            }
        }
    };
    std::string path;
    walk(walk, PdfObject::dictionary(reader.trailer(revision)), kTrailerAnchor, path);
    while (!queue.empty()) {
        const ObjectRef ref = queue.back();
        queue.pop_back();
        path.clear();
        walk(walk, reader.resolve(ref, revision), ref.number, path);
    }
    return usages;
}

bool isAnnotationVisible(const PdfReader& reader, const PdfDictionary& annotation, std::size_t revision) {
    const PdfObject rect = reader.deref(annotation.get("Rect"), revision);
    const PdfArray* a = rect.asArray();
    if (a == nullptr || a->size() != 4) return false;
    double v[4];
    for (std::size_t i = 0; i < 4; ++i) {
        const auto n = reader.deref((*a)[i], revision).asNumber();
        if (!n) return false;
        v[i] = *n;
    }
    const double area = (v[0] > v[2] ? v[0] - v[2] : v[2] - v[0]) * (v[1] > v[3] ? v[1] - v[3] : v[3] - v[1]);
    return area != 0;
}

bool isFieldVisible(const PdfReader& reader, const PdfDictionary& field, std::size_t revision) {
    if (isAnnotationVisible(reader, field, revision)) return true;
    const PdfObject kids = reader.deref(field.get("Kids"), revision);
    if (const PdfArray* a = kids.asArray()) {
        for (const auto& kid : *a) {
            const PdfObject k = reader.deref(kid, revision);
            if (const PdfDictionary* d = k.asDictionary(); d != nullptr && isAnnotationVisible(reader, *d, revision))
                return true;
        }
    }
    return false;
}

/// A light well-formedness check of XMP: balanced tags, no DTD or entities, and an
/// x:xmpmeta (or rdf:RDF) root element, as pyHanko asks of a metadata update.
bool looksLikeXmp(std::string_view xml) {
    if (xml.find("<!DOCTYPE") != std::string_view::npos || xml.find("<!ENTITY") != std::string_view::npos) return false;
    std::vector<std::string_view> open;
    std::string_view root;
    std::size_t pos = 0;
    while ((pos = xml.find('<', pos)) != std::string_view::npos) {
        if (xml.substr(pos, 4) == "<!--") {
            const auto end = xml.find("-->", pos + 4);
            if (end == std::string_view::npos) return false;
            pos = end + 3;
            continue;
        }
        if (xml.substr(pos, 9) == "<![CDATA[") {
            const auto end = xml.find("]]>", pos + 9);
            if (end == std::string_view::npos) return false;
            pos = end + 3;
            continue;
        }
        if (xml.substr(pos, 2) == "<?") {
            const auto end = xml.find("?>", pos + 2);
            if (end == std::string_view::npos) return false;
            pos = end + 2;
            continue;
        }
        // Find the tag's end outside quoted attribute values.
        std::size_t end = pos + 1;
        char quote = 0;
        for (; end < xml.size(); ++end) {
            const char c = xml[end];
            if (quote != 0) {
                if (c == quote) quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '>') {
                break;
            }
        }
        if (end >= xml.size()) return false;
        std::string_view tag = xml.substr(pos + 1, end - pos - 1);
        pos = end + 1;
        const bool closing = !tag.empty() && tag.front() == '/';
        const bool selfClosing = !tag.empty() && tag.back() == '/';
        if (closing) tag.remove_prefix(1);
        if (selfClosing) tag.remove_suffix(1);
        const auto nameEnd = tag.find_first_of(" \t\r\n");
        const std::string_view name = tag.substr(0, nameEnd);
        if (name.empty()) return false;
        if (closing) {
            if (open.empty() || open.back() != name) return false;
            open.pop_back();
            continue;
        }
        if (open.empty()) {
            if (!root.empty()) return false; // a second root element
            root = name;
        }
        if (!selfClosing) {
            if (open.size() >= 256) return false;
            open.push_back(name);
        }
    }
    if (!open.empty() || root.empty()) return false;
    const auto colon = root.find(':');
    const std::string_view local = colon == std::string_view::npos ? root : root.substr(colon + 1);
    return local == "xmpmeta";
}

bool isVriKey(const std::string& key) {
    if (key.size() != 40) return false;
    return std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

// ------------------------------------------------------------------ the differ

struct FormMeta {
    std::string field;
    bool validWhenLocked = false;
    bool validWhenCertifying = true;
    bool fromForm = false;
};

struct Approval {
    std::uint32_t number = 0;
    Level level = Level::kLtaUpdates;
    std::optional<Site> site; // nullopt: every usage at once
    FormMeta meta;
};

struct FieldSpec {
    std::string type;
    std::optional<ObjectRef> oldRef;
    std::optional<ObjectRef> newRef;
    std::optional<Path> oldPath; // absolute, from the trailer
};

struct KeyComparison {
    PdfObject oldValue;
    PdfObject newValue;
    bool oldPresent = false;
    bool newPresent = false;
    std::optional<std::uint32_t> approved;
};

class Differ {
public:
    Differ(const PdfReader& reader, std::size_t oldRevision, std::size_t newRevision, const DiffOptions& options,
           const Usages& usages)
        : r_(reader), old_(oldRevision), new_(newRevision), options_(options), usages_(usages) {}

    RevisionDiff run() {
        result_.baseRevision = old_;
        result_.revision = new_;
        try {
            prepare();
            checkFreedObjects();
            const std::set<std::uint32_t> orphans = findOrphans();
            catalogRule();
            docInfoRule();
            xrefStreamRule();
            objectStreamRule();
            dssRule();
            metadataRule();
            formRule();
            checkFormApprovals();
            decide(orphans);
        } catch (const Suspicious& s) {
            result_.level = Level::kOther;
            result_.findings.push_back({new_, s.object, Level::kOther, s.code, s.detail});
            if (s.object != 0) result_.unexplainedObjects.push_back(s.object);
        }
        return result_;
    }

private:
    // -------------------------------------------------------------- basics

    void prepare() {
        oldTrailer_ = r_.trailer(old_);
        newTrailer_ = r_.trailer(new_);
        oldRootRef_ = oldTrailer_.get("Root").asReference();
        newRootRef_ = newTrailer_.get("Root").asReference();
        oldRoot_ = r_.deref(oldTrailer_.get("Root"), old_);
        newRoot_ = r_.deref(newTrailer_.get("Root"), new_);
        if (oldRoot_.asDictionary() == nullptr || oldRoot_.asStream() != nullptr)
            suspicious("diff.catalog_not_dictionary", "the signed revision has no catalog dictionary");
        if (newRoot_.asDictionary() == nullptr || newRoot_.asStream() != nullptr)
            suspicious("diff.catalog_not_dictionary", "the catalog was replaced by a non-dictionary");
        oldSize_ = r_.revisions()[old_].declaredSize;
        for (const auto& e : r_.revisions()[new_].entries)
            if (e.kind != XrefEntry::Kind::kFree) written_.insert(e.number);
    }

    const PdfDictionary& oldRoot() const { return *oldRoot_.asDictionary(); }
    const PdfDictionary& newRoot() const { return *newRoot_.asDictionary(); }

    /// pyHanko's is_ref_available: a number the signed revision could not have used.
    bool isNew(std::uint32_t number) const {
        return static_cast<std::int64_t>(number) >= oldSize_ && !r_.inUse(number, old_);
    }

    PdfObject resolveNumber(std::uint32_t number, std::size_t revision) const {
        const auto e = r_.lookup(number, revision);
        if (!e || e->kind == XrefEntry::Kind::kFree) return {};
        return r_.resolve({number, e->kind == XrefEntry::Kind::kInFile ? e->generation : 0}, revision);
    }

    void approve(std::uint32_t number, Level level, std::optional<Site> site = std::nullopt, FormMeta meta = {}) {
        approvals_.push_back({number, level, std::move(site), std::move(meta)});
    }

    /// The site an absolute path from the trailer ends at, in the signed revision.
    Site relativeSite(const Path& path) const {
        Site site;
        PdfObject current = PdfObject::dictionary(oldTrailer_);
        for (std::size_t i = 0; i < path.size(); ++i) {
            const Step& step = path[i];
            PdfObject child;
            if (!step.key.empty()) {
                if (const PdfDictionary* d = current.asDictionary()) child = d->get(step.key);
            } else if (const PdfArray* a = current.asArray(); a != nullptr && step.index < a->size()) {
                child = (*a)[step.index];
            }
            const auto ref = child.asReference();
            if (ref && i + 1 < path.size()) {
                site.anchor = ref->number;
                site.path.clear();
                current = r_.resolve(*ref, old_);
            } else {
                appendStep(site.path, step);
                current = child;
            }
        }
        return site;
    }

    /// Objects introduced after the base revision that a value reaches, without entering
    /// objects that already existed (pyHanko's collect_dependencies with since_revision).
    std::set<std::uint32_t> newDependencies(const PdfObject& start, std::size_t sinceRevision,
                                            std::size_t revision) const {
        std::set<std::uint32_t> found;
        collectNewDependencies(start, sinceRevision, revision, found);
        return found;
    }
    /// Adds to `found` and never enters what it already holds, so callers can share the set.
    void collectNewDependencies(const PdfObject& start, std::size_t sinceRevision, std::size_t revision,
                                std::set<std::uint32_t>& found) const {
        std::vector<PdfObject> stack{start};
        while (!stack.empty()) {
            spendWork();
            const PdfObject value = std::move(stack.back());
            stack.pop_back();
            if (const auto ref = value.asReference()) {
                if (found.count(ref->number) != 0) continue;
                const auto introduced = r_.introducingRevision(ref->number);
                if (!introduced || *introduced < sinceRevision) continue;
                found.insert(ref->number);
                stack.push_back(r_.resolve(*ref, revision));
            } else if (const PdfDictionary* d = value.asDictionary()) {
                for (const auto& entry : d->entries())
                    stack.push_back(entry.second);
            } else if (const PdfArray* a = value.asArray()) {
                for (const auto& v : *a)
                    stack.push_back(v);
            }
        }
    }

    /// Walks of the new objects are repeated per field and per key; a file built to make them
    /// explode is refused (kOther) instead of being analysed for hours.
    void spendWork() const {
        if (++work_ > kWorkLimit) suspicious("diff.too_complex", "the update is too large to analyse");
        if (work_ % kWorkPerClockRead == 0) r_.checkDeadline();
    }
    std::set<std::uint32_t> newDependencies(const PdfObject& start) const {
        return newDependencies(start, old_ + 1, new_);
    }

    void approveDependencies(const PdfObject& value, Level level, const FormMeta& meta = {}) {
        for (const auto n : newDependencies(value))
            approve(n, level, std::nullopt, meta);
    }

    /// pyHanko's safe_whitelist: a reference may be updated in place only if it is not a
    /// stream; otherwise it must point to a number the signed revision could not have used.
    std::uint32_t safeWhitelist(std::optional<ObjectRef> oldRef, ObjectRef newRef) const {
        if (oldRef && r_.resolve(*oldRef, old_).asStream() != nullptr)
            suspicious("diff.stream_override", "a stream referenced from a checked key was replaced", oldRef->number);
        if (oldRef && *oldRef == newRef) {
            if (r_.resolve(newRef, new_).asStream() != nullptr)
                suspicious("diff.stream_override", "a checked key now points to a stream", newRef.number);
            return newRef.number;
        }
        if (isNew(newRef.number)) return newRef.number;
        suspicious("diff.clobbered_reference", "an update reuses an existing object number", newRef.number);
    }

    /// pyHanko's compare_key_refs.
    KeyComparison compareKeyRefs(std::string_view key, const PdfDictionary* oldDict,
                                 const PdfDictionary& newDict) const {
        KeyComparison result;
        const PdfObject* oldRaw = oldDict != nullptr ? oldDict->find(key) : nullptr;
        const PdfObject* newRaw = newDict.find(key);
        if (oldRaw != nullptr) {
            result.oldPresent = true;
            result.oldValue = r_.deref(*oldRaw, old_);
        }
        if (newRaw == nullptr) {
            if (oldRaw != nullptr) suspicious("diff.key_deleted", "/" + std::string(key) + " was deleted");
            return result;
        }
        result.newPresent = true;
        result.newValue = r_.deref(*newRaw, new_);
        if (const auto newRef = newRaw->asReference()) {
            const std::optional<ObjectRef> oldRef = oldRaw != nullptr ? oldRaw->asReference() : std::nullopt;
            result.approved = safeWhitelist(oldRef, *newRef);
        }
        return result;
    }

    /// pyHanko's compare_dicts: same keys (outside `ignored`), same raw values.
    bool compareDicts(const PdfObject& oldValue, const PdfObject& newValue,
                      const std::set<std::string, std::less<>>& ignored, bool raise, const std::string& code,
                      std::uint32_t object = 0) const {
        const PdfDictionary* o = oldValue.asDictionary();
        const PdfDictionary* n = newValue.asDictionary();
        if (o == nullptr || n == nullptr || oldValue.asStream() != nullptr || newValue.asStream() != nullptr) {
            if (raise) suspicious(code, "a dictionary was replaced by something else", object);
            return false;
        }
        std::vector<std::string> oldKeys;
        std::vector<std::string> newKeys;
        for (const auto& e : o->entries())
            if (ignored.count(e.first) == 0) oldKeys.push_back(e.first);
        for (const auto& e : n->entries())
            if (ignored.count(e.first) == 0) newKeys.push_back(e.first);
        if (oldKeys != newKeys) {
            if (raise) suspicious(code, "dictionary keys differ", object);
            return false;
        }
        for (const auto& key : newKeys)
            if (!r_.sameValue(o->get(key), n->get(key))) {
                if (raise) suspicious(code, "value of /" + key + " differs", object);
                return false;
            }
        return true;
    }

    // -------------------------------------------------------------- structural rules

    void checkFreedObjects() {
        for (const auto& e : r_.revisions()[new_].entries) {
            if (e.kind != XrefEntry::Kind::kFree) continue;
            // Freeing deletes content; freeing a number nobody used changes nothing.
            if (r_.inUse(e.number, new_ - 1) || r_.inUse(e.number, old_))
                suspicious("diff.object_freed", "an object in use was freed", e.number);
        }
    }

    /// New objects that nothing reaches: harmless, cleared at kLtaUpdates (pyHanko does the same).
    std::set<std::uint32_t> findOrphans() const {
        std::set<std::uint32_t> candidates;
        for (const auto n : written_)
            if (isNew(n)) candidates.insert(n);
        if (candidates.empty()) return candidates;
        std::set<std::uint32_t> reachable;
        collectNewDependencies(PdfObject::dictionary(newTrailer_), new_, new_, reachable);
        for (const auto n : written_)
            if (!isNew(n)) collectNewDependencies(resolveNumber(n, new_), new_, new_, reachable);
        for (const auto n : reachable)
            candidates.erase(n);
        return candidates;
    }

    void catalogRule() {
        compareDicts(oldRoot_, newRoot_, kRootExempt, true, "diff.catalog_changed",
                     newRootRef_ ? newRootRef_->number : 0);
        for (const char* key : {"Extensions", "MarkInfo"}) {
            const auto kr = compareKeyRefs(key, &oldRoot(), newRoot());
            if (kr.approved) approve(*kr.approved, Level::kLtaUpdates, relativeSite({Step::k("Root"), Step::k(key)}));
        }
        // Keys outside the exempt set are equal, so every path through the catalog may pass.
        if (newRootRef_) approve(newRootRef_->number, Level::kLtaUpdates);
    }

    void docInfoRule() {
        const auto newInfo = newTrailer_.get("Info").asReference();
        if (!newInfo) return;
        const auto oldInfo = oldTrailer_.get("Info").asReference();
        Site site;
        appendKey(site.path, "Info");
        approve(safeWhitelist(oldInfo, *newInfo), Level::kLtaUpdates, site);
    }

    void xrefStreamRule() {
        auto consider = [&](const std::optional<ObjectRef>& ref) {
            if (ref && isNew(ref->number)) approve(ref->number, Level::kLtaUpdates);
        };
        for (const auto& section : r_.revisions()[new_].sections) {
            consider(section.streamRef);
            consider(section.hybridStreamRef);
        }
        if (new_ + 1 < r_.revisionCount())
            for (const auto& section : r_.revisions()[new_ + 1].sections)
                consider(section.hybridStreamRef);
    }

    void objectStreamRule() {
        for (const auto& e : r_.revisions()[new_].entries)
            if (e.kind == XrefEntry::Kind::kInObjectStream && e.offset <= UINT32_MAX &&
                isNew(static_cast<std::uint32_t>(e.offset)))
                approve(static_cast<std::uint32_t>(e.offset), Level::kLtaUpdates);
    }

    void requireStreamReferenceArray(const PdfObject& raw, const std::string& key) const {
        const PdfObject value = r_.deref(raw, new_);
        const PdfArray* a = value.asArray();
        if (a == nullptr) suspicious("diff.dss_malformed", "/" + key + " in the DSS is not an array");
        for (const auto& item : *a) {
            const auto ref = item.asReference();
            if (!ref || r_.resolve(*ref, new_).asStream() == nullptr)
                suspicious("diff.dss_malformed",
                           "/" + key + " in the DSS holds something other than stream references");
        }
    }

    void validateDssArrays(const PdfDictionary& oldDict, const PdfDictionary& newDict,
                           std::initializer_list<const char*> keys, const Path& base) {
        for (const char* key : keys) {
            const PdfObject* raw = newDict.find(key);
            if (raw == nullptr) continue;
            requireStreamReferenceArray(*raw, key);
            if (const auto newRef = raw->asReference()) {
                if (const PdfObject* oldRaw = oldDict.find(key)) {
                    if (const auto oldRef = oldRaw->asReference()) {
                        Path path = base;
                        path.push_back(Step::k(key));
                        approve(safeWhitelist(oldRef, *newRef), Level::kLtaUpdates, relativeSite(path));
                    }
                }
            }
            approveDependencies(*raw, Level::kLtaUpdates);
        }
    }

    void dssRule() {
        static const std::set<std::string, std::less<>> dssKeys{"Type", "VRI", "Certs", "CRLs", "OCSPs"};
        static const std::set<std::string, std::less<>> vriKeys{"Type", "TU", "TS", "Cert", "CRL", "OCSP"};
        const auto kr = compareKeyRefs("DSS", &oldRoot(), newRoot());
        if (kr.approved) approve(*kr.approved, Level::kLtaUpdates, relativeSite({Step::k("Root"), Step::k("DSS")}));
        if (!kr.newPresent) return;
        const PdfDictionary empty;
        const PdfDictionary* oldDss = kr.oldValue.asDictionary() != nullptr ? kr.oldValue.asDictionary() : &empty;
        const PdfDictionary* newDss = kr.newValue.asDictionary();
        if (newDss == nullptr || kr.newValue.asStream() != nullptr)
            suspicious("diff.dss_malformed", "/DSS is not a dictionary");
        for (const auto& e : newDss->entries())
            if (dssKeys.count(e.first) == 0)
                suspicious("diff.dss_malformed", "unexpected key /" + e.first + " in the DSS");
        const Path dssPath{Step::k("Root"), Step::k("DSS")};
        validateDssArrays(*oldDss, *newDss, {"Certs", "CRLs", "OCSPs"}, dssPath);

        const auto vri = compareKeyRefs("VRI", oldDss, *newDss);
        if (vri.approved)
            approve(*vri.approved, Level::kLtaUpdates, relativeSite({Step::k("Root"), Step::k("DSS"), Step::k("VRI")}));
        if (!vri.newPresent) return;
        const PdfDictionary* newVri = vri.newValue.asDictionary();
        if (newVri == nullptr || vri.newValue.asStream() != nullptr)
            suspicious("diff.dss_malformed", "/VRI is not a dictionary");
        const PdfDictionary* oldVri = vri.oldValue.asDictionary() != nullptr ? vri.oldValue.asDictionary() : &empty;
        for (const auto& [key, value] : oldVri->entries()) {
            const PdfObject* now = newVri->find(key);
            if (now == nullptr || !r_.sameValue(*now, value))
                suspicious("diff.dss_vri_changed", "VRI entry /" + key + " was modified or deleted");
        }
        for (const auto& [key, raw] : newVri->entries()) {
            if (oldVri->contains(key)) continue;
            if (!isVriKey(key)) suspicious("diff.dss_malformed", "VRI key /" + key + " is not a hash");
            if (const auto ref = raw.asReference(); ref && isNew(ref->number)) approve(ref->number, Level::kLtaUpdates);
            const PdfObject entry = r_.deref(raw, new_);
            const PdfDictionary* d = entry.asDictionary();
            if (d == nullptr || entry.asStream() != nullptr)
                suspicious("diff.dss_malformed", "VRI entries must be dictionaries");
            for (const auto& e : d->entries())
                if (vriKeys.count(e.first) == 0)
                    suspicious("diff.dss_malformed", "unexpected key /" + e.first + " in a VRI entry");
            validateDssArrays(empty, *d, {"Cert", "CRL", "OCSP"}, {});
            if (const auto ts = d->get("TS").asReference(); ts && isNew(ts->number))
                approve(ts->number, Level::kLtaUpdates);
        }
    }

    void requireXmp(ObjectRef ref, std::size_t revision) const {
        const PdfObject value = r_.resolve(ref, revision);
        const PdfStream* stream = value.asStream();
        if (stream == nullptr) suspicious("diff.metadata_not_xmp", "/Metadata is not a stream", ref.number);
        std::string xml;
        try {
            xml = r_.decodeStream(*stream);
        } catch (const Error& e) {
            if (e.reason() == "pdf.limit_exceeded") throw;
            suspicious("diff.metadata_not_xmp", "the metadata stream cannot be decoded", ref.number);
        }
        if (!looksLikeXmp(xml))
            suspicious("diff.metadata_not_xmp", "the metadata stream is not well-formed XMP", ref.number);
    }

    void metadataRule() {
        const PdfObject* newRaw = newRoot().find("Metadata");
        if (newRaw == nullptr) return;
        const auto newRef = newRaw->asReference();
        if (!newRef) suspicious("diff.metadata_not_xmp", "/Metadata must be an indirect reference");
        requireXmp(*newRef, new_);
        std::optional<ObjectRef> oldRef;
        if (const PdfObject* oldRaw = oldRoot().find("Metadata")) {
            oldRef = oldRaw->asReference();
            if (!oldRef) suspicious("diff.metadata_not_xmp", "/Metadata must be an indirect reference");
            requireXmp(*oldRef, old_);
        }
        if ((oldRef && *oldRef == *newRef) || isNew(newRef->number))
            approve(newRef->number, Level::kLtaUpdates, relativeSite({Step::k("Root"), Step::k("Metadata")}));
    }

    // -------------------------------------------------------------- forms

    void listFields(const PdfObject& oldList, const PdfObject& newList, const std::optional<Path>& oldPath,
                    const std::string& parent, const std::string& inheritedType, std::size_t depth,
                    std::map<std::string, FieldSpec>& specs) {
        if (depth > 32) suspicious("diff.field_tree_malformed", "form field tree too deep");
        struct Listed {
            std::string type;
            ObjectRef ref;
            PdfObject kids;
            std::size_t index;
        };
        auto makeList = [&](const PdfObject& list, std::size_t revision) {
            std::map<std::string, Listed> byName;
            if (list.isNull()) return byName;
            const PdfArray* a = list.asArray();
            if (a == nullptr) suspicious("diff.field_tree_malformed", "field list is not an array");
            for (std::size_t i = 0; i < a->size(); ++i) {
                const auto ref = (*a)[i].asReference();
                if (!ref) suspicious("diff.field_tree_malformed", "fields must be indirect objects");
                const PdfObject field = r_.resolve(*ref, revision);
                const PdfDictionary* d = field.asDictionary();
                if (d == nullptr) suspicious("diff.field_tree_malformed", "fields must be dictionaries", ref->number);
                const PdfObject* title = d->find("T");
                if (title == nullptr) continue; // a widget, not a field
                const PdfString* s = title->asString();
                if (s == nullptr) suspicious("diff.field_tree_malformed", "field names must be strings", ref->number);
                const std::string name = textStringToUtf8(s->bytes);
                if (name.find('.') != std::string::npos)
                    suspicious("diff.field_tree_malformed", "partial field names must not contain periods",
                               ref->number);
                const std::string fq = parent.empty() ? name : parent + "." + name;
                if (byName.count(fq) != 0)
                    suspicious("diff.field_tree_malformed", "duplicate field name " + fq, ref->number);
                const std::string* ft = d->get("FT").asName();
                std::string type = ft != nullptr ? *ft : inheritedType;
                PdfObject kids = r_.deref(d->get("Kids"), revision);
                const bool hasKids = kids.asArray() != nullptr && !kids.asArray()->empty();
                if (!hasKids && type.empty())
                    suspicious("diff.field_tree_malformed", "terminal field " + fq + " has no type", ref->number);
                if (++fieldsListed_ > 10000) suspicious("diff.field_tree_malformed", "more than 10000 form fields");
                byName.emplace(fq, Listed{std::move(type), *ref, std::move(kids), i});
            }
            return byName;
        };
        const auto oldFields = makeList(oldList, old_);
        const auto newFields = makeList(newList, new_);
        std::set<std::string> names;
        for (const auto& [n, f] : oldFields)
            names.insert(n);
        for (const auto& [n, f] : newFields)
            names.insert(n);
        for (const auto& name : names) {
            const auto o = oldFields.find(name);
            const auto n = newFields.find(name);
            FieldSpec spec;
            if (o != oldFields.end()) spec.oldRef = o->second.ref;
            if (n != newFields.end()) spec.newRef = n->second.ref;
            if (spec.oldRef && spec.newRef && o->second.type != n->second.type)
                suspicious("diff.field_type_changed", "update changed the type of field " + name, spec.newRef->number);
            spec.type = o != oldFields.end() ? o->second.type : n->second.type;
            if (o != oldFields.end() && oldPath) {
                Path path = *oldPath;
                path.push_back(Step::i(o->second.index));
                spec.oldPath = std::move(path);
            }
            specs[name] = spec;
            const PdfObject oldKids = o != oldFields.end() ? o->second.kids : PdfObject{};
            const PdfObject newKids = n != newFields.end() ? n->second.kids : PdfObject{};
            const bool anyKids = (oldKids.asArray() != nullptr && !oldKids.asArray()->empty()) ||
                                 (newKids.asArray() != nullptr && !newKids.asArray()->empty());
            if (anyKids) {
                std::optional<Path> kidsPath;
                if (spec.oldPath) {
                    kidsPath = *spec.oldPath;
                    kidsPath->push_back(Step::k("Kids"));
                }
                listFields(oldKids.asArray() != nullptr ? oldKids : PdfObject{},
                           newKids.asArray() != nullptr ? newKids : PdfObject{}, kidsPath, name, spec.type, depth + 1,
                           specs);
            }
        }
    }

    /// Sites in the signed revision where a page lists its annotations.
    const std::set<Site>& pageAnnotationSites() {
        if (pageAnnotationSitesReady_) return pageAnnotationSites_;
        pageAnnotationSitesReady_ = true;
        std::set<std::uint32_t> seen;
        std::vector<std::pair<PdfObject, std::size_t>> stack{{oldRoot().get("Pages"), 0}};
        while (!stack.empty()) {
            auto [raw, depth] = stack.back();
            stack.pop_back();
            const auto ref = raw.asReference();
            if (!ref || depth > 64 || !seen.insert(ref->number).second) continue;
            const PdfObject node = r_.resolve(*ref, old_);
            const PdfDictionary* d = node.asDictionary();
            if (d == nullptr) continue;
            if (const PdfArray* kids = r_.deref(d->get("Kids"), old_).asArray()) {
                for (const auto& kid : *kids)
                    stack.emplace_back(kid, depth + 1);
                continue;
            }
            const PdfObject annotsRaw = d->get("Annots");
            if (const auto annotsRef = annotsRaw.asReference()) {
                if (const PdfArray* a = r_.resolve(*annotsRef, old_).asArray())
                    for (std::size_t i = 0; i < a->size(); ++i) {
                        Site site{annotsRef->number, {}};
                        appendIndex(site.path, i);
                        pageAnnotationSites_.insert(site);
                    }
            } else if (const PdfArray* a = annotsRaw.asArray()) {
                for (std::size_t i = 0; i < a->size(); ++i) {
                    Site site{ref->number, {}};
                    appendKey(site.path, "Annots");
                    appendIndex(site.path, i);
                    pageAnnotationSites_.insert(site);
                }
            }
        }
        return pageAnnotationSites_;
    }

    /// Where a field of the signed revision may legitimately be referenced from: its place in
    /// the field tree, the /Annots of pages, the structure tree.
    std::vector<Site> expectedSites(const FieldSpec& spec) {
        std::vector<Site> sites;
        if (!spec.oldRef) return sites;
        if (spec.oldPath) sites.push_back(relativeSite(*spec.oldPath));
        const auto it = usages_.find(spec.oldRef->number);
        if (it != usages_.end()) {
            const auto& annotationSites = pageAnnotationSites();
            const bool hasStructTree = oldRoot().contains("StructTreeRoot");
            for (const auto& site : it->second)
                if (annotationSites.count(site) != 0 || (hasStructTree && pathEndsWithKey(site.path, "Obj")))
                    sites.push_back(site);
        }
        return sites;
    }

    /// pyHanko's compare_fields: only value keys may change; returns whether the change would
    /// also be fine on a locked field.
    bool compareFields(const FieldSpec& spec, const PdfObject& oldField, const PdfObject& newField) const {
        const std::uint32_t number = spec.newRef ? spec.newRef->number : 0;
        compareDicts(oldField, newField, kValueUpdateKeys, true, "diff.field_changed", number);
        const PdfDictionary& o = *oldField.asDictionary();
        const PdfDictionary& n = *newField.asDictionary();
        const PdfObject* oldType = o.find("Type");
        const PdfObject* newType = n.find("Type");
        if (newType != nullptr) {
            if (oldType == nullptr && !newType->isName("Annot"))
                suspicious("diff.field_changed", "/Type of a form field set to something other than /Annot", number);
            if (oldType != nullptr && !r_.sameValue(*oldType, *newType))
                suspicious("diff.field_changed", "/Type of a form field altered", number);
        } else if (oldType != nullptr) {
            suspicious("diff.field_changed", "/Type of a form field deleted", number);
        }
        return compareDicts(oldField, newField, kFieldAlwaysModifiable, false, "");
    }

    void allowAppearanceUpdate(const PdfObject& oldField, const PdfObject& newField, const std::string& field) {
        FormMeta meta{field, false, true, true};
        const auto kr = compareKeyRefs("AP", oldField.asDictionary(), *newField.asDictionary());
        if (kr.approved) approve(*kr.approved, Level::kFormFilling, std::nullopt, meta);
        if (!kr.newPresent) return;
        const PdfDictionary* newAp = kr.newValue.asDictionary();
        if (newAp == nullptr || kr.newValue.asStream() != nullptr)
            suspicious("diff.appearance_malformed", "/AP must be a dictionary");
        bool checkedSharing = false;
        for (const char* key : {"N", "R", "D"}) {
            const PdfObject* raw = newAp->find(key);
            if (raw == nullptr) continue;
            approveDependencies(*raw, Level::kFormFilling, meta);
            if (kr.oldValue.asDictionary() != nullptr && !checkedSharing) {
                // An indirect /AP dictionary used elsewhere too must not be repointed here:
                // the change would show through the other place as well.
                if (const auto oldApRef = oldField.asDictionary()->get("AP").asReference()) {
                    const auto it = usages_.find(oldApRef->number);
                    if (it != usages_.end() && it->second.size() > 1)
                        suspicious("diff.shared_object_override",
                                   "an appearance dictionary used in more than one place was updated",
                                   oldApRef->number);
                }
                checkedSharing = true;
            }
        }
    }

    void allowInPlaceAppearanceUpdate(const FieldSpec& spec, const PdfObject& oldField, const PdfObject& newField,
                                      const std::string& field) {
        const PdfDictionary& o = *oldField.asDictionary();
        const PdfDictionary& n = *newField.asDictionary();
        if (o.contains("AS")) return;
        const PdfObject* oldApRaw = o.find("AP");
        const PdfObject* newApRaw = n.find("AP");
        if (oldApRaw == nullptr || newApRaw == nullptr) return;
        const PdfObject oldAp = r_.deref(*oldApRaw, old_);
        const PdfObject newAp = r_.deref(*newApRaw, new_);
        if (oldAp.asDictionary() == nullptr || newAp.asDictionary() == nullptr) return;
        FormMeta meta{field, false, true, true};
        for (const char* key : {"N", "R", "D"}) {
            const auto oldStream = oldAp.asDictionary()->get(key).asReference();
            const auto newStream = newAp.asDictionary()->get(key).asReference();
            if (!oldStream || !newStream || *oldStream != *newStream) continue;
            const auto changed = r_.lastChange(oldStream->number, new_);
            if (!changed || *changed <= old_) continue;
            // Cleared only for this one place: if the stream is shown anywhere else, that
            // other use stays unexplained (the "sneaky" appearance override).
            Site site;
            if (const auto apRef = oldApRaw->asReference()) {
                site.anchor = apRef->number;
                appendKey(site.path, key);
            } else {
                site.anchor = spec.oldRef->number;
                appendKey(site.path, "AP");
                appendKey(site.path, key);
            }
            approve(oldStream->number, Level::kFormFilling, site, meta);
            approveDependencies(r_.resolve(*newStream, new_), Level::kFormFilling, meta);
        }
    }

    void sigFieldCreationRule(const std::map<std::string, FieldSpec>& specs) {
        for (const auto& [name, spec] : specs)
            if (spec.oldRef && !spec.newRef)
                suspicious("diff.field_deleted", "field " + name + " was deleted", spec.oldRef->number);
        for (const auto& [name, spec] : specs) {
            if (spec.oldRef) continue;
            if (spec.type != "Sig")
                suspicious("diff.non_signature_field_added", "a field other than a signature field was added: " + name,
                           spec.newRef->number);
        }
        for (const auto& [name, spec] : specs) {
            if (spec.oldRef || spec.type != "Sig") continue;
            const ObjectRef ref = *spec.newRef;
            const PdfObject field = r_.resolve(ref, new_);
            const PdfDictionary& d = *field.asDictionary();
            const bool visible = isFieldVisible(r_, d, new_);
            const Level level = visible ? Level::kFormFilling : Level::kLtaUpdates;
            result_.newSignatureFields.push_back(name);
            if (isNew(ref.number)) approve(ref.number, level, std::nullopt, FormMeta{name, !visible, !visible, true});
            for (const char* key : {"AP", "Lock", "SV"})
                if (const PdfObject* raw = d.find(key))
                    approveDependencies(*raw, Level::kFormFilling, FormMeta{name, false, true, true});
            const PdfObject* kidsRaw = d.find("Kids");
            if (kidsRaw == nullptr) {
                widgetOwners_[ref.number] = name;
                continue;
            }
            if (const auto kidsRef = kidsRaw->asReference(); kidsRef && isNew(kidsRef->number))
                approve(kidsRef->number, level, std::nullopt, FormMeta{name, !visible, true, true});
            const PdfObject kids = r_.deref(*kidsRaw, new_);
            const PdfArray* a = kids.asArray();
            if (a == nullptr) suspicious("diff.field_tree_malformed", "/Kids is not an array", ref.number);
            for (const auto& kid : *a) {
                const auto kidRef = kid.asReference();
                if (!kidRef) suspicious("diff.field_tree_malformed", "/Kids holds a direct object", ref.number);
                const PdfObject widget = r_.resolve(*kidRef, new_);
                const PdfDictionary* w = widget.asDictionary();
                if (w == nullptr || w->contains("T")) continue;
                widgetOwners_[kidRef->number] = name;
                if (isNew(kidRef->number))
                    approve(kidRef->number, level, std::nullopt, FormMeta{name, !visible, true, true});
                if (const PdfObject* ap = w->find("AP"))
                    approveDependencies(*ap, Level::kFormFilling, FormMeta{name, false, true, true});
            }
        }
    }

    void sigFieldModificationRule(const std::string& name, const FieldSpec& spec) {
        const PdfObject newField = r_.resolve(*spec.newRef, new_);
        const PdfDictionary& n = *newField.asDictionary();
        bool nowSigned = n.contains("V");
        if (spec.oldRef) {
            const PdfObject oldField = r_.resolve(*spec.oldRef, old_);
            const bool previouslySigned = oldField.asDictionary()->contains("V");
            const bool validWhenLocked = compareFields(spec, oldField, newField);
            const auto sites = expectedSites(spec);
            if (!previouslySigned && nowSigned) {
                for (const auto& site : sites)
                    approve(spec.newRef->number, Level::kLtaUpdates, site, FormMeta{name, validWhenLocked, true, true});
                allowAppearanceUpdate(oldField, newField, name);
                allowInPlaceAppearanceUpdate(spec, oldField, newField, name);
            } else {
                // Already signed, or still empty: the field must stay as it was (Acrobat may
                // touch /Ff). A rewritten signature dictionary stays unexplained.
                if (validWhenLocked)
                    for (const auto& site : sites)
                        approve(spec.newRef->number, Level::kLtaUpdates, site, FormMeta{name, true, true, true});
                return;
            }
        }
        if (!nowSigned) return;
        const auto valueRef = n.get("V").asReference();
        if (!valueRef)
            suspicious("diff.signature_value_direct",
                       "the value of signature field " + name + " is not an indirect reference", spec.newRef->number);
        const PdfObject signature = r_.resolve(*valueRef, new_);
        const PdfDictionary* s = signature.asDictionary();
        if (s == nullptr || signature.asStream() != nullptr)
            suspicious("diff.signature_value_malformed",
                       "the value of signature field " + name + " is not a dictionary", valueRef->number);
        const bool visible = isFieldVisible(r_, n, new_);
        const bool timestamp = s->get("Type").isName("DocTimeStamp") && !visible;
        const Level level = timestamp ? Level::kLtaUpdates : Level::kFormFilling;
        approve(valueRef->number, level, std::nullopt, FormMeta{name, timestamp, true, true});
        if (const PdfArray* references = r_.deref(s->get("Reference"), new_).asArray()) {
            for (const auto& item : *references) {
                if (const auto itemRef = item.asReference(); itemRef && isNew(itemRef->number))
                    approve(itemRef->number, level, std::nullopt, FormMeta{name, timestamp, true, true});
                const PdfObject reference = r_.deref(item, new_);
                if (const PdfDictionary* rd = reference.asDictionary())
                    if (const auto params = rd->get("TransformParams").asReference(); params && isNew(params->number))
                        approve(params->number, level, std::nullopt, FormMeta{name, timestamp, true, true});
            }
        }
    }

    void genericFieldModificationRule(const std::string& name, const FieldSpec& spec) {
        const PdfObject oldField = r_.resolve(*spec.oldRef, old_);
        const PdfObject newField = r_.resolve(*spec.newRef, new_);
        const bool validWhenLocked = compareFields(spec, oldField, newField);
        for (const auto& site : expectedSites(spec))
            approve(spec.newRef->number, Level::kFormFilling, site, FormMeta{name, validWhenLocked, true, true});
        allowAppearanceUpdate(oldField, newField, name);
        allowInPlaceAppearanceUpdate(spec, oldField, newField, name);
        if (written_.count(spec.newRef->number) != 0 && !r_.sameValue(oldField, newField))
            result_.changedNonSignatureFields.push_back(name);
        const PdfObject* newValue = newField.asDictionary()->find("V");
        if (newValue == nullptr) return;
        const PdfObject* oldValue = oldField.asDictionary()->find("V");
        if (oldValue == nullptr || !r_.sameValue(*oldValue, *newValue))
            approveDependencies(*newValue, Level::kFormFilling, FormMeta{name, false, true, true});
    }

    /// Pages whose /Annots changed: new signature widgets (kLtaUpdates) and, our extension of
    /// pyHanko's policy, brand-new markup annotations (kAnnotations). Nothing else.
    void pageAnnotationsRule() {
        std::set<std::uint32_t> seen;
        walkPages(oldRoot().get("Pages"), newRoot().get("Pages"), 0, seen);
    }

    void walkPages(const PdfObject& oldNodeRaw, const PdfObject& newNodeRaw, std::size_t depth,
                   std::set<std::uint32_t>& seen) {
        if (depth > 64) suspicious("diff.page_tree_malformed", "page tree too deep");
        const PdfObject oldNode = r_.deref(oldNodeRaw, old_);
        const PdfObject newNode = r_.deref(newNodeRaw, new_);
        const PdfDictionary* o = oldNode.asDictionary();
        const PdfDictionary* n = newNode.asDictionary();
        if (o == nullptr || n == nullptr) suspicious("diff.page_tree_malformed", "page tree node is not a dictionary");
        auto kidRefs = [&](const PdfDictionary& node, std::size_t revision) {
            std::vector<ObjectRef> refs;
            const PdfObject kids = r_.deref(node.get("Kids"), revision);
            const PdfArray* a = kids.asArray();
            if (a == nullptr) suspicious("diff.page_tree_malformed", "no /Kids in a /Pages node");
            for (const auto& k : *a) {
                const auto ref = k.asReference();
                if (!ref) suspicious("diff.page_tree_malformed", "page tree /Kids holds a direct object");
                refs.push_back(*ref);
            }
            return refs;
        };
        const auto oldKids = kidRefs(*o, old_);
        const auto newKids = kidRefs(*n, new_);
        if (oldKids != newKids) suspicious("diff.page_tree_changed", "pages were added, removed or reordered");
        for (const ObjectRef kid : newKids) {
            if (!seen.insert(kid.number).second)
                suspicious("diff.page_tree_malformed", "page tree has a cycle", kid.number);
            const PdfObject oldKid = r_.resolve(kid, old_);
            const PdfObject newKid = r_.resolve(kid, new_);
            const PdfDictionary* ok = oldKid.asDictionary();
            const PdfDictionary* nk = newKid.asDictionary();
            if (ok == nullptr || nk == nullptr)
                suspicious("diff.page_tree_malformed", "page is not a dictionary", kid.number);
            if (ok->get("Type").isName("Pages")) {
                walkPages(PdfObject::reference(kid), PdfObject::reference(kid), depth + 1, seen);
                continue;
            }
            if (!ok->get("Type").isName("Page"))
                suspicious("diff.page_tree_malformed", "page tree node without /Type", kid.number);
            checkPageAnnotations(kid, *ok, *nk, oldKid, newKid);
        }
    }

    std::set<ObjectRef> annotationRefs(const PdfObject& raw, std::size_t revision, std::uint32_t page) const {
        std::set<ObjectRef> refs;
        const PdfObject value = r_.deref(raw, revision);
        const PdfArray* a = value.asArray();
        if (a == nullptr) suspicious("diff.annotations_malformed", "/Annots is not an array", page);
        for (const auto& item : *a) {
            const auto ref = item.asReference();
            if (!ref) suspicious("diff.annotations_malformed", "/Annots holds a direct object", page);
            refs.insert(*ref);
        }
        return refs;
    }

    void checkPageAnnotations(ObjectRef page, const PdfDictionary& oldPage, const PdfDictionary& newPage,
                              const PdfObject& oldKid, const PdfObject& newKid) {
        const PdfObject* newAnnotsRaw = newPage.find("Annots");
        if (newAnnotsRaw == nullptr) return;
        const auto newAnnots = annotationRefs(*newAnnotsRaw, new_, page.number);
        const PdfObject* oldAnnotsRaw = oldPage.find("Annots");
        const auto oldAnnots =
            oldAnnotsRaw != nullptr ? annotationRefs(*oldAnnotsRaw, old_, page.number) : std::set<ObjectRef>{};
        if (oldAnnots == newAnnots) return;
        for (const auto& ref : oldAnnots)
            if (newAnnots.count(ref) == 0)
                suspicious("diff.annotation_deleted", "an annotation was removed from a page", ref.number);
        std::vector<ObjectRef> added;
        for (const auto& ref : newAnnots)
            if (oldAnnots.count(ref) == 0) added.push_back(ref);
        Level level = Level::kLtaUpdates;
        std::string field;
        std::size_t widgets = 0;
        for (const auto& ref : added) {
            const auto owner = widgetOwners_.find(ref.number);
            if (owner != widgetOwners_.end()) {
                ++widgets;
                field = owner->second;
                continue;
            }
            const PdfObject annotation = r_.resolve(ref, new_);
            const PdfDictionary* a = annotation.asDictionary();
            const std::string* subtype = a != nullptr ? a->get("Subtype").asName() : nullptr;
            if (!isNew(ref.number) || a == nullptr || annotation.asStream() != nullptr || subtype == nullptr ||
                *subtype == "Widget")
                suspicious("diff.annotation_unrecognised", "an added annotation is not a new signature widget",
                           ref.number);
            level = Level::kAnnotations;
            approve(ref.number, Level::kAnnotations);
            approveDependencies(annotation, Level::kAnnotations);
        }
        if (widgets != 1 || added.size() != 1) field.clear();
        compareDicts(oldKid, newKid, {"Annots"}, true, "diff.page_changed", page.number);
        // Pages are referenced from many places; with every other key equal, approve them all.
        const FormMeta meta{field, !field.empty(), true, true};
        approve(page.number, level, std::nullopt, meta);
        if (const auto newAnnotsRef = newAnnotsRaw->asReference()) {
            const auto oldAnnotsRef = oldAnnotsRaw != nullptr ? oldAnnotsRaw->asReference() : std::nullopt;
            if ((oldAnnotsRef && *oldAnnotsRef == *newAnnotsRef) || isNew(newAnnotsRef->number)) {
                Site site{page.number, {}};
                appendKey(site.path, "Annots");
                approve(newAnnotsRef->number, level, site, meta);
            }
        }
    }

    void formRule() {
        const auto acroForm = compareKeyRefs("AcroForm", &oldRoot(), newRoot());
        const FormMeta formMeta{"", false, true, true};
        if (acroForm.approved)
            approve(*acroForm.approved, Level::kLtaUpdates, relativeSite({Step::k("Root"), Step::k("AcroForm")}),
                    formMeta);
        if (!acroForm.newPresent) {
            pageAnnotationsRule();
            return;
        }
        // A first signature field may create the form; then the old form is empty.
        const PdfObject oldForm = acroForm.oldPresent ? acroForm.oldValue : PdfObject::dictionary(PdfDictionary{});
        compareDicts(oldForm, acroForm.newValue, kAcroFormExempt, true, "diff.acroform_changed",
                     acroForm.approved.value_or(0));
        const PdfDictionary& o = *oldForm.asDictionary();
        const PdfDictionary& n = *acroForm.newValue.asDictionary();
        const Path formPath{Step::k("Root"), Step::k("AcroForm")};

        const auto fields = compareKeyRefs("Fields", &o, n);
        if (fields.approved)
            approve(*fields.approved, Level::kLtaUpdates,
                    relativeSite({Step::k("Root"), Step::k("AcroForm"), Step::k("Fields")}), formMeta);
        const auto resources = compareKeyRefs("DR", &o, n);
        if (resources.approved)
            approve(*resources.approved, Level::kFormFilling,
                    relativeSite({Step::k("Root"), Step::k("AcroForm"), Step::k("DR")}), formMeta);
        if (resources.newPresent) approveDependencies(n.get("DR"), Level::kFormFilling, formMeta);

        std::map<std::string, FieldSpec> specs;
        listFields(fields.oldValue, fields.newValue,
                   acroForm.oldPresent
                       ? std::optional<Path>(Path{Step::k("Root"), Step::k("AcroForm"), Step::k("Fields")})
                       : std::nullopt,
                   "", "", 0, specs);
        sigFieldCreationRule(specs);
        pageAnnotationsRule();
        for (const auto& [name, spec] : specs) {
            if (!spec.newRef) continue;
            if (spec.type == "Sig")
                sigFieldModificationRule(name, spec);
            else if (spec.oldRef)
                genericFieldModificationRule(name, spec);
        }
    }

    void checkFormApprovals() {
        std::set<std::string> changed;
        for (const auto& a : approvals_) {
            if (!a.meta.fromForm) continue;
            if (options_.docMdpPermission && !a.meta.validWhenCertifying)
                suspicious("diff.new_visible_field_after_certification",
                           "a visible signature field was added after a certification signature", a.number);
            if (a.meta.field.empty() || a.meta.validWhenLocked) continue;
            if (options_.fieldLock && options_.fieldLock->locks(a.meta.field))
                suspicious("diff.locked_field_changed", "field " + a.meta.field + " is locked", a.number);
            changed.insert(a.meta.field);
        }
        result_.changedFields.assign(changed.begin(), changed.end());
    }

    // -------------------------------------------------------------- the verdict

    void decide(const std::set<std::uint32_t>& orphans) {
        // A rewritten object that the signed revision referenced must have every one of those
        // references cleared by some rule before it counts as explained.
        struct Track {
            std::set<Site> remaining;
            Level level = Level::kNone;
        };
        std::map<std::uint32_t, Track> tracked;
        for (const auto n : written_) {
            const auto it = usages_.find(n);
            if (it != usages_.end() && !it->second.empty()) tracked[n].remaining = it->second;
        }
        std::map<std::uint32_t, Level> explained;
        auto explain = [&](std::uint32_t n, Level level) {
            const auto it = explained.find(n);
            if (it == explained.end() || level < it->second) explained[n] = level;
        };
        for (const auto n : orphans) {
            explain(n, Level::kLtaUpdates);
            result_.findings.push_back(
                {new_, n, Level::kLtaUpdates, "diff.orphan_object", "a new object nothing refers to"});
        }
        for (const auto& a : approvals_) {
            if (written_.count(a.number) == 0) continue;
            Level level = a.level;
            const auto t = tracked.find(a.number);
            if (t != tracked.end()) {
                if (a.site)
                    t->second.remaining.erase(*a.site);
                else
                    t->second.remaining.clear();
                t->second.level = maxLevel(t->second.level, level);
                if (!t->second.remaining.empty()) continue;
                level = t->second.level;
            }
            explain(a.number, level);
        }
        Level level = Level::kLtaUpdates;
        for (const auto n : written_) {
            auto it = explained.find(n);
            if ((it == explained.end() || it->second > Level::kLtaUpdates) && r_.inUse(n, old_)) {
                // Rewriting an object with the same value is pointless but harmless.
                const auto oldEntry = r_.lookup(n, old_);
                const auto newEntry = r_.lookup(n, new_);
                const bool sameGeneration = oldEntry && newEntry &&
                                            (oldEntry->kind == XrefEntry::Kind::kInFile ? oldEntry->generation : 0) ==
                                                (newEntry->kind == XrefEntry::Kind::kInFile ? newEntry->generation : 0);
                if (sameGeneration && r_.sameValue(resolveNumber(n, old_), resolveNumber(n, new_))) {
                    explained[n] = Level::kLtaUpdates;
                    continue;
                }
            }
            if (it == explained.end()) {
                result_.unexplainedObjects.push_back(n);
                const auto t = tracked.find(n);
                if (t != tracked.end() && t->second.remaining.size() < usages_.at(n).size())
                    result_.findings.push_back(
                        {new_, n, Level::kOther, "diff.shared_object_override",
                         "object was replaced, but it is also used elsewhere in the signed revision"});
                else
                    result_.findings.push_back(
                        {new_, n, Level::kOther, "diff.unexplained_object", "no rule allows this object to change"});
                level = Level::kOther;
            } else {
                level = maxLevel(level, it->second);
            }
        }
        result_.level = level;
    }

    const PdfReader& r_;
    std::size_t old_;
    std::size_t new_;
    const DiffOptions& options_;
    const Usages& usages_;
    RevisionDiff result_;
    PdfDictionary oldTrailer_;
    PdfDictionary newTrailer_;
    std::optional<ObjectRef> oldRootRef_;
    std::optional<ObjectRef> newRootRef_;
    PdfObject oldRoot_;
    PdfObject newRoot_;
    std::int64_t oldSize_ = 0;
    std::set<std::uint32_t> written_;
    std::vector<Approval> approvals_;
    std::map<std::uint32_t, std::string> widgetOwners_;
    static constexpr std::size_t kWorkLimit = 20'000'000;
    static constexpr std::size_t kWorkPerClockRead = 4096;
    mutable std::size_t work_ = 0;
    std::set<Site> pageAnnotationSites_;
    bool pageAnnotationSitesReady_ = false;
    std::size_t fieldsListed_ = 0;
};

RevisionDiff unreadableDiff(std::size_t base, std::size_t revision, const Error& e) {
    RevisionDiff diff;
    diff.baseRevision = base;
    diff.revision = revision;
    diff.level = Level::kOther;
    diff.findings.push_back({revision, 0, Level::kOther, "diff.unreadable", e.reason() + ": " + e.what()});
    return diff;
}

// ------------------------------------------------------------------ signatures

// Copies, so a value resolved into a temporary cannot leave a dangling pointer behind.
std::string nameValue(const PdfObject& value) {
    const std::string* name = value.asName();
    return name != nullptr ? *name : std::string();
}
std::optional<std::string> stringValue(const PdfObject& value) {
    const PdfString* s = value.asString();
    return s != nullptr ? std::optional<std::string>(s->bytes) : std::nullopt;
}

std::optional<FieldLock> readFieldLock(const PdfReader& reader, const PdfObject& raw, std::size_t revision) {
    const PdfObject value = reader.deref(raw, revision);
    const PdfDictionary* d = value.asDictionary();
    if (d == nullptr) return std::nullopt;
    const std::string* action = d->get("Action").asName();
    if (action == nullptr) return std::nullopt;
    FieldLock lock;
    lock.action = *action;
    if (const PdfArray* fields = reader.deref(d->get("Fields"), revision).asArray())
        for (const auto& f : *fields)
            if (const auto name = stringValue(reader.deref(f, revision)))
                lock.fields.push_back(textStringToUtf8(*name));
    return lock;
}

/// DocMDP /P: 1, 2 or 3; absent means 2; anything else is read as 1, the strictest.
int readPermission(const PdfReader& reader, const PdfDictionary* params, std::size_t revision) {
    if (params == nullptr) return 2;
    const PdfObject* p = params->find("P");
    if (p == nullptr) return 2;
    const auto value = reader.deref(*p, revision).asInteger();
    return value && *value >= 1 && *value <= 3 ? static_cast<int>(*value) : 1;
}

struct CoverageResult {
    Coverage coverage = Coverage::kUnclear;
    std::string problem;
};

CoverageResult evaluateCoverage(const PdfReader& reader, const SignatureInfo& sig, const PdfString* contents) {
    const std::string_view file = reader.bytes();
    const auto& br = sig.byteRange;
    if (!sig.byteRangeIntegers || br.size() != 4 || br[0] != 0)
        return {Coverage::kUnclear, "byterange.not_four_from_zero"};
    if (br[1] < 0 || br[2] < 0 || br[3] < 0) return {Coverage::kUnclear, "byterange.negative"};
    const auto length1 = static_cast<std::uint64_t>(br[1]);
    const auto start2 = static_cast<std::uint64_t>(br[2]);
    const auto length2 = static_cast<std::uint64_t>(br[3]);
    if (length1 > file.size() || start2 > file.size() || length2 > file.size() - start2)
        return {Coverage::kUnclear, "byterange.beyond_eof"};
    if (contents == nullptr) return {Coverage::kUnclear, "signature.contents_missing"};
    const std::uint64_t embedded = 2 * static_cast<std::uint64_t>(contents->bytes.size()) + 2;
    if (start2 != length1 + embedded) return {Coverage::kUnclear, "byterange.gap_not_contents"};
    // The gap must be this very /Contents string, hex digits only: no room for hidden objects.
    if (contents->fileBegin != length1 || contents->fileEnd != start2 || !contents->hex)
        return {Coverage::kUnclear, "byterange.gap_not_this_contents"};
    for (std::uint64_t i = length1 + 1; i + 1 < start2; ++i) {
        const char c = file[static_cast<std::size_t>(i)];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return {Coverage::kUnclear, "byterange.gap_not_hex"};
    }
    const std::uint64_t end = start2 + length2;
    if (end == file.size()) return {Coverage::kEntireFile, ""};
    if (sig.signedRevision) {
        const Revision& rev = reader.revisions()[*sig.signedRevision];
        if (end == rev.endOffset || end == rev.eofMarkerEnd)
            return {Coverage::kEntireRevision, "byterange.not_last_revision"};
    }
    return {Coverage::kContiguousBlockFromStart, "byterange.not_revision_end"};
}

struct FieldVisit {
    std::string name;
    ObjectRef ref;
    PdfDictionary dict;
    std::string type;
};

/// Every field of the form as of the last revision, with fully qualified names.
/// Fields in document order (the order of /Fields, parents before their kids), bounded in
/// depth and count: a hostile form tree cannot recurse or loop.
void collectFormFields(const PdfReader& reader, std::size_t revision, const PdfObject& list, const std::string& parent,
                       const std::string& parentType, std::size_t depth, std::set<std::uint32_t>& seen,
                       std::vector<FieldVisit>& out) {
    const PdfArray* a = list.asArray();
    if (a == nullptr || depth > 32) return;
    for (const auto& item : *a) {
        const auto ref = item.asReference();
        if (!ref || !seen.insert(ref->number).second || seen.size() > 10000) continue;
        const PdfObject field = reader.resolve(*ref, revision);
        const PdfDictionary* d = field.asDictionary();
        if (d == nullptr) continue;
        const PdfString* t = d->get("T").asString();
        if (t == nullptr) continue; // a widget annotation, not a field
        const std::string partial = textStringToUtf8(t->bytes);
        const std::string name = parent.empty() ? partial : parent + "." + partial;
        const std::string* ft = d->get("FT").asName();
        const std::string type = ft != nullptr ? *ft : parentType;
        out.push_back({name, *ref, *d, type});
        collectFormFields(reader, revision, reader.deref(d->get("Kids"), revision), name, type, depth + 1, seen, out);
    }
}

std::vector<FieldVisit> listFormFields(const PdfReader& reader, std::size_t revision, const PdfDictionary& root) {
    std::vector<FieldVisit> out;
    const PdfObject form = reader.deref(root.get("AcroForm"), revision);
    const PdfDictionary* formDict = form.asDictionary();
    if (formDict == nullptr) return out;
    std::set<std::uint32_t> seen;
    collectFormFields(reader, revision, reader.deref(formDict->get("Fields"), revision), "", "", 0, seen, out);
    return out;
}

/// Our rule beyond pyHanko's. The differ compares each later revision with the signed one, so
/// a signature made after the signed revision and changed later looks like one fresh signing:
/// its dictionary rewritten (a /Reason or /M nobody signed), its field pointed at another value,
/// or its appearance drawn anew after the signer saw it. A signature field already signed in the
/// revision before \p diff's must keep its value, and neither its field dictionary, nor its
/// signature dictionary, nor its appearance streams may be rewritten with other content.
using SignatureFieldsByRevision = std::map<std::size_t, std::map<std::string, FieldVisit>>;

void keepEarlierSignatures(const PdfReader& reader, RevisionDiff& diff, SignatureFieldsByRevision& listed) {
    if (diff.level == Level::kOther || diff.revision == 0) return;
    reader.checkDeadline();
    const std::size_t previous = diff.revision - 1;
    // A review walks its revisions in order: each field list serves as "after", then "before".
    auto signatureFields = [&](std::size_t revision) -> const std::map<std::string, FieldVisit>& {
        const auto cached = listed.find(revision);
        if (cached != listed.end()) return cached->second;
        std::map<std::string, FieldVisit> fields;
        const PdfObject root = reader.deref(reader.trailer(revision).get("Root"), revision);
        if (const PdfDictionary* rootDict = root.asDictionary())
            for (auto& field : listFormFields(reader, revision, *rootDict))
                if (field.type == "Sig") fields.emplace(field.name, std::move(field));
        return listed.emplace(revision, std::move(fields)).first->second;
    };
    // Written again in this revision, with other content than before.
    auto rewritten = [&](ObjectRef ref) {
        return reader.lastChange(ref.number, diff.revision) == diff.revision &&
               !reader.sameValue(reader.resolve(ref, previous), reader.resolve(ref, diff.revision));
    };
    const std::map<std::string, FieldVisit>* after = nullptr;
    for (const auto& [name, field] : signatureFields(previous)) {
        const auto value = field.dict.get("V").asReference();
        if (!value) continue;
        if (after == nullptr) after = &signatureFields(diff.revision);
        const auto now = after->find(name);
        const auto nowValue = now == after->end() ? std::nullopt : now->second.dict.get("V").asReference();
        ChangeFinding finding{diff.revision, value->number, Level::kOther, "", ""};
        if (!nowValue || *nowValue != *value) {
            finding.code = "diff.signature_value_replaced";
            finding.detail = "signature field " + name + " was signed; its value was removed or replaced";
        } else if (rewritten(*value)) {
            finding.code = "diff.signature_redefined";
            finding.detail = "the signature dictionary of field " + name + " was rewritten";
        } else if (rewritten(field.ref)) {
            finding.object = field.ref.number;
            finding.code = "diff.signed_field_changed";
            finding.detail = "signature field " + name + " was signed; its dictionary was rewritten";
        } else {
            const PdfObject appearances = reader.deref(field.dict.get("AP"), previous);
            const PdfDictionary* ap = appearances.asDictionary();
            for (const char* key : {"N", "R", "D"}) {
                const auto stream = ap != nullptr ? ap->get(key).asReference() : std::nullopt;
                if (stream && rewritten(*stream)) {
                    finding.object = stream->number;
                    finding.code = "diff.signed_appearance_changed";
                    finding.detail = "signature field " + name + " was signed; its appearance was redrawn";
                    break;
                }
            }
            if (finding.code.empty()) continue;
        }
        diff.level = Level::kOther;
        diff.unexplainedObjects.push_back(finding.object);
        diff.findings.push_back(std::move(finding));
        return;
    }
}

std::string derWithoutPadding(const std::string& contents) {
    // A DER SEQUENCE knows its own length; what follows is the signer's zero padding.
    if (contents.size() >= 2 && static_cast<unsigned char>(contents[0]) == 0x30) {
        const auto first = static_cast<unsigned char>(contents[1]);
        std::size_t header = 2;
        std::uint64_t length = first;
        if (first & 0x80) {
            const std::size_t bytes = first & 0x7F;
            if (bytes >= 1 && bytes <= 4 && contents.size() >= 2 + bytes) {
                length = 0;
                for (std::size_t i = 0; i < bytes; ++i)
                    length = (length << 8) | static_cast<unsigned char>(contents[2 + i]);
                header += bytes;
            } else {
                length = contents.size();
            }
        }
        if (header + length <= contents.size()) return contents.substr(0, static_cast<std::size_t>(header + length));
    }
    std::size_t end = contents.size();
    while (end > 0 && contents[end - 1] == '\0')
        --end;
    return contents.substr(0, end);
}

} // namespace

// ------------------------------------------------------------------ public API

const char* toString(Coverage coverage) {
    switch (coverage) {
    case Coverage::kUnclear:
        return "UNCLEAR";
    case Coverage::kContiguousBlockFromStart:
        return "CONTIGUOUS_BLOCK_FROM_START";
    case Coverage::kEntireRevision:
        return "ENTIRE_REVISION";
    case Coverage::kEntireFile:
        return "ENTIRE_FILE";
    }
    return "UNCLEAR";
}

const char* toString(ModificationLevel level) {
    switch (level) {
    case Level::kNone:
        return "NONE";
    case Level::kLtaUpdates:
        return "LTA_UPDATES";
    case Level::kFormFilling:
        return "FORM_FILLING";
    case Level::kAnnotations:
        return "ANNOTATIONS";
    case Level::kOther:
        return "OTHER";
    }
    return "OTHER";
}

bool FieldLock::locks(std::string_view fieldName) const {
    if (action == "All") return true;
    const bool listed = std::any_of(fields.begin(), fields.end(), [&](const std::string& f) {
        return fieldName == f ||
               (fieldName.size() > f.size() && fieldName.substr(0, f.size()) == f && fieldName[f.size()] == '.');
    });
    if (action == "Include") return listed;
    if (action == "Exclude") return !listed;
    return true; // an unknown action: assume the strictest reading
}

bool docMdpPermits(std::optional<int> permission, ModificationLevel level) {
    if (level == Level::kOther) return false;
    if (!permission) return true;
    return static_cast<int>(level) <= *permission;
}

RevisionDiff diffRevisions(const PdfReader& reader, std::size_t base, std::size_t revision,
                           const DiffOptions& options) {
    if (base >= revision || revision >= reader.revisionCount())
        throw Error(ErrorCode::kInvalidArgument, "pdf.bad_revision",
                    "diffRevisions needs base < revision < revision count");
    try {
        const Usages usages = collectUsages(reader, base);
        RevisionDiff diff = Differ(reader, base, revision, options, usages).run();
        SignatureFieldsByRevision listed;
        keepEarlierSignatures(reader, diff, listed);
        return diff;
    } catch (const Error& e) {
        return unreadableDiff(base, revision, e);
    }
}

ModificationReview reviewUpdates(const PdfReader& reader, std::size_t base, const DiffOptions& options) {
    ModificationReview review;
    if (base + 1 >= reader.revisionCount()) return review;
    Usages usages;
    try {
        usages = collectUsages(reader, base);
    } catch (const Error& e) {
        reader.checkDeadline(); // a spent time budget is the file's verdict, not this revision's
        review.revisions.push_back(unreadableDiff(base, base + 1, e));
        review.level = Level::kOther;
        review.findings = review.revisions.back().findings;
        return review;
    }
    SignatureFieldsByRevision signatureFields;
    for (std::size_t r = base + 1; r < reader.revisionCount(); ++r) {
        RevisionDiff diff;
        try {
            diff = Differ(reader, base, r, options, usages).run();
            keepEarlierSignatures(reader, diff, signatureFields);
        } catch (const Error& e) {
            reader.checkDeadline();
            diff = unreadableDiff(base, r, e);
        }
        review.level = maxLevel(review.level, diff.level);
        const bool other = diff.level == Level::kOther;
        review.revisions.push_back(std::move(diff));
        if (other) {
            // pyHanko stops at the first suspicious revision; so do we.
            for (const auto& f : review.revisions.back().findings)
                if (f.level == Level::kOther) review.findings.push_back(f);
            break;
        }
    }
    return review;
}

DocumentAnalysis analyzeDocument(const PdfReader& reader) {
    DocumentAnalysis doc;
    const std::size_t last = reader.lastRevision();
    doc.revisionCount = reader.revisionCount();
    for (const auto& rev : reader.revisions())
        doc.revisionEnds.push_back(rev.endOffset);
    doc.trailingBytes = reader.trailingBytes();
    doc.trailingBytesWhitespaceOnly = reader.trailingBytesAreWhitespace();
    doc.unaccountedEofMarkers = reader.unaccountedEofMarkers();
    if (doc.trailingBytes > 0 && !doc.trailingBytesWhitespaceOnly)
        doc.warnings.push_back({last, 0, Level::kOther, "structure.trailing_data",
                                std::to_string(doc.trailingBytes) + " bytes after the last %%EOF are no revision"});
    if (!doc.unaccountedEofMarkers.empty())
        doc.warnings.push_back(
            {last, 0, Level::kNone, "structure.stray_eof", "a %%EOF marker ends no revision of the xref chain"});

    const PdfObject root = reader.deref(reader.trailer(last).get("Root"), last);
    const PdfDictionary* rootDict = root.asDictionary();
    if (rootDict == nullptr) {
        doc.warnings.push_back({last, 0, Level::kOther, "structure.no_catalog", "the trailer has no catalog"});
        return doc;
    }
    constexpr std::size_t kMaxReviews = 64;
    std::map<std::string, ModificationReview> reviews;
    std::optional<ObjectRef> certificationRef;
    if (const PdfDictionary* perms = reader.deref(rootDict->get("Perms"), last).asDictionary())
        certificationRef = perms->get("DocMDP").asReference();

    for (const auto& field : listFormFields(reader, last, *rootDict)) {
        if (field.type != "Sig") continue;
        const PdfObject* value = field.dict.find("V");
        if (value == nullptr || value->isNull()) {
            doc.emptySignatureFields.push_back(field.name);
            continue;
        }
        SignatureInfo sig;
        sig.fieldName = field.name;
        sig.fieldRef = field.ref;
        PdfObject signature;
        if (const auto ref = value->asReference()) {
            sig.signatureRef = *ref;
            signature = reader.resolve(*ref, last);
            sig.signedRevision = reader.lastChange(ref->number, last);
        } else {
            signature = *value;
        }
        const PdfDictionary* s = signature.asDictionary();
        const PdfString* contents = nullptr;
        PdfObject contentsHolder;
        if (s != nullptr) {
            if (const auto* type = s->get("Type").asName()) sig.type = *type;
            sig.filter = nameValue(reader.deref(s->get("Filter"), last));
            sig.subFilter = nameValue(reader.deref(s->get("SubFilter"), last));
            sig.signingTime = stringValue(reader.deref(s->get("M"), last)).value_or("");
            if (const PdfArray* br = s->get("ByteRange").asArray()) {
                sig.byteRangeIntegers = true;
                for (const auto& v : *br) {
                    const auto n = v.asInteger();
                    if (!n) {
                        sig.byteRangeIntegers = false;
                        break;
                    }
                    sig.byteRange.push_back(*n);
                }
                if (!sig.byteRangeIntegers) sig.byteRange.clear();
            }
            // /Contents must be direct: an indirect one cannot be the gap of the byte range.
            contentsHolder = s->get("Contents");
            contents = contentsHolder.asString();
            if (contents != nullptr) sig.contents = contents->bytes;
            if (const PdfArray* refs = reader.deref(s->get("Reference"), last).asArray()) {
                for (const auto& item : *refs) {
                    const PdfObject entry = reader.deref(item, last);
                    const PdfDictionary* e = entry.asDictionary();
                    if (e == nullptr) continue;
                    SignatureReference reference;
                    if (const auto* method = e->get("TransformMethod").asName()) reference.transformMethod = *method;
                    const PdfObject params = reader.deref(e->get("TransformParams"), last);
                    if (reference.transformMethod == "DocMDP") {
                        reference.permission = readPermission(reader, params.asDictionary(), last);
                        if (!sig.docMdpPermission) sig.docMdpPermission = reference.permission;
                        sig.certification = true;
                    } else if (reference.transformMethod == "FieldMDP") {
                        reference.fieldLock = readFieldLock(reader, params, last);
                        if (!sig.fieldLock) sig.fieldLock = reference.fieldLock;
                    }
                    sig.references.push_back(std::move(reference));
                }
            }
        }
        if (!sig.docMdpPermission) {
            if (const PdfDictionary* lock = reader.deref(field.dict.get("Lock"), last).asDictionary())
                if (lock->contains("P")) sig.docMdpPermission = readPermission(reader, lock, last);
        }
        if (!sig.fieldLock) sig.fieldLock = readFieldLock(reader, field.dict.get("Lock"), last);
        if (certificationRef && sig.signatureRef && *certificationRef == *sig.signatureRef) {
            sig.certification = true;
            doc.certificationPermission = sig.docMdpPermission.value_or(2);
            doc.certificationField = sig.fieldName;
        }
        if (s == nullptr || !sig.signatureRef || !sig.signedRevision) {
            sig.coverage = Coverage::kUnclear;
            sig.coverageProblem = s == nullptr ? "signature.not_dictionary" : "signature.value_not_indirect";
        } else {
            const auto coverage = evaluateCoverage(reader, sig, contents);
            sig.coverage = coverage.coverage;
            sig.coverageProblem = coverage.problem;
        }

        if (sig.coverage < Coverage::kEntireRevision) {
            sig.modificationLevel = Level::kOther;
            sig.findings.push_back({last, 0, Level::kOther, "coverage.nonstandard", sig.coverageProblem});
        } else if (sig.coverage == Coverage::kEntireFile) {
            sig.modificationLevel = Level::kNone;
        } else {
            DiffOptions options;
            options.docMdpPermission = sig.docMdpPermission;
            options.fieldLock = sig.fieldLock;
            // Signatures that share a base and a policy share the review; a file with a
            // thousand policies gets a bounded number of them.
            std::string key =
                std::to_string(*sig.signedRevision) + "|" + std::to_string(sig.docMdpPermission.value_or(0));
            if (sig.fieldLock) {
                key += "|" + sig.fieldLock->action;
                for (const auto& f : sig.fieldLock->fields)
                    key += "|" + std::to_string(f.size()) + ":" + f;
            }
            auto cached = reviews.find(key);
            if (cached == reviews.end()) {
                if (reviews.size() >= kMaxReviews) {
                    ModificationReview refused;
                    refused.level = Level::kOther;
                    refused.findings.push_back({last, 0, Level::kOther, "diff.too_many_signatures",
                                                "more distinct signature policies than the analysis reviews"});
                    cached = reviews.emplace(key, std::move(refused)).first;
                } else {
                    cached = reviews.emplace(key, reviewUpdates(reader, *sig.signedRevision, options)).first;
                }
            }
            const ModificationReview& review = cached->second;
            sig.modificationLevel = review.level;
            sig.findings = review.findings;
            std::set<std::string> changed;
            for (const auto& d : review.revisions)
                changed.insert(d.changedFields.begin(), d.changedFields.end());
            sig.changedFormFields.assign(changed.begin(), changed.end());
            if (doc.trailingBytes > 0 && !doc.trailingBytesWhitespaceOnly) {
                sig.modificationLevel = Level::kOther;
                sig.findings.push_back(
                    {last, 0, Level::kOther, "diff.trailing_data", "unsigned bytes after the last revision"});
            }
        }
        sig.docMdpOk = docMdpPermits(sig.docMdpPermission, sig.modificationLevel);
        doc.signatures.push_back(std::move(sig));
    }
    // Our rule (EU DSS's ByteRangeCollision): a signature claims bytes no other one claims. Two
    // fields sharing one signature dictionary, or two ranges ending at the same offset (a copied
    // /ByteRange: one revision holds one signature), make both signatures fail.
    std::map<ObjectRef, std::vector<std::size_t>> byDictionary;
    std::map<std::int64_t, std::vector<std::size_t>> byRangeEnd;
    const auto fileSize = static_cast<std::int64_t>(reader.bytes().size());
    for (std::size_t i = 0; i < doc.signatures.size(); ++i) {
        const SignatureInfo& sig = doc.signatures[i];
        if (sig.signatureRef) byDictionary[*sig.signatureRef].push_back(i);
        const auto& br = sig.byteRange;
        // Only ranges inside the file can share an end (and the sum cannot overflow).
        if (br.size() == 4 && br[2] >= 0 && br[3] >= 0 && br[2] <= fileSize && br[3] <= fileSize && br[2] + br[3] > 0)
            byRangeEnd[br[2] + br[3]].push_back(i);
    }
    auto collide = [&](const std::vector<std::size_t>& group) {
        if (group.size() < 2) return;
        std::string names;
        for (const auto i : group)
            names += (names.empty() ? "" : ", ") + doc.signatures[i].fieldName;
        for (const auto i : group) {
            SignatureInfo& sig = doc.signatures[i];
            sig.modificationLevel = Level::kOther;
            sig.docMdpOk = false;
            // A shared dictionary is also a shared range: one finding is enough.
            if (std::any_of(sig.findings.begin(), sig.findings.end(),
                            [](const ChangeFinding& f) { return f.code == "signature.byterange_collision"; }))
                continue;
            sig.findings.push_back({last, 0, Level::kOther, "signature.byterange_collision",
                                    "signatures " + names + " claim the same bytes"});
        }
    };
    for (const auto& [ref, group] : byDictionary)
        collide(group);
    for (const auto& [end, group] : byRangeEnd)
        collide(group);
    std::stable_sort(doc.signatures.begin(), doc.signatures.end(), [](const SignatureInfo& a, const SignatureInfo& b) {
        const std::size_t ra = a.signedRevision.value_or(SIZE_MAX);
        const std::size_t rb = b.signedRevision.value_or(SIZE_MAX);
        return ra != rb ? ra < rb : a.fieldName < b.fieldName;
    });
    // Steps above turn a reader error into a finding; a spent time budget must not end as one.
    reader.checkDeadline();
    return doc;
}

DocumentAnalysis analyzeDocument(std::string_view pdf, const PdfLimits& limits) {
    const PdfReader reader{std::string(pdf), limits};
    return analyzeDocument(reader);
}

UploadCheck checkIncrementalUpload(std::string_view issued, std::string_view uploaded, const PdfLimits& limits) {
    UploadCheck check;
    const PdfReader reader{std::string(uploaded), limits};
    check.uploadedRevisions = reader.revisionCount();
    auto refuse = [&](std::string reason, std::string detail) {
        check.allowed = false;
        check.reason = std::move(reason);
        check.detail = std::move(detail);
        return check;
    };
    if (uploaded.size() < issued.size() || uploaded.substr(0, issued.size()) != issued)
        return refuse("upload.not_ours", "the upload does not begin with the issued document");
    std::optional<std::size_t> base;
    for (const auto& rev : reader.revisions())
        if (rev.endOffset == issued.size() || rev.eofMarkerEnd == issued.size()) base = rev.index;
    if (!base)
        return refuse("upload.not_revision_boundary", "the issued document does not end at a revision of the upload");
    check.issuedRevisions = *base + 1;
    if (*base == reader.lastRevision()) return refuse("upload.no_new_signature", "the upload adds no revision");
    if (reader.trailingBytes() > 0 && !reader.trailingBytesAreWhitespace())
        return refuse("upload.trailing_data", "bytes after the last revision are not an incremental update");

    const DocumentAnalysis analysis = analyzeDocument(reader);
    // The issued document's own certification (if any) bounds what may follow.
    DiffOptions options;
    {
        const PdfObject root = reader.deref(reader.trailer(*base).get("Root"), *base);
        if (const PdfDictionary* rootDict = root.asDictionary())
            if (const PdfDictionary* perms = reader.deref(rootDict->get("Perms"), *base).asDictionary())
                if (const auto certRef = perms->get("DocMDP").asReference())
                    for (const auto& sig : analysis.signatures)
                        if (sig.signatureRef && *sig.signatureRef == *certRef) {
                            options.docMdpPermission = sig.docMdpPermission.value_or(2);
                            options.fieldLock = sig.fieldLock;
                        }
    }
    const ModificationReview review = reviewUpdates(reader, *base, options);
    check.level = review.level;
    for (const auto& diff : review.revisions) {
        check.findings.insert(check.findings.end(), diff.findings.begin(), diff.findings.end());
        check.offendingObjects.insert(check.offendingObjects.end(), diff.unexplainedObjects.begin(),
                                      diff.unexplainedObjects.end());
    }
    for (const auto& sig : analysis.signatures) {
        if (!sig.signedRevision || *sig.signedRevision <= *base) continue;
        UploadedSignature uploadedSignature;
        uploadedSignature.fieldName = sig.fieldName;
        uploadedSignature.revision = *sig.signedRevision;
        uploadedSignature.type = sig.type;
        uploadedSignature.subFilter = sig.subFilter;
        uploadedSignature.cmsDer = derWithoutPadding(sig.contents);
        uploadedSignature.byteRange = sig.byteRange;
        uploadedSignature.coverage = sig.coverage;
        check.newSignatures.push_back(std::move(uploadedSignature));
    }
    auto objects = [&] {
        std::string list;
        for (const auto n : check.offendingObjects)
            list += (list.empty() ? "" : ", ") + std::to_string(n);
        return list;
    };
    if (review.level == Level::kOther || review.level == Level::kAnnotations ||
        !docMdpPermits(options.docMdpPermission, review.level))
        return refuse("upload.forbidden_change",
                      std::string("changes at level ") + toString(review.level) +
                          (check.offendingObjects.empty() ? "" : " in objects " + objects()));
    for (const auto& diff : review.revisions)
        if (!diff.changedNonSignatureFields.empty())
            return refuse("upload.unsigned_field_changed", "form field " + diff.changedNonSignatureFields.front() +
                                                               " is not a signature field but changed");
    // Earlier signatures of the issued document judge the update too (their field locks).
    for (const auto& sig : analysis.signatures)
        if (sig.signedRevision && *sig.signedRevision <= *base && sig.coverage >= Coverage::kEntireRevision &&
            sig.modificationLevel == Level::kOther)
            return refuse("upload.forbidden_change", "the update breaks signature " + sig.fieldName);
    // Each new signature judges what came after it, too: an object it signed may not be
    // overridden later even if the issued revision never had it.
    for (const auto& sig : analysis.signatures) {
        if (!sig.signedRevision || *sig.signedRevision <= *base || sig.coverage < Coverage::kEntireRevision) continue;
        if (sig.modificationLevel == Level::kOther || sig.modificationLevel == Level::kAnnotations || !sig.docMdpOk) {
            for (const auto& f : sig.findings) {
                check.findings.push_back(f);
                if (f.object != 0) check.offendingObjects.push_back(f.object);
            }
            check.level = maxLevel(check.level, sig.modificationLevel);
            return refuse("upload.forbidden_change",
                          "a later revision breaks signature " + sig.fieldName +
                              (check.offendingObjects.empty() ? "" : " (objects " + objects() + ")"));
        }
    }
    bool signature = false;
    for (const auto& s : check.newSignatures) {
        if (s.coverage < Coverage::kEntireRevision)
            return refuse("upload.signature_coverage", "signature " + s.fieldName + " does not cover its revision");
        if (s.type != "DocTimeStamp") signature = true;
    }
    if (!signature) return refuse("upload.no_new_signature", "no new signature (document timestamps do not count)");
    check.allowed = true;
    return check;
}

} // namespace kooperdoc::pdf
