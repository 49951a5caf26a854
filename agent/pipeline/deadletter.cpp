// DeadLetter implementation.
#include "agent/pipeline/deadletter.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace ingestd {

namespace {

std::string isoNow() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms.count());
}

std::string safeName(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

Status fsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return makeError(ErrorCode::kIo, "Cannot open directory \"{}\": {}.", dir,
                     std::strerror(errno));
  }
  ::fsync(fd);
  ::close(fd);
  return Status::ok();
}

}  // namespace

Status makeDirs(const std::string& path) {
  std::string cur;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0750) != 0 && errno != EEXIST) {
        return makeError(ErrorCode::kIo, "Cannot create directory \"{}\": {}.", cur,
                         std::strerror(errno));
      }
    }
    if (i < path.size()) {
      cur.push_back(path[i]);
    }
  }
  return Status::ok();
}

Status writeFileDurably(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return makeError(ErrorCode::kIo, "Cannot create \"{}\": {}.", tmp, std::strerror(errno));
  }
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return makeError(ErrorCode::kIo, "Cannot write \"{}\": {}.", tmp, std::strerror(err));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return makeError(ErrorCode::kIo, "Cannot sync \"{}\": {}.", tmp, std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return makeError(ErrorCode::kIo, "Cannot rename \"{}\": {}.", tmp, std::strerror(errno));
  }
  auto slash = path.rfind('/');
  return fsyncDir(slash == std::string::npos ? "." : path.substr(0, slash));
}

std::string deadLetterJson(const DeadLetterEntry& e, std::string_view data_file,
                           std::string_view time_iso) {
  nlohmann::json j = {
      {"time", time_iso},
      {"output", e.output},
      {"destination", e.destination},
      {"block_id", e.block_id},
      {"reason", e.reason},
      {"http_status", e.http_status},
      {"error_code", e.error_code},
      {"message", e.message},
      {"attempts", e.attempts},
      {"records", e.records},
      {"raw_bytes", e.raw_bytes},
      {"format", e.format},
      {"data_file", data_file},
      {"data_encoding", e.is_gzip ? "gzip" : "identity"},
  };
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

struct WriteJob {
  uv_work_t req{};
  DeadLetterEntry entry;
  std::string dir;
  Status status;
  std::uint64_t written = 0;
  std::function<void(Status, std::uint64_t)> done;
};

// Pool thread: writes the data file, then the .json that describes it. On failure removes what
// it wrote, so a retry does not leave orphans that count against the cap.
void writeEntry(WriteJob& j) {
  j.status = makeDirs(j.dir);
  if (!j.status) {
    return;
  }
  const std::string time = isoNow();
  const std::string base =
      j.dir + "/" + time + "-" + safeName(j.entry.output) + "-" + safeName(j.entry.block_id);
  const std::string data_file = base + (j.entry.is_gzip ? ".data.gz" : ".data");
  if (j.entry.data) {
    j.status = writeFileDurably(data_file, *j.entry.data);
    if (!j.status) {
      return;
    }
    j.written += j.entry.data->size();
  }
  auto slash = data_file.rfind('/');
  const std::string json = deadLetterJson(j.entry, data_file.substr(slash + 1), time);
  j.status = writeFileDurably(base + ".json", json);
  if (!j.status) {
    if (j.entry.data) {
      ::unlink(data_file.c_str());
    }
    j.written = 0;
    return;
  }
  j.written += json.size();
}

}  // namespace

std::uint64_t directoryBytes(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return 0;
  }
  std::uint64_t total = 0;
  while (const dirent* e = ::readdir(d)) {
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<std::uint64_t>(st.st_size);
    }
  }
  ::closedir(d);
  return total;
}

void DeadLetter::start(std::function<void()> done) {
  struct ScanJob {
    uv_work_t req{};
    DeadLetter* self = nullptr;
    std::string dir;
    std::uint64_t bytes = 0;
    std::function<void()> done;
  };
  auto* job = new ScanJob;
  job->self = this;
  job->dir = dir_;
  job->done = std::move(done);
  job->req.data = job;
  uv_queue_work(
      loop_.raw(), &job->req,
      [](uv_work_t* req) {
        auto* j = static_cast<ScanJob*>(req->data);
        j->bytes = directoryBytes(j->dir);
      },
      [](uv_work_t* req, int) {
        std::unique_ptr<ScanJob> j(static_cast<ScanJob*>(req->data));
        j->self->used_ += j->bytes;
        if (j->done) {
          j->done();
        }
      });
}

void DeadLetter::write(DeadLetterEntry entry, std::function<void(Status)> done) {
  const std::uint64_t reserve = (entry.data ? entry.data->size() : 0) + kDeadLetterJsonBytes;
  if (used_ + reserve > max_size_) {
    done(makeError(ErrorCode::kUnavailable,
                   "The dead-letter directory \"{}\" holds {} bytes, and this block of {} bytes "
                   "would exceed its limit (deadletter.max_size = {} bytes).",
                   dir_, used_, reserve, max_size_));
    return;
  }
  used_ += reserve;
  auto* job = new WriteJob;
  job->entry = std::move(entry);
  job->dir = dir_;
  job->done = [this, reserve, cb = std::move(done)](Status st, std::uint64_t written) {
    used_ = used_ - reserve + written;
    if (cb) {
      cb(std::move(st));
    }
  };
  job->req.data = job;
  uv_queue_work(
      loop_.raw(), &job->req,
      [](uv_work_t* req) { writeEntry(*static_cast<WriteJob*>(req->data)); },
      [](uv_work_t* req, int) {
        std::unique_ptr<WriteJob> j(static_cast<WriteJob*>(req->data));
        j->done(j->status, j->written);
      });
}

}  // namespace ingestd
