// The kernel's count of datagrams it dropped for one UDP socket because its receive queue was
// full: the "drops" column of /proc/net/udp and /proc/net/udp6 (the socket's sk_drops, the same
// counter SO_RXQ_OVFL reports), found by the socket's inode. So a datagram that never reached
// the input is still accounted for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ingestd::inputs {

// Pure: the drops of the socket with `inode` in the text of a /proc/net/udp(6) table; nullopt
// when no line has that inode (or the line is malformed).
std::optional<std::uint64_t> udpDropsInProcTable(std::string_view table, std::uint64_t inode);

// Blocking (reads /proc): run it off the loop. Looks in /proc/net/udp, then /proc/net/udp6
// (`proc_net` is the directory, for tests).
std::optional<std::uint64_t> readUdpKernelDrops(std::uint64_t inode,
                                                const std::string& proc_net = "/proc/net");

}  // namespace ingestd::inputs
