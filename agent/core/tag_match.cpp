// tagMatches (see tag_match.h).
#include "agent/core/tag_match.h"

#include <fnmatch.h>

#include <string>

namespace ingestd {

bool tagMatches(std::string_view pattern, std::string_view tag) {
  return ::fnmatch(std::string(pattern).c_str(), std::string(tag).c_str(), 0) == 0;
}

}  // namespace ingestd
