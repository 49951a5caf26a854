// TailInput::Settings and parse(): reads and validates the tail keys. No I/O; unknown keys are
// errors. validate(): the checks that need the file system, before start.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "agent/plugin/config.h"
#include "plugins/common/framing_config.h"
#include "plugins/inputs/tail/tail_input.h"

namespace ingestd::inputs {

namespace {

// A path glob must be absolute and end in a file name part: "" when it does, else why not.
std::string badPathPattern(const std::string& p) {
  if (p.empty()) {
    return "must not be empty";
  }
  if (p[0] != '/') {
    return fmt::format("path \"{}\" must be absolute (e.g. /var/log/app/*.log)", p);
  }
  if (p.back() == '/') {
    return fmt::format(
        "path \"{}\" names a directory, not files: add a file name or glob "
        "(e.g. {}*.log)",
        p, p);
  }
  return {};
}

}  // namespace

Result<TailInput::Settings> TailInput::parse(const ConfigNode& node) {
  MapReader r(node);
  r.allow(kCoreInputKeys);
  Settings s;
  s.tag = r.string("tag", r.string("name"));
  // paths: globs of the files to follow (required).
  s.paths = r.pathList("paths");
  if (r.status().isOk() && (!r.has("paths") || s.paths.empty())) {
    r.fail(node.error("the key \"paths\" is required: a glob or a list of globs"));
  }
  const std::vector<ConfigNode> path_nodes = node["paths"].elements();  // none for one string
  for (std::size_t i = 0; i < s.paths.size(); ++i) {
    if (std::string why = badPathPattern(s.paths[i]); !why.empty()) {
      r.fail((i < path_nodes.size() ? path_nodes[i] : node["paths"]).error(why));
    }
  }
  // exclude: globs matched against the full path and against the basename.
  s.exclude = r.pathList("exclude");
  // read_from: where to start in files seen for the first time (files created after start are
  // always read from the head; files with a checkpoint resume from it).
  s.read_from_head = r.oneOf("read_from", "tail", {"head", "tail"}) == "head";
  // max_line_bytes: longer lines are truncated or split (long_lines) and counted.
  s.max_line_bytes = r.size("max_line_bytes", 1u << 20, 1u << 10, 16u << 20);
  s.long_lines = r.oneOf("long_lines", "truncate", {"truncate", "split"}) == "split"
                     ? LongLineMode::kSplit
                     : LongLineMode::kTruncate;
  // detect_copies: a new file whose first 256 bytes equal a followed (or just truncated) file's
  // is its copytruncate copy and is read from where that file's complete lines ended.
  s.detect_copies = r.boolean("detect_copies", true);
  // multiline: joins lines into records (stack traces); acknowledged only with all its lines.
  s.multiline = readMultilineSettings(r);
  if (s.multiline) {
    // parser: cri joins the runtime's partial chunks itself, before parsing; multiline would
    // join whole CRI lines (time, stream and tag included), which is never what is meant.
    const ConfigNode parser = node["parser"];
    const ConfigNode type = parser.isMap() ? parser["type"] : parser;
    auto name = type.isScalar() ? type.scalar() : Result<std::string>(std::string());
    if (name && name.value() == "cri") {
      r.fail(node["multiline"].error(
          "multiline cannot be combined with parser: cri (which joins the runtime's partial "
          "lines itself)"));
    }
  }
  if (s.multiline && s.long_lines == LongLineMode::kSplit) {
    r.fail(node["long_lines"].error(
        "long_lines: split cannot be combined with multiline (a split line would become several "
        "lines of one record); use truncate, or raise max_line_bytes"));
  }
  // scan_interval: how often globs are re-evaluated (stat only) as a fallback to inotify.
  s.scan_interval = r.duration("scan_interval", s.scan_interval, std::chrono::milliseconds(10),
                               std::chrono::hours(1));
  // read_chunk_bytes: the most one read takes from one file before others get a turn.
  s.read_chunk_bytes = r.size("read_chunk_bytes", s.read_chunk_bytes, 4u << 10, 64u << 20);
  // partial_line_timeout: a last line without '\n' is emitted after this long (0: never).
  s.partial_line_timeout = r.duration("partial_line_timeout", s.partial_line_timeout);
  // state_file: where acknowledged offsets are kept ("" = <state_dir>/tail-<name>.json).
  s.state_file = r.path("state_file", "");
  // forget_after: checkpoint entries of files not seen for this long are pruned.
  s.forget_after = r.duration("forget_after", s.forget_after, std::chrono::minutes(1));
  INGESTD_RETURN_IF_ERROR(r.finish());
  return s;
}

Status TailInput::validate(const ConfigNode&, const Settings& s, ValidationReport& report) {
  for (const std::string& pattern : s.paths) {
    const std::string dir = fixedDirOf(pattern);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      const int err = errno;
      report.warnings.push_back(
          err == ENOENT
              ? fmt::format("the directory \"{}\" does not exist (yet), so path \"{}\" matches "
                            "nothing; its files are read once it appears.",
                            dir, pattern)
              : fmt::format("cannot look into the directory \"{}\" of path \"{}\": {}.", dir,
                            pattern, std::strerror(err)));
    } else if (!S_ISDIR(st.st_mode)) {
      report.warnings.push_back(
          fmt::format("\"{}\" is not a directory, so path \"{}\" matches nothing.", dir, pattern));
    }
  }
  return Status::ok();
}

std::string TailInput::describe(const Settings& s) {
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) {
      out += (out.empty() ? "" : ", ") + ("\"" + x + "\"");
    }
    return out.empty() ? std::string("(none)") : out;
  };
  return fmt::format(
             "      paths:       {}\n      exclude:     {}\n      read_from:   {} (for files first "
             "seen)\n      lines:       max {} bytes, longer ones {}\n",
             list(s.paths), list(s.exclude), s.read_from_head ? "head" : "tail", s.max_line_bytes,
             s.long_lines == LongLineMode::kTruncate ? "truncated" : "split") +
         (s.multiline ? fmt::format("      multiline:   {}\n", describeMultiline(*s.multiline))
                      : std::string());
}

}  // namespace ingestd::inputs
