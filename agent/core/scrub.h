// scrubSecrets: takes known secret values (client secrets, assertions, tokens, identity headers)
// out of text before it leaves the process in a log line, an error or a dead-letter note. A
// peer that echoes our request (a proxy, a hostile or misconfigured token endpoint) hands the
// secret back in the form it travelled in, so the encoded forms are removed too.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ingestd {

// Secrets shorter than this are left alone: replacing "ab" everywhere would mangle the text
// while hiding next to nothing.
inline constexpr std::size_t kMinScrubbedSecretBytes = 4;

// `text` with every occurrence of each secret replaced by "***", in these forms: as is;
// percent-encoded as in a URL or a form body (hex in upper or lower case; a space as "%20" or
// "+"; '~' kept or encoded); and each of those JSON-escaped (with or without "\/"). Longer
// forms are replaced first. Empty and short secrets are ignored. Pure; any thread.
std::string scrubSecrets(std::string_view text, const std::vector<std::string_view>& secrets);

}  // namespace ingestd
