// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Who a request is about (issue 5: the store indexes each person through keyed HMACs so that
// access and erasure requests find every document about them). The template says where people
// are: its personal_data entries of category "identification" point at them.

#include <string>
#include <vector>

#include <Poco/Dynamic/Var.h>

#include "kooperdoc/templates/Catalog.h"

namespace kooperdoc::templates {

struct DataSubject {
    std::string fullName;
    std::string pesel;  ///< "" when the form does not ask for it
    std::string role;   ///< the pointer's last segment: "adults", "minors", "declarant", …
};

/// For every identification pointer of \p tmpl: the object there, or each item of the array
/// there, that has a string "name" (with its "pesel" when present); a string at a pointer whose
/// last segment ends in "name" ("/subject_name", "/county/starosta_name") is a name by itself.
/// Other values (case numbers, free text such as "/prepared_by") name nobody. A person named
/// twice (same name and PESEL) is listed once, with the first role. Never throws on input that
/// passed validation; pointers missing from the input are skipped.
std::vector<DataSubject> extractDataSubjects(const Template& tmpl, const Poco::Dynamic::Var& input);

}  // namespace kooperdoc::templates
