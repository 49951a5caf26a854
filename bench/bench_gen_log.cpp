// Writes a deterministic nginx access log of a given size (for the end-to-end benchmark).
// usage: bench_gen_log OUT_FILE SIZE_MIB [SEED] [json]   (json: JSON application-log lines)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/nginx_log_gen.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_FILE SIZE_MIB [SEED] [json]\n", argv[0]);
    return 2;
  }
  const std::uint64_t target = std::strtoull(argv[2], nullptr, 10) << 20;
  const std::uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 20261123;
  std::FILE* out = std::fopen(argv[1], "wb");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  const bool json = argc > 4 && std::string(argv[4]) == "json";
  ingestd::bench::NginxLogGenerator gen(seed);
  std::string buf;
  std::uint64_t written = 0;
  std::uint64_t lines = 0;
  while (written < target) {
    buf.clear();
    while (buf.size() < (1u << 20)) {
      if (json) {
        gen.appendJsonLine(buf);
      } else {
        gen.appendLine(buf);
      }
      ++lines;
    }
    std::fwrite(buf.data(), 1, buf.size(), out);
    written += buf.size();
  }
  std::fclose(out);
  std::printf("%llu %llu\n", static_cast<unsigned long long>(written),
              static_cast<unsigned long long>(lines));
  return 0;
}
