// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <string_view>

#include "kooperdoc/core/DocumentModel.h"

namespace kooperdoc::templates {

/// Parses Kooperdoc markup (docs/template-format.md) into the document model.
///
/// The markup is produced by our own templates with every value XML-escaped, so a malformed
/// or unknown construct is a defect of the template, never of the request: it throws
/// Error{kInternal, "template.markup"} naming the line and column.
doc::Blocks parseMarkup(std::string_view markup);

}  // namespace kooperdoc::templates
