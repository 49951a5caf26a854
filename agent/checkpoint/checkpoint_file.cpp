// Tail checkpoint file: JSON encoding with a CRC over the body, and the atomic replace
// (temp file, fsync, rename, directory fsync) that makes a torn checkpoint impossible.
#include "agent/checkpoint/checkpoint_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ingestd {

namespace {

using Json = nlohmann::json;

std::string canonical(const Json& j) {
  // Paths are bytes, not necessarily UTF-8: replace what JSON cannot carry (diagnostics only).
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::uint32_t crcOf(std::string_view s) {
  return static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

Error corrupt(std::string_view file, std::string_view why) {
  return makeError(ErrorCode::kDataLoss, "Checkpoint file \"{}\" is corrupt: {}.", file, why);
}

std::string errnoText(int err) { return std::strerror(err); }

}  // namespace

std::string encodeCheckpoint(const CheckpointData& data) {
  Json files = Json::array();
  for (const auto& e : data.entries) {
    files.push_back(Json{{"dev", e.dev},
                         {"ino", e.ino},
                         {"fp_len", e.fingerprint_len},
                         {"fp_hash", e.fingerprint_hash},
                         {"offset", e.offset},
                         {"path", e.path},
                         {"last_seen", e.last_seen_unix_ms}});
  }
  Json body{{"saved_at", data.saved_at_unix_ms}, {"files", std::move(files)}};
  std::string body_text = canonical(body);
  Json doc{{"format", kCheckpointFormat},
           {"version", kCheckpointVersion},
           {"crc32", crcOf(body_text)},
           {"body", std::move(body)}};
  return canonical(doc) + "\n";
}

Result<CheckpointData> decodeCheckpoint(std::string_view text, std::string_view file_name) {
  if (text.empty()) {
    return corrupt(file_name, "it is empty");
  }
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return corrupt(file_name, "it is not a complete JSON document (truncated?)");
  }
  try {
    if (doc.value("format", std::string()) != kCheckpointFormat) {
      return corrupt(file_name, "it is not an ingestd tail checkpoint");
    }
    if (!doc.contains("version") || !doc["version"].is_number_integer()) {
      return corrupt(file_name, "it has no version");
    }
    auto version = doc["version"].get<std::int64_t>();
    if (version != kCheckpointVersion) {
      return corrupt(file_name, fmt::format("version {} is not supported (expected {})", version,
                                            kCheckpointVersion));
    }
    if (!doc.contains("body") || !doc["body"].is_object() || !doc.contains("crc32")) {
      return corrupt(file_name, "the body or its checksum is missing");
    }
    const Json& body = doc["body"];
    if (doc["crc32"].get<std::uint32_t>() != crcOf(canonical(body))) {
      return corrupt(file_name, "the checksum does not match");
    }
    CheckpointData data;
    data.saved_at_unix_ms = body.at("saved_at").get<std::int64_t>();
    for (const auto& f : body.at("files")) {
      CheckpointEntry e;
      e.dev = f.at("dev").get<std::uint64_t>();
      e.ino = f.at("ino").get<std::uint64_t>();
      e.fingerprint_len = f.at("fp_len").get<std::uint32_t>();
      e.fingerprint_hash = f.at("fp_hash").get<std::uint64_t>();
      e.offset = f.at("offset").get<std::uint64_t>();
      e.path = f.at("path").get<std::string>();
      e.last_seen_unix_ms = f.at("last_seen").get<std::int64_t>();
      data.entries.push_back(std::move(e));
    }
    return data;
  } catch (const std::exception& ex) {
    return corrupt(file_name,
                   fmt::format("a field is missing or has the wrong type ({})", ex.what()));
  }
}

Status writeCheckpointFile(const std::string& path, std::string_view contents) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return makeError(ErrorCode::kIo, "Cannot create checkpoint file \"{}\": {}.", tmp,
                     errnoText(errno));
  }
  const char* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      return makeError(ErrorCode::kIo, "Cannot write checkpoint file \"{}\": {}.", tmp,
                       errnoText(err));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return makeError(ErrorCode::kIo, "Cannot fsync checkpoint file \"{}\": {}.", tmp,
                     errnoText(err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return makeError(ErrorCode::kIo, "Cannot rename \"{}\" to \"{}\": {}.", tmp, path,
                     errnoText(err));
  }
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    return makeError(ErrorCode::kIo, "Cannot open directory \"{}\" to fsync checkpoint: {}.", dir,
                     errnoText(errno));
  }
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  if (rc != 0) {
    return makeError(ErrorCode::kIo, "Cannot fsync directory \"{}\": {}.", dir, errnoText(err));
  }
  return Status::ok();
}

LoadedCheckpoint loadCheckpointFile(const std::string& path) {
  LoadedCheckpoint out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      out.state = LoadedCheckpoint::State::kMissing;
      return out;
    }
    // Unreadable: we cannot know the offsets, so treat it like a corrupt file (re-read, not skip)
    // but leave it where it is: it may be a permissions problem an operator should fix.
    out.state = LoadedCheckpoint::State::kCorrupt;
    out.error = fmt::format("Cannot open checkpoint file \"{}\": {}.", path, errnoText(errno));
    return out;
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      out.state = LoadedCheckpoint::State::kCorrupt;
      out.error = fmt::format("Cannot read checkpoint file \"{}\": {}.", path, errnoText(errno));
      ::close(fd);
      return out;
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto decoded = decodeCheckpoint(text, path);
  if (decoded) {
    out.state = LoadedCheckpoint::State::kLoaded;
    out.data = std::move(decoded).value();
    return out;
  }
  out.state = LoadedCheckpoint::State::kCorrupt;
  out.error = decoded.error().message;
  std::string keep = path + ".corrupt";
  if (::rename(path.c_str(), keep.c_str()) == 0) {
    out.error += fmt::format(" It was kept as \"{}\".", keep);
  }
  return out;
}

}  // namespace ingestd
