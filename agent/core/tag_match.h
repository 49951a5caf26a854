// tagMatches: the glob match of an output's `match` patterns against an input's tag. Pure; used
// by the router (agent/pipeline) and by the config check that every input reaches an output.
#pragma once

#include <string_view>

namespace ingestd {

// True when `tag` matches the glob `pattern`: '*' any run of characters, '?' one character,
// '[...]' a set, as fnmatch(3) without FNM_PATHNAME ('/' and '.' are not special in tags).
bool tagMatches(std::string_view pattern, std::string_view tag);

}  // namespace ingestd
