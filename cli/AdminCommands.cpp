// SPDX-License-Identifier: AGPL-3.0-or-later
// Tenants, API keys and users from the command line (issue 7, point 3): what an administrator
// does on the server before any system or person can authenticate over HTTP.
//
// Secrets (a key's secret, a user's one-time password) are printed once, on the last line of
// stdout, and kept nowhere but as hashes. The audit log names keys and users by id; a login
// never reaches it, nor stderr.
#include "AdminCommands.h"

#include "AuditCommands.h"
#include "Commands.h"

#include <algorithm>
#include <ctime>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include "kooperdoc/core/Digest.h"
#include "kooperdoc/core/Error.h"
#include "kooperdoc/service/SubjectExport.h"
#include "kooperdoc/server/Auth.h"
#include "kooperdoc/server/StorageSetup.h"
#include "kooperdoc/storage/DocumentStore.h"
#include "kooperdoc/templates/TenantProfiles.h"

namespace kooperdoc::cli {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr const char* kUsage =
    "usage: kooperdoc admin create-tenant NAME [--profile FILE.json]\n"
    "       kooperdoc admin create-key --tenant NAME --role ROLE [--label L]\n"
    "       kooperdoc admin revoke-key ID --tenant NAME\n"
    "       kooperdoc admin list-keys --tenant NAME [--json]\n"
    "       kooperdoc admin create-user --tenant NAME --login LOGIN --role ROLE\n";

std::string required(const Arguments& a, const char* option, const std::string& command) {
    const auto value = a.value(option);
    if (!value || value->empty()) throw UsageError(command + " needs " + option);
    return *value;
}

/// --at SECONDS: the command's clock (tests); else the wall clock, never SOURCE_DATE_EPOCH:
/// a key's creation and revocation are events, not document dates.
std::int64_t clockOf(const Arguments& a) {
    const auto at = a.value("--at");
    if (!at) return signingTime();
    if (at->empty() || at->size() > 18 || !std::all_of(at->begin(), at->end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw UsageError("admin: --at takes seconds since the epoch, not \"" + *at + "\"");
    }
    return std::stoll(*at);
}

using service::isoTime;

/// Here --role is the role of the key or user being made, so the actor the audit log records
/// is always an admin: the recorder sees --data-dir and --actor only.
Arguments recorderArguments(const Arguments& a) {
    std::vector<std::string> args;
    for (const char* option : {"--data-dir", "--actor"}) {
        if (const auto value = a.value(option)) {
            args.push_back(option);
            args.push_back(*value);
        }
    }
    return Arguments(args, {"--data-dir", "--actor"}, {});
}

std::unique_ptr<storage::DocumentStore> openStore(const Context& ctx, const Arguments& a) {
    return server::openDocumentStore(storageSetupFor(ctx, a), ctx.err);
}

void requireTenant(storage::Repository& repository, const std::string& tenantId) {
    if (!repository.tenant(tenantId)) {
        throw Error(ErrorCode::kNotFound, "storage.tenant_unknown",
                    "no tenant " + tenantId + " (create it with `kooperdoc admin create-tenant`)");
    }
}

int createTenant(Context& ctx, const Arguments& a) {
    a.expectPositionals(2, "kooperdoc admin create-tenant NAME [--profile FILE.json]");
    const std::string name = a.positionals()[1];
    // The name is an id in every row and audit entry: the charset of logins keeps it one.
    const bool valid = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    });
    if (!valid) {
        throw Error(ErrorCode::kInvalidArgument, "admin.tenant_invalid",
                    "a tenant name has 1 to 64 characters: lower-case ASCII letters, digits, '.', '_' and '-'");
    }
    std::string profile = "{}";
    if (const auto file = a.value("--profile")) {
        profile = readInput(*file);
        templates::parseTenantProfile(profile);  // refuse a profile the templates could not print
    }
    auto store = openStore(ctx, a);
    if (store->repository().tenant(name)) {
        throw Error(ErrorCode::kAlreadyExists, "admin.tenant_exists",
                    "tenant " + name + " exists (`kooperdoc tenant put` changes its profile)");
    }
    const auto now = clockOf(a);
    EventRecorder events(ctx, recorderArguments(a), store->repository(), now);
    store->putTenant(name, profile, now);
    events.record("config.changed", name, "", sha256Hex(profile), {{"setting", "tenant"}, {"action", "created"}});
    ctx.out << name << "\n";
    return kExitOk;
}

int createKey(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc admin create-key --tenant NAME --role ROLE [--label L]");
    const auto tenantId = required(a, "--tenant", "admin create-key");
    const auto role = server::parseRole(required(a, "--role", "admin create-key"));
    auto store = openStore(ctx, a);
    const auto now = clockOf(a);
    EventRecorder events(ctx, recorderArguments(a), store->repository(), now);
    server::Authenticator auth(store->repository());  // keys are hashed with SHA-256: no policy applies
    const auto issued = auth.createApiKey(tenantId, role, a.value("--label").value_or(""), now);
    events.record("key.changed", tenantId, "", "", {{"key", issued.id}, {"action", "created"}, {"role", server::toString(role)}});
    ctx.err << "kooperdoc: API key " << issued.id << " for tenant " << tenantId << " (" << server::toString(role)
            << "); its secret, on the last line, is shown this once: only its SHA-256 is kept\n";
    ctx.out << issued.id << "\n" << issued.secret << "\n";
    return kExitOk;
}

int revokeKey(Context& ctx, const Arguments& a) {
    a.expectPositionals(2, "kooperdoc admin revoke-key ID --tenant NAME");
    const auto tenantId = required(a, "--tenant", "admin revoke-key");
    const auto& keyId = a.positionals()[1];
    auto store = openStore(ctx, a);
    const auto now = clockOf(a);
    EventRecorder events(ctx, recorderArguments(a), store->repository(), now);
    server::Authenticator auth(store->repository());
    auth.revokeApiKey(tenantId, keyId, now);
    events.record("key.changed", tenantId, "", "", {{"key", keyId}, {"action", "revoked"}});
    ctx.out << keyId << "\n";
    return kExitOk;
}

int listKeys(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc admin list-keys --tenant NAME [--json]");
    const auto tenantId = required(a, "--tenant", "admin list-keys");
    auto store = openStore(ctx, a);
    requireTenant(store->repository(), tenantId);
    server::Authenticator auth(store->repository());
    const auto keys = auth.apiKeys(tenantId);
    if (a.flag("--json")) {
        Array::Ptr list = new Array;
        for (const auto& k : keys) {
            Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
            o->set("id", k.id);
            o->set("role", k.role);
            o->set("label", k.label);
            o->set("created_at", isoTime(k.createdAt));
            o->set("revoked_at", k.revokedAt ? Poco::Dynamic::Var(isoTime(*k.revokedAt)) : Poco::Dynamic::Var());
            list->add(o);
        }
        Poco::JSON::Stringifier::stringify(list, ctx.out, 2);
        ctx.out << "\n";
        return kExitOk;
    }
    for (const auto& k : keys) {
        ctx.out << k.id << "\t" << k.role << "\t" << isoTime(k.createdAt) << "\t"
                << (k.revokedAt ? "revoked " + isoTime(*k.revokedAt) : std::string("active")) << "\t" << k.label << "\n";
    }
    if (keys.empty()) ctx.err << "kooperdoc: tenant " << tenantId << " has no API key\n";
    return kExitOk;
}

int createUser(Context& ctx, const Arguments& a) {
    a.expectPositionals(1, "kooperdoc admin create-user --tenant NAME --login LOGIN --role ROLE");
    const auto tenantId = required(a, "--tenant", "admin create-user");
    const auto login = required(a, "--login", "admin create-user");
    const auto role = server::parseRole(required(a, "--role", "admin create-user"));
    auto store = openStore(ctx, a);
    const auto now = clockOf(a);
    EventRecorder events(ctx, recorderArguments(a), store->repository(), now);
    server::Authenticator auth(store->repository(), server::loadAuthPolicy(*loadConfiguration(ctx)));
    const auto issued = auth.createUser(tenantId, login, role, now);
    events.record("key.changed", tenantId, "", "", {{"user", issued.id}, {"action", "created"}, {"role", server::toString(role)}});
    ctx.err << "kooperdoc: user " << issued.id << " in tenant " << tenantId << " (" << server::toString(role)
            << "); the one-time password, on the last line, is shown this once and must be changed at first login\n";
    ctx.out << issued.id << "\n" << issued.oneTimePassword << "\n";
    return kExitOk;
}

int adminCommand(Context& ctx, const std::vector<std::string>& args) {
    Arguments a(args, {"--data-dir", "--at", "--actor", "--profile", "--tenant", "--role", "--label", "--login"}, {"--json"});
    if (a.positionals().empty()) throw UsageError(kUsage);
    const auto& action = a.positionals()[0];
    if (action == "create-tenant") return createTenant(ctx, a);
    if (action == "create-key") return createKey(ctx, a);
    if (action == "revoke-key") return revokeKey(ctx, a);
    if (action == "list-keys") return listKeys(ctx, a);
    if (action == "create-user") return createUser(ctx, a);
    throw UsageError("admin: unknown action " + action + " (create-tenant, create-key, revoke-key, list-keys, create-user)");
}

}  // namespace

void addAdminCommands(CommandTable& table) {
    table["admin"] = {
        "create tenants, API keys and users; revoke and list keys",
        std::string(kUsage) +
            "\n"
            "create-tenant makes a tenant with an empty profile, or FILE.json's (the tenant JSON `render\n"
            "--tenant` takes); an existing tenant is refused [admin.tenant_exists]: `tenant put` changes it.\n"
            "create-key prints the key's id, then its secret (kd_<id>_<random>) on the last line: shown\n"
            "once, only its SHA-256 is kept. Systems send it as `Authorization: Bearer <secret>`.\n"
            "revoke-key ends a key at once. list-keys shows id, role, creation, state and label, never a secret.\n"
            "create-user prints the user's id, then a one-time password on the last line, which the user\n"
            "changes at first login. Logins: 3 to 64 of a-z, 0-9, '.', '_', '-'; unique across tenants.\n"
            "ROLE: intake, animator, auditor, dpo, admin (the role of the key or user, not of the actor).\n"
            "  --data-dir DIR   the store in DIR instead of the configured one\n"
            "  --at SECONDS     the command's clock (epoch seconds)\n"
            "  --actor ID       who acts, for the audit log: a pseudonymous id, never a name (default cli);\n"
            "                   it is recorded with the role admin\n"
            "Every change is recorded in the audit log (key.changed, config.changed) by key or user id,\n"
            "never by login. Password and lock-out settings: kooperdoc.auth.* (docs/auth.md).\n",
        adminCommand};
}

}  // namespace kooperdoc::cli
