// The plugin API's loop services on a real loop: sockets on 127.0.0.1 with ports the OS chose
// (TCP and Unix streams: listen, connect, read, close; UDP: send and receive), work on libuv's
// pool, directory watches and the checkpoint store. Every test ends with a clean loop close.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/plugin/context.h"
#include "agent/plugin/loop.h"
#include "agent/plugin/net.h"
#include "tests/support/loop_wait.h"
#include "tests/support/temp_dir.h"

namespace ingestd {
namespace {

using namespace std::chrono_literals;
using test::runLoopFor;
using test::runLoopUntil;

// What one stream connection received.
struct Received {
  std::string bytes;
  std::optional<Status> end;
};

void readInto(StreamConnection& conn, Received& into) {
  conn.read([&into](std::string_view data) { into.bytes.append(data); },
            [&into](Status st) { into.end = std::move(st); });
}

// Closes `conn` (if any) and runs the loop until its handle is gone.
template <class T>
void closeAndWait(Loop& loop, std::unique_ptr<T>& obj) {
  if (!obj) {
    return;
  }
  bool closed = false;
  obj->close([&] { closed = true; });
  REQUIRE(runLoopUntil(
      loop, [&] { return closed; }, 5s));
  obj.reset();
}

TEST_CASE("plugin api: a TCP listener on port 0 accepts, reads bytes and sees the peer close") {
  Loop loop;
  Loop::markLoopThread();
  {
    std::vector<std::unique_ptr<StreamConnection>> accepted;
    auto listener = StreamListener::listenTcp(loop, "127.0.0.1", 0,
                                              [&](Result<std::unique_ptr<StreamConnection>> conn) {
                                                REQUIRE(conn.isOk());
                                                accepted.push_back(std::move(conn).value());
                                              });
    REQUIRE_MESSAGE(listener.isOk(), listener.error().message);
    std::unique_ptr<StreamListener> server = std::move(listener).value();
    REQUIRE(server->port() > 0);
    CHECK(server->address() == fmt::format("127.0.0.1:{}", server->port()));

    std::optional<Status> connected;
    auto dialed = StreamConnection::connectTcp(loop, "127.0.0.1", server->port(),
                                               [&](Status st) { connected = std::move(st); });
    REQUIRE(dialed.isOk());
    std::unique_ptr<StreamConnection> client = std::move(dialed).value();
    REQUIRE(runLoopUntil(
        loop, [&] { return connected.has_value() && accepted.size() == 1; }, 5s));
    REQUIRE(connected->isOk());
    CHECK(client->peer() == server->address());
    CHECK(accepted[0]->peer().rfind("127.0.0.1:", 0) == 0);

    Received got;
    readInto(*accepted[0], got);
    std::optional<Status> written;
    client->write("hello\nworld\n", [&](Status st) { written = std::move(st); });
    REQUIRE(runLoopUntil(
        loop, [&] { return got.bytes == "hello\nworld\n"; }, 5s));
    REQUIRE(written.has_value());
    CHECK(written->isOk());

    // Paused: bytes wait in the kernel until reading resumes.
    accepted[0]->pauseReading();
    client->write("more\n", nullptr);
    runLoopFor(loop, 50ms);
    CHECK(got.bytes == "hello\nworld\n");
    accepted[0]->resumeReading();
    REQUIRE(runLoopUntil(
        loop, [&] { return got.bytes == "hello\nworld\nmore\n"; }, 5s));

    // The peer closes: the end of stream arrives as OK.
    closeAndWait(loop, client);
    REQUIRE(runLoopUntil(
        loop, [&] { return got.end.has_value(); }, 5s));
    CHECK(got.end->isOk());
    closeAndWait(loop, accepted[0]);
    closeAndWait(loop, server);
  }
  CHECK(loop.shutdown() == 0);
}

TEST_CASE("plugin api: a TCP port in use and a bad address are errors, not crashes") {
  Loop loop;
  Loop::markLoopThread();
  {
    auto first = StreamListener::listenTcp(loop, "127.0.0.1", 0, nullptr);
    REQUIRE(first.isOk());
    auto second = StreamListener::listenTcp(loop, "127.0.0.1", first.value()->port(), nullptr);
    REQUIRE_FALSE(second.isOk());
    CHECK(second.error().code == ErrorCode::kUnavailable);
    CHECK(second.error().message.find("Cannot listen on 127.0.0.1:") != std::string::npos);

    auto bad = StreamListener::listenTcp(loop, "localhost", 0, nullptr);
    REQUIRE_FALSE(bad.isOk());
    CHECK(bad.error().code == ErrorCode::kInvalidArgument);

    // Nobody listens on a port that was just freed: the connect fails through its callback.
    const int port = first.value()->port();
    std::unique_ptr<StreamListener> l = std::move(first).value();
    closeAndWait(loop, l);
    std::optional<Status> connected;
    auto dialed = StreamConnection::connectTcp(loop, "127.0.0.1", port,
                                               [&](Status st) { connected = std::move(st); });
    REQUIRE(dialed.isOk());
    REQUIRE(runLoopUntil(
        loop, [&] { return connected.has_value(); }, 5s));
    CHECK_FALSE(connected->isOk());
    std::unique_ptr<StreamConnection> c = std::move(dialed).value();
    closeAndWait(loop, c);
  }
  CHECK(loop.shutdown() == 0);
}

TEST_CASE("plugin api: a Unix stream listener accepts, reads bytes and removes its socket") {
  test::TempDir dir;
  const std::string path = dir.file("in.sock");
  Loop loop;
  Loop::markLoopThread();
  {
    std::unique_ptr<StreamConnection> accepted;
    auto listener =
        StreamListener::listenUnix(loop, path, [&](Result<std::unique_ptr<StreamConnection>> conn) {
          REQUIRE(conn.isOk());
          accepted = std::move(conn).value();
        });
    REQUIRE_MESSAGE(listener.isOk(), listener.error().message);
    std::unique_ptr<StreamListener> server = std::move(listener).value();
    CHECK(server->port() == 0);
    CHECK(server->address() == path);
    struct stat st {};
    CHECK(::stat(path.c_str(), &st) == 0);

    // A second listener on the same path: the file is there, and it is not ours to remove.
    auto again = StreamListener::listenUnix(loop, path, nullptr);
    REQUIRE_FALSE(again.isOk());
    CHECK(again.error().code == ErrorCode::kUnavailable);

    std::optional<Status> connected;
    std::unique_ptr<StreamConnection> client =
        StreamConnection::connectUnix(loop, path, [&](Status s) { connected = std::move(s); });
    REQUIRE(runLoopUntil(
        loop, [&] { return connected.has_value() && accepted != nullptr; }, 5s));
    REQUIRE(connected->isOk());
    CHECK(accepted->peer() == path);

    Received got;
    readInto(*accepted, got);
    client->write("one line\n", nullptr);
    REQUIRE(runLoopUntil(
        loop, [&] { return got.bytes == "one line\n"; }, 5s));
    closeAndWait(loop, client);
    REQUIRE(runLoopUntil(
        loop, [&] { return got.end.has_value(); }, 5s));
    CHECK(got.end->isOk());
    closeAndWait(loop, accepted);
    closeAndWait(loop, server);
    CHECK(::stat(path.c_str(), &st) != 0);
  }
  CHECK(loop.shutdown() == 0);
}

TEST_CASE("plugin api: UDP sockets on port 0 send and receive datagrams") {
  Loop loop;
  Loop::markLoopThread();
  {
    auto a = UdpSocket::bind(loop, "127.0.0.1", 0);
    auto b = UdpSocket::bind(loop, "127.0.0.1", 0);
    REQUIRE(a.isOk());
    REQUIRE(b.isOk());
    std::unique_ptr<UdpSocket> sender = std::move(a).value();
    std::unique_ptr<UdpSocket> receiver = std::move(b).value();
    REQUIRE(sender->port() > 0);
    REQUIRE(receiver->port() > 0);
    CHECK(sender->port() != receiver->port());

    std::vector<std::string> got;
    std::vector<std::string> peers;
    REQUIRE(receiver
                ->startReceiving([&](const UdpSocket::Datagram& d) {
                  CHECK_FALSE(d.truncated);
                  got.emplace_back(d.data);
                  peers.push_back(d.peer);
                })
                .isOk());
    int sent = 0;
    for (const char* msg : {"<13>first", "<13>second"}) {
      sender->send(msg, "127.0.0.1", receiver->port(), [&](const Status& st) {
        CHECK(st.isOk());
        ++sent;
      });
    }
    REQUIRE(runLoopUntil(
        loop, [&] { return got.size() == 2 && sent == 2; }, 5s));
    CHECK(got == std::vector<std::string>{"<13>first", "<13>second"});
    CHECK(peers.at(0) == sender->address());

    // A bad address fails through the callback, not inside send().
    std::optional<Status> failed;
    sender->send("x", "not-an-ip", 1, [&](Status st) { failed = std::move(st); });
    CHECK_FALSE(failed.has_value());
    REQUIRE(runLoopUntil(
        loop, [&] { return failed.has_value(); }, 5s));
    CHECK(failed->error().code == ErrorCode::kInvalidArgument);

    receiver->stopReceiving();
    closeAndWait(loop, sender);
    closeAndWait(loop, receiver);
  }
  CHECK(loop.shutdown() == 0);
}

TEST_CASE("plugin api: fileWork runs off the loop and completes on it, and guarded done drops") {
  Loop loop;
  Loop::markLoopThread();
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id work_thread;
  std::thread::id done_thread;
  bool done = false;
  fileWork(
      loop, [&] { work_thread = std::this_thread::get_id(); },
      [&] {
        done_thread = std::this_thread::get_id();
        done = true;
      });
  REQUIRE(runLoopUntil(
      loop, [&] { return done; }, 5s));
  CHECK(work_thread != loop_thread);
  CHECK(done_thread == loop_thread);

  // The cancellation-token pattern the header describes: the owner is gone before done runs.
  auto token = std::make_shared<int>(0);
  std::atomic<bool> worked{false};  // set on the worker thread
  bool guarded_ran = false;
  fileWork(
      loop, [&] { worked = true; },
      [alive = std::weak_ptr<int>(token), &guarded_ran] {
        if (!alive.expired()) {
          guarded_ran = true;
        }
      });
  token.reset();
  REQUIRE(runLoopUntil(
      loop, [&] { return worked.load(); }, 5s));
  runLoopFor(loop, 20ms);
  CHECK_FALSE(guarded_ran);
  CHECK(loop.shutdown() == 0);
}

TEST_CASE("plugin api: FsWatch reports a new file by name and closes cleanly") {
  test::TempDir dir;
  Loop loop;
  Loop::markLoopThread();
  {
    auto watch = std::make_unique<FsWatch>(loop);
    std::vector<FsEvent> events;
    REQUIRE(watch->start(dir.path(), [&](const FsEvent& ev) { events.push_back(ev); }).isOk());
    std::ofstream(dir.file("new.log")) << "x\n";
    REQUIRE(runLoopUntil(
        loop,
        [&] {
          for (const auto& ev : events) {
            if (!ev.failed && ev.name == "new.log" && ev.rename) {
              return true;
            }
          }
          return false;
        },
        5s));
    CHECK(events.front().dir == dir.path());
    closeAndWait(loop, watch);

    auto missing = std::make_unique<FsWatch>(loop);
    Status st = missing->start(dir.file("no-such-dir"), [](const FsEvent&) {});
    REQUIRE_FALSE(st.isOk());
    CHECK(st.error().code == ErrorCode::kNotFound);
    CHECK(st.message() == fmt::format("Cannot watch directory \"{}\" (no such file or directory)",
                                      dir.file("no-such-dir")));
    closeAndWait(loop, missing);
  }
  CHECK(loop.shutdown() == 0);
}

TEST_CASE("plugin api: the checkpoint store of an instance saves and loads its entries") {
  test::TempDir dir;
  Loop loop;
  WorkerPool pool{loop, 1};
  SystemClock clock;
  Logger log{LogLevel::kWarn};
  PluginContext ctx{"tail/app", "app",      loop,   pool,    clock,
                    log,        dir.path(), "host", nullptr, nullptr};
  Loop::markLoopThread();
  {
    std::unique_ptr<CheckpointStore> store = ctx.checkpointStore();
    CHECK(store->path() == dir.file("tail-app.json"));
    CHECK(ctx.checkpointStore(dir.file("x.json"))->path() == dir.file("x.json"));

    std::optional<LoadedCheckpoint> first;
    store->load([&](LoadedCheckpoint l) { first = std::move(l); });
    REQUIRE(runLoopUntil(
        loop, [&] { return first.has_value(); }, 5s));
    CHECK(first->state == LoadedCheckpoint::State::kMissing);

    CheckpointData data;
    data.saved_at_unix_ms = 1700000000000;
    data.entries.push_back(CheckpointEntry{1, 2, 3, 4, 5, "/var/log/a.log", 1700000000000});
    int idle = 0;
    store->setOnIdle([&] { ++idle; });
    store->save(data);
    CHECK(store->writing());
    REQUIRE(runLoopUntil(
        loop, [&] { return idle == 1; }, 5s));
    CHECK_FALSE(store->writing());
    CHECK(store->writes() == 1);
    CHECK_FALSE(store->lastFailed());

    std::optional<LoadedCheckpoint> second;
    ctx.checkpointStore()->load([&](LoadedCheckpoint l) { second = std::move(l); });
    REQUIRE(runLoopUntil(
        loop, [&] { return second.has_value(); }, 5s));
    CHECK(second->state == LoadedCheckpoint::State::kLoaded);
    CHECK(second->data == data);
  }
  CHECK(loop.shutdown() == 0);
}

}  // namespace
}  // namespace ingestd
