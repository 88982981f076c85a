// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/service/SubjectExport.h"

#include <ctime>
#include <sstream>
#include <vector>

#include <Poco/Checksum.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Stringifier.h>

#include "kooperdoc/core/Error.h"

namespace kooperdoc::service {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Poco::Dynamic::Var optionalTime(const std::optional<std::int64_t>& epoch) {
    return epoch ? Poco::Dynamic::Var(isoTime(*epoch)) : Poco::Dynamic::Var();
}

/// A ZIP of stored entries (no compression: PDFs are compressed already), written by hand so
/// no archive library is needed. Names are ASCII; sizes stay far below ZIP64.
class StoredZip {
public:
    void add(const std::string& name, const std::string& bytes) {
        Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
        crc.update(bytes.data(), static_cast<unsigned>(bytes.size()));
        Entry entry{name, static_cast<std::uint32_t>(crc.checksum()), static_cast<std::uint32_t>(bytes.size()),
                    static_cast<std::uint32_t>(data_.size())};
        header(data_, 0x04034b50, entry, false);
        data_ += bytes;
        entries_.push_back(entry);
    }

    std::string finish() const {
        std::string out = data_;
        std::string directory;
        for (const auto& entry : entries_) header(directory, 0x02014b50, entry, true);
        out += directory;
        put32(out, 0x06054b50);
        put16(out, 0);
        put16(out, 0);
        put16(out, static_cast<std::uint16_t>(entries_.size()));
        put16(out, static_cast<std::uint16_t>(entries_.size()));
        put32(out, static_cast<std::uint32_t>(directory.size()));
        put32(out, static_cast<std::uint32_t>(data_.size()));
        put16(out, 0);
        return out;
    }

private:
    struct Entry {
        std::string name;
        std::uint32_t crc, size, offset;
    };
    static void put16(std::string& out, std::uint16_t v) {
        out += static_cast<char>(v & 0xff);
        out += static_cast<char>(v >> 8);
    }
    static void put32(std::string& out, std::uint32_t v) {
        put16(out, static_cast<std::uint16_t>(v & 0xffff));
        put16(out, static_cast<std::uint16_t>(v >> 16));
    }
    static void header(std::string& out, std::uint32_t signature, const Entry& e, bool central) {
        put32(out, signature);
        if (central) put16(out, 20);  // made by: version 2.0
        put16(out, 20);               // needed to extract
        put16(out, 0x0800);           // UTF-8 names
        put16(out, 0);                // stored
        put16(out, 0);                // time 00:00
        put16(out, 0x21);             // date 1980-01-01: the manifest carries the real dates
        put32(out, e.crc);
        put32(out, e.size);
        put32(out, e.size);
        put16(out, static_cast<std::uint16_t>(e.name.size()));
        put16(out, 0);
        if (central) {
            put16(out, 0);  // comment
            put16(out, 0);  // disk
            put16(out, 0);  // internal attributes
            put32(out, 0);  // external attributes
            put32(out, e.offset);
        }
        out += e.name;
    }
    std::string data_;
    std::vector<Entry> entries_;
};

}  // namespace

std::string isoTime(std::int64_t epoch) {
    const std::time_t t = static_cast<std::time_t>(epoch);
    std::tm parts{};
    gmtime_r(&t, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

std::string erasureGroundCode(const std::string& ground) {
    std::string code;
    for (const char c : ground) {
        if (!((c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9'))) break;
        code += c;
    }
    return code.empty() ? "other" : code;
}

Object::Ptr documentJson(const storage::DocumentRecord& d) {
    Object::Ptr o = new Object;
    o->set("id", d.id);
    o->set("template_id", d.templateId);
    o->set("template_version", d.templateVersion);
    o->set("status", storage::toString(d.status));
    o->set("case_ref", d.caseRef);
    o->set("legal_basis", d.legalBasis);
    o->set("archival_duty", d.archivalDuty);
    o->set("restricted", d.restricted);
    o->set("created_at", isoTime(d.createdAt));
    o->set("closed_at", optionalTime(d.closedAt));
    if (!d.supersedes.empty()) {
        o->set("supersedes", d.supersedes);
        o->set("relation", d.relation);
    }
    return o;
}

void setRetentionStatus(Object& o, const storage::RetentionStatus& s) {
    o.set("document_id", s.documentId);
    o.set("template_id", s.templateId);
    o.set("rule", s.ruleId);
    o.set("category", s.category);
    o.set("action", s.action);
    o.set("trigger_at", optionalTime(s.triggerAt));
    o.set("ends_at", optionalTime(s.endsAt));
    o.set("due", s.due);
}

SubjectExport exportSubject(storage::DocumentStore& store, const std::string& tenantId, const std::string& subjectId, std::int64_t now) {
    if (!store.repository().subject(tenantId, subjectId)) {
        throw Error(ErrorCode::kNotFound, "storage.subject_unknown", "no data subject " + subjectId + " in this tenant");
    }
    StoredZip zip;
    Object::Ptr manifest = new Object;
    manifest->set("format", "kooperdoc.subject-export/1");
    manifest->set("tenant_id", tenantId);
    manifest->set("subject_id", subjectId);
    manifest->set("exported_at", isoTime(now));
    Array::Ptr documents = new Array;
    for (const auto& d : store.repository().documentsOfSubject(tenantId, subjectId)) {
        Object::Ptr o = documentJson(d);
        Array::Ptr revisions = new Array;
        if (d.status != storage::DocumentStatus::kErased) {
            for (const auto& r : store.repository().revisions(d.id)) {
                Object::Ptr revision = new Object;
                revision->set("number", r.number);
                revision->set("kind", r.kind);
                revision->set("sha256", r.sha256);
                revision->set("created_at", isoTime(r.createdAt));
                try {
                    // The person's right of access (art. 15) reaches restricted documents too.
                    const auto pdf = store.read(tenantId, d.id, r.number, true);
                    const std::string file = d.id + "-r" + std::to_string(r.number) + ".pdf";
                    zip.add(file, pdf);
                    revision->set("file", file);
                } catch (const Error& e) {
                    revision->set("unreadable", e.reason());
                }
                revisions->add(revision);
            }
        }
        o->set("revisions", revisions);
        documents->add(o);
    }
    manifest->set("documents", documents);
    Array::Ptr consents = new Array;
    for (const auto& c : store.repository().consentsOfSubject(tenantId, subjectId)) {
        Object::Ptr o = new Object;
        o->set("document_id", c.documentId);
        o->set("purpose", c.purpose);
        o->set("given_at", isoTime(c.givenAt));
        o->set("withdrawn_at", optionalTime(c.withdrawnAt));
        consents->add(o);
    }
    manifest->set("consents", consents);
    std::ostringstream manifestText;
    Poco::JSON::Stringifier::stringify(manifest, manifestText, 2);
    zip.add("manifest.json", manifestText.str() + "\n");
    SubjectExport result;
    result.zip = zip.finish();
    result.documents = documents->size();
    return result;
}

}  // namespace kooperdoc::service
