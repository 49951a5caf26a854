#include "agent/app/systemd_notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include <fmt/format.h>

namespace ingestd {

namespace {

// STATUS= is one line: anything after a newline would be read as another assignment.
std::string statusLine(std::string_view status) {
  std::string out(status.substr(0, status.find('\n')));
  return "STATUS=" + out;
}

std::uint64_t monotonicMicros() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && socket[0] != '\0';
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) names this process.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::microseconds(usec / 2);
  }
}

void SystemdNotifier::send(const std::string& state) const {
  if (enabled_) {
    (void)sd_notify(0, state.c_str());
  }
}

void SystemdNotifier::ready(std::string_view status) const {
  send("READY=1\n" + statusLine(status));
}

void SystemdNotifier::reloading(std::string_view status) const {
  send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\n{}", monotonicMicros(), statusLine(status)));
}

void SystemdNotifier::stopping(std::string_view status) const {
  send("STOPPING=1\n" + statusLine(status));
}

void SystemdNotifier::watchdog() const { send("WATCHDOG=1"); }

void SystemdNotifier::status(std::string_view status) const { send(statusLine(status)); }

ServiceNotifications::ServiceNotifications(Loop& loop, std::function<std::string()> summary)
    : summary_(std::move(summary)), watchdog_(loop), status_(loop) {}

void ServiceNotifications::started() {
  if (!notifier_.enabled()) {
    return;
  }
  notifier_.ready(summary_());
  if (auto interval = notifier_.watchdogInterval()) {
    notifier_.watchdog();
    const auto ms = std::max<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(*interval),
        std::chrono::milliseconds(1));
    watchdog_.startRepeating(ms, [this] { notifier_.watchdog(); });
  }
  status_.startRepeating(kStatusInterval, [this] { notifier_.status(summary_()); });
}

void ServiceNotifications::stopping() {
  if (!notifier_.enabled()) {
    return;
  }
  status_.stop();
  notifier_.stopping("Stopping: flushing batches and waiting for blocks in flight.");
}

void ServiceNotifications::close() {
  watchdog_.stop();
  status_.stop();
}

}  // namespace ingestd
