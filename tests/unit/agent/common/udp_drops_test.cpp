// Unit tests of the /proc/net/udp reader: the drops column of the line with the socket's inode.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "plugins/common/udp_drops.h"

namespace ingestd::inputs {

namespace {

// The layout of a real /proc/net/udp (Linux 6.x), two sockets.
const std::string kTable =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode ref pointer drops            \n"
    "  310: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 "
    "15553 2 0000000000000000 0        \n"
    " 1234: 0100007F:A1B2 00000000:0000 07 00000000:00034100 00:00000000 00000000     0        0 "
    "987654 2 ffff8881 4711\n";

}  // namespace

TEST_CASE("udp drops: the drops column of the socket's line, by inode") {
  CHECK(udpDropsInProcTable(kTable, 987654) == 4711);
  CHECK(udpDropsInProcTable(kTable, 15553) == 0);
  CHECK_FALSE(udpDropsInProcTable(kTable, 1555).has_value());  // a prefix of an inode is not it
  CHECK_FALSE(udpDropsInProcTable("", 1).has_value());
  // Malformed lines (too few fields, a drops field that is not a number) are no answer.
  CHECK_FALSE(udpDropsInProcTable("  1: a b c d e f g h 42 i j\n", 42).has_value());
  CHECK_FALSE(udpDropsInProcTable("  1: a b c d e f g h 42 i j x\n", 42).has_value());
}

TEST_CASE("udp drops: read from udp, then udp6, in the given directory") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("udp-drops-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "udp") << kTable;
  std::ofstream(dir / "udp6")
      << "  sl  local_address                         remote_address                        st "
         "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
         "   5: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 07 "
         "00000000:00000000 00:00000000 00000000     0        0 5555 2 0000000000000000 17\n";
  CHECK(readUdpKernelDrops(987654, dir.string()) == 4711);
  CHECK(readUdpKernelDrops(5555, dir.string()) == 17);
  CHECK_FALSE(readUdpKernelDrops(1, dir.string()).has_value());
  CHECK_FALSE(readUdpKernelDrops(5555, (dir / "missing").string()).has_value());
  std::filesystem::remove_all(dir);
}

}  // namespace ingestd::inputs
