// SPDX-License-Identifier: AGPL-3.0-or-later
#include "kooperdoc/templates/TenantProfiles.h"

#include <Poco/JSON/Object.h>

#include "kooperdoc/core/CanonicalJson.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/templates/Formats.h"

namespace kooperdoc::templates {

TenantProfile parseTenantProfile(const std::string& json) {
    const auto value = parseJson(json);
    if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
        throw Error(ErrorCode::kInvalidArgument, "tenant.invalid", "a tenant profile is a JSON object");
    }
    TenantProfile tenant;
    for (const auto& [key, field] : *value.extract<Poco::JSON::Object::Ptr>()) {
        if (!field.isString()) throw Error(ErrorCode::kInvalidArgument, "tenant.invalid", key + " must be a string");
        if (key == "id") {
            tenant.id = field.extract<std::string>();
            continue;
        }
        bool known = false;
        for (std::size_t i = 0; i < TenantProfile::kFieldCount; ++i) known = known || key == TenantProfile::kFieldNames[i];
        if (!known) throw Error(ErrorCode::kInvalidArgument, "tenant.invalid", "unknown tenant field " + key);
        tenant.fields[key] = field.extract<std::string>();
    }
    if (tenant.fields.count("nip") && !isValidNip(tenant.fields["nip"])) {
        throw Error(ErrorCode::kInvalidArgument, "tenant.invalid", "the tenant's NIP has a wrong checksum");
    }
    return tenant;
}

TenantProfile exampleTenant() {
    TenantProfile tenant;
    tenant.id = "example";
    tenant.fields = {
        {"name", "Gminny Ośrodek Pomocy Społecznej w Przykładowie"},
        {"short_name", "GOPS w Przykładowie"},
        {"kind", "OPS"},
        {"address", "ul. Przykładowa 1, 00-001 Przykładowo"},
        {"city", "Przykładowo"},
        {"nip", "5261040828"},
        {"regon", "123456785"},
        {"email", "sekretariat@gops.przykladowo.example"},
        {"dpo_email", "iod@gops.przykladowo.example"},
        {"withdrawal_address", "GOPS w Przykładowie, ul. Przykładowa 1, 00-001 Przykładowo, pokój 12"},
        {"archival_period", "10 lat, licząc od 1 stycznia roku następującego po zakończeniu współpracy"},
    };
    return tenant;
}

}  // namespace kooperdoc::templates
