#include "live/loopback_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <initializer_list>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "base/atomic_file.h"
#include "base/errors.h"
#include "live/text_protocol.h"
#include "plots/markup.h"

namespace shardlab::live {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kLoopback[] = "127.0.0.1";
// Above the differential test's range (19000-29999), so the two never compete for a port.
constexpr int kFirstPort = 30000;
constexpr int kLastPort = 39999;
// 18.16 is ready in 0.1-0.5 s on an empty data directory; attaching many parts takes longer.
constexpr auto kStartupBound = std::chrono::seconds(60);
// A clean stop of 18.16 takes 2-3 s (it waits for its background pools); SIGKILL after this.
constexpr auto kStopBound = std::chrono::seconds(30);
// Readiness probes are cheap (a refused connect, or one /ping of about 0.6 ms).
constexpr auto kReadyPollInterval = std::chrono::milliseconds(25);
constexpr auto kExitPollInterval = std::chrono::milliseconds(10);
constexpr int kLogTailLines = 20;
// Enough bytes to hold the last kLogTailLines lines of any of these logs.
constexpr std::uintmax_t kLogTailWindow = 64 * 1024;

constexpr char kClickHouseBinary[] = "/usr/sbin/clickhouse-server";
constexpr char kZooKeeperJar[] = "/usr/share/java/zookeeper.jar";
// slf4j-simple gives ZooKeeper a logging binding that writes to stderr, that is stdout.log.
constexpr char kSlf4jSimpleJar[] = "/usr/share/java/slf4j-simple.jar";
// ZooKeeper holds a few znodes per replicated table; its peak RSS is about 80 MB.
constexpr char kZooKeeperHeap[] = "-Xmx256m";
// The caches are per server, and every server of the layout shares this one machine.
constexpr uint64_t kMarkCacheBytes = uint64_t{256} << 20;
constexpr uint64_t kUncompressedCacheBytes = 0;
constexpr int kMaxConcurrentQueries = 64;

// ClickHouse's ports, in Server::ports.
constexpr size_t kTcp = 0;
constexpr size_t kHttp = 1;
constexpr size_t kInterserver = 2;

volatile std::sig_atomic_t g_interrupted = 0;

void on_interrupt(int) { g_interrupted = 1; }

std::string errno_text(int error) { return std::strerror(error); }

// Text inside the generated XML configs; HTML's escaping is valid XML.
std::string xml_escape(std::string_view text) { return plots::html_escape(text); }

// Node names become directory names and XML text; cluster and setting names become XML
// element names.
void check_node_name(const std::string& name, std::string_view what) {
  const bool usable =
      !name.empty() && name != "." && name != ".." &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
  if (!usable) {
    throw RuntimeError(fmt::format(
        "loopback cluster: {} name '{}' is not usable as a directory name (letters, digits, "
        "'_', '-', '.')",
        what, name));
  }
}

void check_element_name(const std::string& name, std::string_view what) {
  const bool usable = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                      std::all_of(name.begin(), name.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                      });
  if (!usable) {
    throw RuntimeError(fmt::format(
        "loopback cluster: {} '{}' is not a ClickHouse identifier (letters, digits, '_')", what,
        name));
  }
}

sockaddr_in loopback_address(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, kLoopback, &address.sin_addr);
  return address;
}

// True when a server could listen on 127.0.0.1:port now. With SO_REUSEADDR, as ClickHouse,
// ZooKeeper and memcached set it, so connections of an earlier run still in TIME_WAIT do not
// count as taking the port.
bool port_is_free(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in address = loopback_address(port);
  const bool free = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
                    ::listen(fd, 1) == 0;
  ::close(fd);
  return free;
}

// The last `lines` lines written to `path` from byte `from` on (where this run of the server
// began), so a failure report never quotes an earlier run.
std::string log_tail(const fs::path& path, std::uintmax_t from, int lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto end = static_cast<std::uintmax_t>(std::max<std::streamoff>(in.tellg(), 0));
  if (end < from) from = 0;  // truncated since: all of it is this run's
  const std::uintmax_t begin = std::max(from, end > kLogTailWindow ? end - kLogTailWindow : 0);
  in.seekg(static_cast<std::streamoff>(begin));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  size_t start = text.size();
  int lines_found = 0;
  while (start > 0) {
    const size_t newline = text.rfind('\n', start - 1);
    if (newline == std::string::npos) {
      start = 0;
    } else if (++lines_found == lines) {
      start = newline + 1;
      break;
    } else {
      start = newline;
    }
  }
  return text.substr(start);
}

std::uintmax_t file_size_or_zero(const fs::path& path) {
  std::error_code error;
  const std::uintmax_t size = fs::file_size(path, error);
  return error ? 0 : size;
}

// The executable `name` from PATH, or empty.
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    const std::string candidate = std::string(dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return "exited";
}

void make_directory(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    throw RuntimeError(
        fmt::format("cannot create directory '{}': {}", dir.string(), error.message()));
  }
}

// One process to start: everything is prepared before fork, because between fork and exec the
// child of a multi-threaded process may call async-signal-safe functions only.
struct SpawnRequest {
  std::string program;            // absolute path
  std::vector<std::string> args;  // argv, argv[0] included
  fs::path cwd;
  fs::path output;  // stdout and stderr are appended here
};

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

[[noreturn]] void report_exec_failure(int report_fd) {
  const int error = errno;
  [[maybe_unused]] const ssize_t written = ::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

[[noreturn]] void exec_child(const SpawnRequest& request, char* const* argv, int input_fd,
                             int output_fd, int report_fd, pid_t parent) {
  // A process group of its own: a terminal's Ctrl-C reaches shardlab only, which then stops
  // the servers in order.
  ::setpgid(0, 0);
  // The server dies with the thread that spawned it (the spawner, which lives as long as the
  // LoopbackCluster), also when shardlab is killed by SIGKILL.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before prctl() took effect; then nothing would kill this child.
  if (::getppid() != parent) ::_exit(127);
  // Ignored signals stay ignored across exec, and the spawner thread's mask is inherited.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  ::sigemptyset(&default_action.sa_mask);
  for (const int signal_number : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    ::sigaction(signal_number, &default_action, nullptr);
  }
  sigset_t no_signals;
  ::sigemptyset(&no_signals);
  ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);
  if (::dup2(input_fd, STDIN_FILENO) < 0 || ::dup2(output_fd, STDOUT_FILENO) < 0 ||
      ::dup2(output_fd, STDERR_FILENO) < 0 || ::chdir(request.cwd.c_str()) != 0) {
    report_exec_failure(report_fd);
  }
  // Descriptors that other threads opened without O_CLOEXEC (a client's sockets, say) must not
  // live on in a server. The report pipe stays open until exec succeeds.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(request.program.c_str(), argv, environ);
  report_exec_failure(report_fd);
}

// Runs on the spawner thread. Returns the child's PID once exec succeeded.
pid_t fork_exec(const SpawnRequest& request) {
  std::vector<char*> argv;
  for (const std::string& arg : request.args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  FileDescriptor output(
      ::open(request.output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (output.get() < 0) {
    throw RuntimeError(
        fmt::format("cannot open '{}': {}", request.output.string(), errno_text(errno)));
  }
  FileDescriptor input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (input.get() < 0) throw RuntimeError("cannot open /dev/null: " + errno_text(errno));
  // The child writes its errno here when exec fails; a successful exec closes it empty.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    throw RuntimeError("cannot create a pipe: " + errno_text(errno));
  }
  FileDescriptor report_read(report[0]);
  FileDescriptor report_write(report[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw RuntimeError("cannot fork: " + errno_text(errno));
  if (pid == 0) exec_child(request, argv.data(), input.get(), output.get(), report[1], parent);
  report_write.reset();
  int child_error = 0;
  ssize_t got;
  do {
    got = ::read(report_read.get(), &child_error, sizeof child_error);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw RuntimeError(fmt::format("cannot execute '{}' in '{}': {}", request.program,
                                   request.cwd.string(), errno_text(child_error)));
  }
  return pid;
}

// Forks every server from one thread that lives as long as the LoopbackCluster: the children's
// PR_SET_PDEATHSIG fires when the thread that forked them ends, not when the process does.
class Spawner {
 public:
  Spawner() : thread_([this] { run(); }) {}
  ~Spawner() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  // Callable from any thread. Throws RuntimeError when the process cannot be started.
  pid_t spawn(const SpawnRequest& request) {
    std::packaged_task<pid_t()> task([&request] { return fork_exec(request); });
    std::future<pid_t> result = task.get_future();
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    return result.get();
  }

 private:
  void run() {
    for (;;) {
      std::packaged_task<pid_t()> task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<pid_t()>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: it runs on the members above
};

enum class Kind { kZooKeeper, kClickHouse, kMemcached };

// One server process of the cluster.
struct Server {
  Kind kind;
  std::string name;  // the node's name; "zookeeper" for ZooKeeper
  fs::path dir;
  // ZooKeeper and memcached: {client port}; ClickHouse: {tcp, http, interserver}.
  std::vector<uint16_t> ports;
  size_t shard_idx = 0;                  // ClickHouse: its shard in the layout
  LoopbackOptions::Memcached memcached;  // memcached: its options
  // Guarded by Impl::pid_mutex_: 0 once reaped, so a PID that may have been reused by now is
  // never signalled.
  pid_t pid = 0;
  int wait_status = 0;  // of the last run, once reaped
  // The sizes of the logs when the current run began.
  std::vector<std::uintmax_t> log_offsets;

  std::string label() const {
    switch (kind) {
      case Kind::kZooKeeper:
        return "zookeeper";
      case Kind::kClickHouse:
        return "clickhouse-server " + name;
      case Kind::kMemcached:
        return "memcached " + name;
    }
    return name;
  }
  std::string address() const {
    if (kind == Kind::kClickHouse) {
      return fmt::format("{}:{} (tcp), {}:{} (http)", kLoopback, ports[kTcp], kLoopback,
                         ports[kHttp]);
    }
    return fmt::format("{}:{}", kLoopback, ports[0]);
  }
  fs::path log_dir() const { return dir / "log"; }
  // The logs a failure report quotes, the most telling first.
  std::vector<fs::path> logs() const {
    if (kind == Kind::kClickHouse) return {log_dir() / "server.err.log", log_dir() / "stdout.log"};
    return {log_dir() / "stdout.log"};
  }
};

// What the servers cannot be configured from, refused before anything starts.
void check_options(const LoopbackOptions& options) {
  const ClusterLayout& layout = options.layout;
  check_element_name(layout.name, "cluster name");
  for (const auto& [setting, value] : options.profile_settings) {
    check_element_name(setting, "profile setting");
  }
  std::map<std::string, size_t> shard_of;
  for (size_t shard_idx = 0; shard_idx < layout.shards.size(); ++shard_idx) {
    const ClusterLayout::Shard& shard = layout.shards[shard_idx];
    if (shard.replicas.empty()) {
      throw RuntimeError(
          fmt::format("cluster '{}': shard {} has no replicas", layout.name, shard_idx + 1));
    }
    for (const std::string& node : shard.replicas) {
      check_node_name(node, "clickhouse node");
      const auto [it, inserted] = shard_of.emplace(node, shard_idx);
      if (inserted) continue;
      if (it->second == shard_idx) {
        throw RuntimeError(fmt::format("cluster '{}': node '{}' is named twice in shard {}",
                                       layout.name, node, shard_idx + 1));
      }
      // 18.16 reads one {shard} macro per server, which ReplicatedMergeTree paths name.
      throw RuntimeError(fmt::format(
          "cluster '{}': node '{}' holds replicas of shards {} and {}; loopback live mode needs "
          "one shard per server (ClickHouse 18.16 gives a server one {{shard}} macro)",
          layout.name, node, it->second + 1, shard_idx + 1));
    }
  }
}

struct LaunchOutcome {
  bool ready = false;
  bool port_in_use = false;  // the server failed because a port was taken: new ports may help
  std::string failure;
};

}  // namespace

struct LoopbackCluster::Impl {
  explicit Impl(LoopbackOptions options);
  ~Impl() { stop_all(); }

  // The servers of the options, none started yet.
  void add_servers();
  // Names the missing Debian package before anything starts.
  void check_packages();
  void start_all();
  void stop_all() noexcept;
  void start(Server& server);
  void stop(Server& server, int first_signal);

  Server& clickhouse(const std::string& node) const;
  Server& memcached(const std::string& node) const;
  bool alive(Server& server);

  // The server's PID while it runs, else 0.
  pid_t running_pid(Server& server);
  bool reap_locked(Server& server);
  void signal(Server& server, int signal_number);
  bool wait_gone(const std::vector<Server*>& group, Clock::time_point deadline);
  // Sends `first_signal`, and SIGKILL to those still running after kStopBound. Returns the
  // servers that outlived even SIGKILL's bound.
  std::vector<Server*> stop_group(const std::vector<Server*>& group, int first_signal);

  void start_server(Server& server, bool may_move_ports);
  // Spawns the server and waits until it answers, exits, or the bound passes (then kills it).
  LaunchOutcome launch(Server& server);
  // `what` happened to the run `pid` of `server`, with the last lines its logs got meanwhile.
  LaunchOutcome failed(const Server& server, pid_t pid, const std::string& what) const;
  bool answers(const Server& server) const;
  void write_config(const Server& server) const;
  SpawnRequest command(const Server& server) const;
  uint16_t take_free_port();
  void move_ports(Server& server);

  std::string zookeeper_config(const Server& server) const;
  std::string clickhouse_config(const Server& server) const;
  std::string clickhouse_users() const;

  LoopbackOptions options_;
  std::unique_ptr<Server> zookeeper_;
  std::vector<std::unique_ptr<Server>> clickhouse_;  // in layout order
  std::vector<std::unique_ptr<Server>> memcached_;   // in options order
  std::string java_;                                 // when options_.zookeeper
  std::map<std::string, Server*> clickhouse_by_name_;
  std::map<std::string, Server*> memcached_by_name_;
  std::set<uint16_t> ports_given_;  // every port handed to a server of this object
  int next_port_offset_ = 0;
  // Serialises starting and stopping, which may come from several threads.
  std::mutex lifecycle_mutex_;
  std::mutex pid_mutex_;
  Spawner spawner_;
};

LoopbackCluster::Impl::Impl(LoopbackOptions options) : options_(std::move(options)) {
  check_options(options_);
  add_servers();
  check_packages();
  // Spread concurrent shardlab processes over the range, so they rarely probe the same ports.
  constexpr int kRange = kLastPort - kFirstPort + 1;
  next_port_offset_ = static_cast<int>((static_cast<long>(::getpid()) * 97) % kRange);
}

void LoopbackCluster::Impl::add_servers() {
  const ClusterLayout& layout = options_.layout;
  for (const LoopbackOptions::Memcached& cache : options_.memcached) {
    check_node_name(cache.name, "memcached node");
    if (memcached_by_name_.count(cache.name) != 0) {
      throw RuntimeError(fmt::format("memcached node '{}' is named twice", cache.name));
    }
    if (cache.threads < 1) {
      throw RuntimeError(
          fmt::format("memcached node '{}': threads must be at least 1", cache.name));
    }
    auto server = std::make_unique<Server>();
    server->kind = Kind::kMemcached;
    server->name = cache.name;
    server->dir = options_.root / "memcached" / cache.name;
    server->ports.assign(1, 0);
    server->memcached = cache;
    memcached_by_name_[cache.name] = server.get();
    memcached_.push_back(std::move(server));
  }
  for (size_t shard_idx = 0; shard_idx < layout.shards.size(); ++shard_idx) {
    for (const std::string& node : layout.shards[shard_idx].replicas) {
      auto server = std::make_unique<Server>();
      server->kind = Kind::kClickHouse;
      server->name = node;
      server->dir = options_.root / "clickhouse" / node;
      server->ports.assign(3, 0);
      server->shard_idx = shard_idx;
      clickhouse_by_name_[node] = server.get();
      clickhouse_.push_back(std::move(server));
    }
  }
  if (options_.zookeeper) {
    zookeeper_ = std::make_unique<Server>();
    zookeeper_->kind = Kind::kZooKeeper;
    zookeeper_->name = "zookeeper";
    zookeeper_->dir = options_.root / "zookeeper";
    zookeeper_->ports.assign(1, 0);
  }
}

void LoopbackCluster::Impl::check_packages() {
  if (options_.zookeeper) {
    java_ = find_on_path("java");
    if (java_.empty() || !fs::exists(kZooKeeperJar) || !fs::exists(kSlf4jSimpleJar)) {
      throw RuntimeError(fmt::format(
          "zookeeper: {} not found; install the Debian package 'zookeeper' (it pulls OpenJDK)",
          java_.empty() ? std::string("'java'")
                        : fmt::format("'{}' or '{}'", kZooKeeperJar, kSlf4jSimpleJar)));
    }
  }
  if (!clickhouse_.empty() && ::access(kClickHouseBinary, X_OK) != 0) {
    throw RuntimeError(fmt::format("{} not found; install the Debian package 'clickhouse-server'",
                                   kClickHouseBinary));
  }
  if (!memcached_.empty() && find_on_path("memcached").empty()) {
    throw RuntimeError("'memcached' not found; install the Debian package 'memcached'");
  }
}

uint16_t LoopbackCluster::Impl::take_free_port() {
  constexpr int kRange = kLastPort - kFirstPort + 1;
  for (int step = 0; step < kRange; ++step) {
    const auto port = static_cast<uint16_t>(kFirstPort + (next_port_offset_ + step) % kRange);
    if (ports_given_.count(port) != 0 || !port_is_free(port)) continue;
    ports_given_.insert(port);
    next_port_offset_ = (port - kFirstPort + 1) % kRange;
    return port;
  }
  throw RuntimeError(
      fmt::format("no free TCP port on {} in {}..{}", kLoopback, kFirstPort, kLastPort));
}

void LoopbackCluster::Impl::move_ports(Server& server) {
  for (uint16_t& port : server.ports) port = take_free_port();
  // Every server's remote_servers names each node's TCP port. The ones already running reread
  // their config.xml within seconds (18.16 reloads clusters with it).
  if (server.kind == Kind::kClickHouse) {
    for (const auto& node : clickhouse_) {
      if (fs::exists(node->dir / "config.xml")) write_config(*node);
    }
  }
}

void LoopbackCluster::Impl::start_all() {
  std::lock_guard lock(lifecycle_mutex_);
  // ZooKeeper first: replicated tables are read-only without it. All ClickHouse ports before
  // the first ClickHouse server, because each names all of them in remote_servers.
  if (zookeeper_) {
    zookeeper_->ports[0] = take_free_port();
    start_server(*zookeeper_, /*may_move_ports=*/true);
  }
  for (const auto& node : clickhouse_) {
    for (uint16_t& port : node->ports) port = take_free_port();
  }
  for (const auto& node : clickhouse_) start_server(*node, /*may_move_ports=*/true);
  for (const auto& cache : memcached_) {
    cache->ports[0] = take_free_port();
    start_server(*cache, /*may_move_ports=*/true);
  }
}

void LoopbackCluster::Impl::start(Server& server) {
  std::lock_guard lock(lifecycle_mutex_);
  if (alive(server)) return;
  // The same ports: the other servers' remote_servers name them.
  start_server(server, /*may_move_ports=*/false);
}

void LoopbackCluster::Impl::start_server(Server& server, bool may_move_ports) {
  // A port found free may be taken before the server binds it: one retry on new ports.
  int moves_left = may_move_ports ? 1 : 0;
  for (;;) {
    const auto busy = std::find_if(server.ports.begin(), server.ports.end(),
                                   [](uint16_t port) { return !port_is_free(port); });
    if (busy != server.ports.end()) {
      if (moves_left-- == 0) {
        throw RuntimeError(fmt::format("{}: port {}:{} is taken by another process", server.label(),
                                       kLoopback, *busy));
      }
      move_ports(server);
      continue;
    }
    LaunchOutcome outcome = launch(server);
    if (outcome.ready) return;
    if (!outcome.port_in_use || moves_left-- == 0) throw RuntimeError(outcome.failure);
    move_ports(server);
  }
}

LaunchOutcome LoopbackCluster::Impl::launch(Server& server) {
  make_directory(server.log_dir());
  write_config(server);
  server.log_offsets.clear();
  for (const fs::path& log : server.logs()) server.log_offsets.push_back(file_size_or_zero(log));

  const pid_t pid = spawner_.spawn(command(server));
  {
    std::lock_guard lock(pid_mutex_);
    server.pid = pid;
    server.wait_status = 0;
  }
  const Clock::time_point deadline = Clock::now() + kStartupBound;
  std::string what;
  for (;;) {
    if (answers(server)) {
      LaunchOutcome ready;
      ready.ready = true;
      return ready;
    }
    if (!alive(server)) {
      what = describe_wait_status(server.wait_status) + " before it answered";
      break;
    }
    if (interrupted()) {
      stop_group({&server}, SIGKILL);
      what = "was interrupted while starting";
      break;
    }
    if (Clock::now() >= deadline) {
      stop_group({&server}, SIGKILL);
      what = fmt::format("did not answer within {} s", kStartupBound.count());
      break;
    }
    std::this_thread::sleep_for(kReadyPollInterval);
  }
  return failed(server, pid, what);
}

LaunchOutcome LoopbackCluster::Impl::failed(const Server& server, pid_t pid,
                                            const std::string& what) const {
  LaunchOutcome outcome;
  outcome.failure = fmt::format("{} (pid {}, {}) {}", server.label(), pid, server.address(), what);
  const std::vector<fs::path> logs = server.logs();
  bool quoted = false;
  for (size_t log_idx = 0; log_idx < logs.size(); ++log_idx) {
    const std::string tail = log_tail(logs[log_idx], server.log_offsets[log_idx], kLogTailLines);
    if (tail.empty()) continue;
    quoted = true;
    outcome.port_in_use =
        outcome.port_in_use || tail.find("Address already in use") != std::string::npos;
    outcome.failure += fmt::format("\n--- last lines of {} ---\n{}", logs[log_idx].string(), tail);
  }
  if (!quoted) {
    outcome.failure += fmt::format("; its logs in {} are empty", server.log_dir().string());
  }
  return outcome;
}

bool LoopbackCluster::Impl::answers(const Server& server) const {
  const uint16_t port = server.ports[server.kind == Kind::kClickHouse ? kHttp : 0];
  switch (server.kind) {
    case Kind::kZooKeeper: {
      // `ruok` answers before the server serves; `srvr` reports a Mode only once it does.
      const std::string answer =
          exchange({kLoopback, port}, "srvr", [](const std::string&) { return false; });
      return answer.find("Mode: ") != std::string::npos;
    }
    case Kind::kClickHouse: {
      httplib::Client client(kLoopback, port);
      client.set_connection_timeout(1, 0);
      client.set_read_timeout(5, 0);
      const httplib::Result result = client.Get("/ping");
      return result && result->status == 200 && result->body == "Ok.\n";
    }
    case Kind::kMemcached: {
      return memcached_answers({kLoopback, port});
    }
  }
  return false;
}

void LoopbackCluster::Impl::write_config(const Server& server) const {
  switch (server.kind) {
    case Kind::kZooKeeper:
      make_directory(server.dir / "data");
      base::write_file_atomically(server.dir / "zoo.cfg", zookeeper_config(server));
      return;
    case Kind::kClickHouse:
      make_directory(server.dir / "data");
      make_directory(server.dir / "tmp");
      base::write_file_atomically(server.dir / "users.xml", clickhouse_users());
      base::write_file_atomically(server.dir / "config.xml", clickhouse_config(server));
      return;
    case Kind::kMemcached:
      return;  // configured by its arguments
  }
}

SpawnRequest LoopbackCluster::Impl::command(const Server& server) const {
  SpawnRequest request;
  request.cwd = server.dir;
  request.output = server.log_dir() / "stdout.log";
  switch (server.kind) {
    case Kind::kZooKeeper:
      // Directly, not through zkServer.sh: its zkEnv.sh hard-codes /var/log/zookeeper and
      // brings no logging binding.
      request.program = java_;
      request.args = {"java",
                      kZooKeeperHeap,
                      "-cp",
                      fmt::format("{}:{}", kZooKeeperJar, kSlf4jSimpleJar),
                      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                      (server.dir / "zoo.cfg").string()};
      break;
    case Kind::kClickHouse:
      request.program = kClickHouseBinary;
      request.args = {"clickhouse-server", "--config-file=" + (server.dir / "config.xml").string()};
      break;
    case Kind::kMemcached: {
      request.program = find_on_path("memcached");
      const uint64_t megabytes =
          std::max<uint64_t>(1, (server.memcached.memory_bytes + (uint64_t{1} << 20) - 1) >> 20);
      request.args = {"memcached",
                      "-l",
                      kLoopback,
                      "-p",
                      std::to_string(server.ports[0]),
                      "-U",
                      "0",  // no UDP
                      "-m",
                      std::to_string(megabytes),
                      "-t",
                      std::to_string(server.memcached.threads)};
      // As root it refuses to run (exit 64) unless told which user to be.
      if (::geteuid() == 0) {
        request.args.push_back("-u");
        request.args.push_back("root");
      }
      break;
    }
  }
  return request;
}

std::string LoopbackCluster::Impl::zookeeper_config(const Server& server) const {
  // The minimum session timeout is 2 ticks: short enough for the one ClickHouse asks for,
  // since a replica killed with -9 rejoins only once its old session expired.
  const int tick_ms = std::clamp(options_.zookeeper_session_timeout_ms / 2, 100, 2000);
  return fmt::format(
      "tickTime={}\n"
      "dataDir={}\n"
      "clientPort={}\n"
      "clientPortAddress={}\n"
      // The AdminServer would listen on 0.0.0.0:8080.
      "admin.enableServer=false\n"
      // The readiness probe.
      "4lw.commands.whitelist=srvr\n"
      // The cap is per client address, and every client comes from 127.0.0.1.
      "maxClientCnxns=0\n",
      tick_ms, (server.dir / "data").string(), server.ports[0], kLoopback);
}

std::string LoopbackCluster::Impl::clickhouse_config(const Server& server) const {
  const fs::path log_dir = server.log_dir();
  const fs::path data_dir = server.dir / "data";
  std::string zookeeper;
  if (zookeeper_) {
    zookeeper = fmt::format(
        "    <zookeeper>\n"
        "        <node index=\"1\"><host>{}</host><port>{}</port></node>\n"
        "        <session_timeout_ms>{}</session_timeout_ms>\n"
        "    </zookeeper>\n",
        kLoopback, zookeeper_->ports[0], options_.zookeeper_session_timeout_ms);
  }
  std::string shards;
  for (size_t shard_idx = 0; shard_idx < options_.layout.shards.size(); ++shard_idx) {
    const ClusterLayout::Shard& shard = options_.layout.shards[shard_idx];
    shards += fmt::format(
        "            <shard>\n"
        "                <weight>{}</weight>\n"
        "                <internal_replication>{}</internal_replication>\n",
        shard.weight, options_.layout.internal_replication ? "true" : "false");
    for (const std::string& replica : shard.replicas) {
      shards += fmt::format("                <replica><host>{}</host><port>{}</port></replica>\n",
                            kLoopback, clickhouse_by_name_.at(replica)->ports[kTcp]);
    }
    shards += "            </shard>\n";
  }
  return fmt::format(
      "<?xml version=\"1.0\"?>\n"
      "<yandex>\n"
      "    <logger>\n"
      "        <level>warning</level>\n"
      "        <log>{log}/server.log</log>\n"
      "        <errorlog>{log}/server.err.log</errorlog>\n"
      "        <size>100M</size>\n"
      "        <count>1</count>\n"
      "    </logger>\n"
      "    <listen_host>{host}</listen_host>\n"
      "    <tcp_port>{tcp}</tcp_port>\n"
      "    <http_port>{http}</http_port>\n"
      "    <interserver_http_port>{interserver}</interserver_http_port>\n"
      // Replicas fetch parts from the address their peer announces: loopback, not the hostname.
      "    <interserver_http_host>{host}</interserver_http_host>\n"
      "    <path>{data}/</path>\n"
      "    <tmp_path>{tmp}/</tmp_path>\n"
      "    <user_files_path>{data}/user_files/</user_files_path>\n"
      "    <format_schema_path>{data}/format_schemas/</format_schema_path>\n"
      "    <users_config>{users}</users_config>\n"
      "    <default_profile>default</default_profile>\n"
      "    <default_database>default</default_database>\n"
      "    <timezone>UTC</timezone>\n"
      "    <mlock_executable>false</mlock_executable>\n"
      "    <max_concurrent_queries>{max_queries}</max_concurrent_queries>\n"
      "    <mark_cache_size>{mark_cache}</mark_cache_size>\n"
      "    <uncompressed_cache_size>{uncompressed_cache}</uncompressed_cache_size>\n"
      "{zookeeper}"
      "    <macros>\n"
      "        <shard>{shard:02d}</shard>\n"
      "        <replica>{replica}</replica>\n"
      "    </macros>\n"
      "    <remote_servers>\n"
      "        <{cluster}>\n"
      "{shards}"
      "        </{cluster}>\n"
      "    </remote_servers>\n"
      "</yandex>\n",
      fmt::arg("log", xml_escape(log_dir.string())), fmt::arg("host", kLoopback),
      fmt::arg("tcp", server.ports[kTcp]), fmt::arg("http", server.ports[kHttp]),
      fmt::arg("interserver", server.ports[kInterserver]),
      fmt::arg("data", xml_escape(data_dir.string())),
      fmt::arg("tmp", xml_escape((server.dir / "tmp").string())),
      fmt::arg("users", xml_escape((server.dir / "users.xml").string())),
      fmt::arg("max_queries", kMaxConcurrentQueries), fmt::arg("mark_cache", kMarkCacheBytes),
      fmt::arg("uncompressed_cache", kUncompressedCacheBytes), fmt::arg("zookeeper", zookeeper),
      fmt::arg("shard", server.shard_idx + 1), fmt::arg("replica", xml_escape(server.name)),
      fmt::arg("cluster", options_.layout.name), fmt::arg("shards", shards));
}

std::string LoopbackCluster::Impl::clickhouse_users() const {
  // A per-query memory cap, as the differential test's server has: half the machine, shared by
  // every server of the layout, at least 2 GiB.
  const auto physical = static_cast<uint64_t>(::sysconf(_SC_PAGE_SIZE)) *
                        static_cast<uint64_t>(std::max<long>(::sysconf(_SC_PHYS_PAGES), 0));
  const uint64_t servers = std::max<uint64_t>(1, clickhouse_.size());
  std::map<std::string, std::string> settings = {
      {"max_memory_usage", std::to_string(std::max(uint64_t{2} << 30, physical / (2 * servers)))},
      {"load_balancing", "random"},
  };
  for (const auto& [name, value] : options_.profile_settings) settings[name] = value;
  std::string profile;
  for (const auto& [name, value] : settings) {
    profile += fmt::format("            <{0}>{1}</{0}>\n", name, xml_escape(value));
  }
  return fmt::format(
      "<?xml version=\"1.0\"?>\n"
      "<yandex>\n"
      "    <profiles>\n"
      "        <default>\n"
      "{}"
      "        </default>\n"
      "    </profiles>\n"
      "    <users>\n"
      "        <default>\n"
      "            <password></password>\n"
      "            <networks><ip>{}</ip></networks>\n"
      "            <profile>default</profile>\n"
      "            <quota>default</quota>\n"
      "        </default>\n"
      "    </users>\n"
      "    <quotas>\n"
      "        <default>\n"
      "            <interval>\n"
      "                <duration>3600</duration>\n"
      "                <queries>0</queries>\n"
      "                <errors>0</errors>\n"
      "                <result_rows>0</result_rows>\n"
      "                <read_rows>0</read_rows>\n"
      "                <execution_time>0</execution_time>\n"
      "            </interval>\n"
      "        </default>\n"
      "    </quotas>\n"
      "</yandex>\n",
      profile, kLoopback);
}

bool LoopbackCluster::Impl::reap_locked(Server& server) {
  if (server.pid == 0) return false;
  int status = 0;
  pid_t reaped;
  do {
    reaped = ::waitpid(server.pid, &status, WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  if (reaped == 0) return true;
  // reaped < 0 means ECHILD: our child, so already reaped, gone either way.
  server.wait_status = reaped == server.pid ? status : 0;
  server.pid = 0;
  return false;
}

bool LoopbackCluster::Impl::alive(Server& server) {
  std::lock_guard lock(pid_mutex_);
  return reap_locked(server);
}

pid_t LoopbackCluster::Impl::running_pid(Server& server) {
  std::lock_guard lock(pid_mutex_);
  return reap_locked(server) ? server.pid : 0;
}

void LoopbackCluster::Impl::signal(Server& server, int signal_number) {
  std::lock_guard lock(pid_mutex_);
  if (reap_locked(server)) ::kill(server.pid, signal_number);
}

bool LoopbackCluster::Impl::wait_gone(const std::vector<Server*>& group,
                                      Clock::time_point deadline) {
  for (;;) {
    const bool all_gone =
        std::none_of(group.begin(), group.end(), [this](Server* server) { return alive(*server); });
    if (all_gone) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kExitPollInterval);
  }
}

std::vector<Server*> LoopbackCluster::Impl::stop_group(const std::vector<Server*>& group,
                                                       int first_signal) {
  for (Server* server : group) signal(*server, first_signal);
  if (!wait_gone(group, Clock::now() + kStopBound) && first_signal != SIGKILL) {
    for (Server* server : group) signal(*server, SIGKILL);
    wait_gone(group, Clock::now() + kStopBound);
  }
  std::vector<Server*> survivors;
  for (Server* server : group) {
    if (alive(*server)) survivors.push_back(server);
  }
  return survivors;
}

void LoopbackCluster::Impl::stop(Server& server, int first_signal) {
  std::lock_guard lock(lifecycle_mutex_);
  const pid_t pid = running_pid(server);
  if (!stop_group({&server}, first_signal).empty()) {
    throw RuntimeError(fmt::format("{} (pid {}) did not exit within {} s of SIGKILL",
                                   server.label(), pid, kStopBound.count()));
  }
}

void LoopbackCluster::Impl::stop_all() noexcept {
  try {
    std::lock_guard lock(lifecycle_mutex_);
    // All at once, since each ClickHouse server takes seconds to stop. ZooKeeper last: the
    // ClickHouse servers close their sessions on the way out.
    std::vector<Server*> first;
    for (const auto& server : clickhouse_) first.push_back(server.get());
    for (const auto& server : memcached_) first.push_back(server.get());
    std::vector<Server*> survivors = stop_group(first, SIGTERM);
    if (zookeeper_) {
      const std::vector<Server*> zookeeper_survivors = stop_group({zookeeper_.get()}, SIGTERM);
      survivors.insert(survivors.end(), zookeeper_survivors.begin(), zookeeper_survivors.end());
    }
    for (Server* server : survivors) {
      std::fprintf(stderr, "shardlab: %s (pid %d) did not exit within %lld s of SIGKILL\n",
                   server->label().c_str(), static_cast<int>(running_pid(*server)),
                   static_cast<long long>(kStopBound.count()));
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "shardlab: stopping the loopback cluster: %s\n", error.what());
  }
}

Server& LoopbackCluster::Impl::clickhouse(const std::string& node) const {
  const auto it = clickhouse_by_name_.find(node);
  SHARDLAB_ASSERT(it != clickhouse_by_name_.end(), "'{}' is no clickhouse node of the layout",
                  node);
  return *it->second;
}

Server& LoopbackCluster::Impl::memcached(const std::string& node) const {
  const auto it = memcached_by_name_.find(node);
  SHARDLAB_ASSERT(it != memcached_by_name_.end(), "'{}' is no memcached node of the options", node);
  return *it->second;
}

LoopbackCluster::LoopbackCluster(LoopbackOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  // A failure half-way destroys impl_, whose destructor stops what did start.
  impl_->start_all();
}

LoopbackCluster::~LoopbackCluster() { impl_->stop_all(); }

Endpoint LoopbackCluster::clickhouse_http(const std::string& node) const {
  return {kLoopback, impl_->clickhouse(node).ports[kHttp]};
}

Endpoint LoopbackCluster::clickhouse_tcp(const std::string& node) const {
  return {kLoopback, impl_->clickhouse(node).ports[kTcp]};
}

Endpoint LoopbackCluster::memcached(const std::string& node) const {
  return {kLoopback, impl_->memcached(node).ports[0]};
}

Endpoint LoopbackCluster::zookeeper() const {
  SHARDLAB_ASSERT(impl_->zookeeper_ != nullptr, "zookeeper() of a cluster without ZooKeeper");
  return {kLoopback, impl_->zookeeper_->ports[0]};
}

void LoopbackCluster::kill(const std::string& node) {
  impl_->stop(impl_->clickhouse(node), SIGKILL);
}

void LoopbackCluster::terminate(const std::string& node) {
  impl_->stop(impl_->clickhouse(node), SIGTERM);
}

void LoopbackCluster::start(const std::string& node) { impl_->start(impl_->clickhouse(node)); }

bool LoopbackCluster::running(const std::string& node) const {
  return impl_->alive(impl_->clickhouse(node));
}

pid_t LoopbackCluster::pid(const std::string& node) const {
  return impl_->running_pid(impl_->clickhouse(node));
}

void LoopbackCluster::stop_all() noexcept { impl_->stop_all(); }

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  ::sigemptyset(&action.sa_mask);
  // Restarted system calls keep library code (the HTTP client, say) free of EINTR; the run
  // notices the flag at its next poll.
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return g_interrupted != 0; }

}  // namespace shardlab::live
