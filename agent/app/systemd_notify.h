// systemd's service notification protocol (sd_notify(3), libsystemd): READY=1 once every input
// and output started, WATCHDOG=1 from the loop thread, STOPPING=1 on shutdown, STATUS= a one-line
// summary. Without NOTIFY_SOCKET in the environment nothing is sent and every call is cheap.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/loop/loop.h"

namespace ingestd {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID once.
  SystemdNotifier();

  // True when systemd (or a test) listens on NOTIFY_SOCKET.
  bool enabled() const { return enabled_; }
  // How often to send WATCHDOG=1 (half of WatchdogSec), when the watchdog is on for this
  // process.
  std::optional<std::chrono::microseconds> watchdogInterval() const { return watchdog_interval_; }

  void ready(std::string_view status) const;
  void reloading(std::string_view status) const;  // RELOADING=1 with MONOTONIC_USEC
  void stopping(std::string_view status) const;
  void watchdog() const;
  void status(std::string_view status) const;

 private:
  // Sends the assignment lines; a failure is ignored (systemd went away, nothing to do about it).
  void send(const std::string& state) const;

  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

// Drives a SystemdNotifier from the loop thread: WATCHDOG=1 from a loop timer at half
// WatchdogSec (a stuck loop stops the pings, and systemd restarts the service) and STATUS=
// every kStatusInterval. Does nothing without NOTIFY_SOCKET.
class ServiceNotifications {
 public:
  static constexpr std::chrono::seconds kStatusInterval{10};
  // summary(): the one-line STATUS= text, called on the loop thread.
  ServiceNotifications(Loop& loop, std::function<std::string()> summary);
  ServiceNotifications(const ServiceNotifications&) = delete;
  ServiceNotifications& operator=(const ServiceNotifications&) = delete;

  // Loop thread. READY=1, then the watchdog and status timers.
  void started();
  // Loop thread. STOPPING=1 and no more STATUS=; the watchdog keeps running while draining.
  void stopping();
  // Loop thread. Stops the timers, which would otherwise keep the loop running.
  void close();
  const SystemdNotifier& notifier() const { return notifier_; }

 private:
  SystemdNotifier notifier_;
  std::function<std::string()> summary_;
  Timer watchdog_;
  Timer status_;
};

}  // namespace ingestd
