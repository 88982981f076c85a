// SPDX-License-Identifier: AGPL-3.0-or-later
// What every subcommand shares: argument parsing, the context, files in and out, clocks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Reads a file, or standard input for "-". Error{kNotFound, "file.unreadable"}.
std::string readInput(const std::string& path);

/// Writes through a unique temporary, fsyncs file and directory, then renames: a reader never
/// sees half a file, and once we report success the file survives a crash.
void writeFileAtomically(const std::string& path, const std::string& bytes);

/// The document's creation time: SOURCE_DATE_EPOCH when set (reproducible output), else now.
std::int64_t creationTime();

/// A signature records when it was made, so it takes the wall clock even when SOURCE_DATE_EPOCH
/// pins the document's own dates (a certificate issued today cannot sign "last January").
std::int64_t signingTime();

/// A command's arguments: positionals, --flags and --options with values.
class Arguments {
public:
    Arguments(const std::vector<std::string>& args, const std::vector<std::string>& valueOptions,
              const std::vector<std::string>& flags) {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const auto& a = args[i];
            if (a.size() > 1 && a[0] == '-' && a != "-") {
                std::string name = a;
                std::optional<std::string> inlineValue;
                if (const auto eq = a.find('='); eq != std::string::npos) {
                    name = a.substr(0, eq);
                    inlineValue = a.substr(eq + 1);
                }
                if (contains(flags, name)) {
                    if (inlineValue) throw UsageError(name + " takes no value");
                    flags_.push_back(name);
                } else if (contains(valueOptions, name)) {
                    if (inlineValue) values_[name] = *inlineValue;
                    else if (i + 1 < args.size()) values_[name] = args[++i];
                    else throw UsageError(name + " needs a value");
                    repeated_[name].push_back(values_[name]);
                } else {
                    throw UsageError("unknown option " + name);
                }
            } else {
                positionals_.push_back(a);
            }
        }
    }

    bool flag(const std::string& name) const { return contains(flags_, name); }
    std::optional<std::string> value(const std::string& name) const {
        const auto it = values_.find(name);
        return it == values_.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    /// Every value of an option that may be given more than once, in order.
    std::vector<std::string> values(const std::string& name) const {
        const auto it = repeated_.find(name);
        return it == repeated_.end() ? std::vector<std::string>{} : it->second;
    }
    const std::vector<std::string>& positionals() const { return positionals_; }
    void expectPositionals(std::size_t count, const char* usage) const {
        if (positionals_.size() != count) throw UsageError(std::string("usage: ") + usage);
    }

private:
    static bool contains(const std::vector<std::string>& list, const std::string& item) {
        for (const auto& x : list) {
            if (x == item) return true;
        }
        return false;
    }
    std::vector<std::string> positionals_;
    std::vector<std::string> flags_;
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> repeated_;
};

struct Context {
    std::ostream& out;
    std::ostream& err;
    std::optional<templates::Catalog> ownCatalog;
    /// --config FILE or $KOOPERDOC_CONFIG; empty: built-in defaults.
    std::string configPath;

    const templates::Catalog& catalog() const {
        return ownCatalog ? *ownCatalog : templates::Catalog::builtIn();
    }
};

/// The configuration named by --config (or $KOOPERDOC_CONFIG), or an empty one: every key then
/// takes its default. Error{kInvalidArgument, "config.unreadable"}.
Poco::AutoPtr<Poco::Util::AbstractConfiguration> loadConfiguration(const Context& ctx);

struct Command {
    std::string summary;
    std::string help;
    std::function<int(Context&, const std::vector<std::string>&)> run;
};

using CommandTable = std::map<std::string, Command>;

}  // namespace kooperdoc::cli
