#include "plots/gnuplot_session.h"

#include <fcntl.h>
#include <gnuplot-iostream.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "base/errors.h"

extern char** environ;

namespace shardlab::plots {
namespace {

// gnuplot echoes each bad line with a caret under it; the first errors say what went wrong and
// the rest usually follow from them, so an error message quotes only the beginning.
constexpr size_t kQuotedOutputBytes = 2000;
// gnuplot's warnings on success are returned whole up to this size.
constexpr size_t kMaxCapturedBytes = 1 << 16;

sigset_t sigpipe_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}

std::string trimmed(std::string text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

std::string quoted_output(const std::string& output) {
  if (output.size() <= kQuotedOutputBytes) return output;
  return output.substr(0, kQuotedOutputBytes) +
         fmt::format("\n[... {} more bytes of gnuplot output]", output.size() - kQuotedOutputBytes);
}

std::string spawn_failure(const std::string& program, int error) {
  if (error == ENOENT) {
    return fmt::format(
        "cannot run gnuplot: the program '{}' was not found{}; plots need gnuplot (Debian "
        "package gnuplot-nox)",
        program, program.find('/') == std::string::npos ? " on PATH" : "");
  }
  return fmt::format("cannot run gnuplot: cannot start '{}': {}", program, std::strerror(error));
}

}  // namespace

GnuplotSession::GnuplotSession(const std::string& program, std::string context)
    : program_(program), context_(std::move(context)) {
  const sigset_t pipe_set = sigpipe_set();
  pthread_sigmask(SIG_BLOCK, &pipe_set, &saved_mask_);
  mask_saved_ = true;
  sigpipe_was_blocked_ = sigismember(&saved_mask_, SIGPIPE) == 1;

  int pipe_fds[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  bool actions_ready = false;
  bool attributes_ready = false;
  auto cleanup = [&] {
    if (actions_ready) posix_spawn_file_actions_destroy(&actions);
    if (attributes_ready) posix_spawnattr_destroy(&attributes);
    if (pipe_fds[0] >= 0) ::close(pipe_fds[0]);
  };
  try {
    // In memory rather than a pipe: gnuplot may write more than a pipe holds while we are
    // still writing its input, and nobody would be reading.
    output_fd_ = ::memfd_create("shardlab-gnuplot-output", MFD_CLOEXEC);
    if (output_fd_ < 0) {
      throw RuntimeError(fmt::format("{}: cannot create a buffer for gnuplot's output: {}",
                                     context_, std::strerror(errno)));
    }
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      throw RuntimeError(
          fmt::format("{}: cannot create a pipe to gnuplot: {}", context_, std::strerror(errno)));
    }
    posix_spawn_file_actions_init(&actions);
    actions_ready = true;
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output_fd_, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output_fd_, STDERR_FILENO);
    // gnuplot gets the caller's signal mask, not the one with SIGPIPE blocked.
    posix_spawnattr_init(&attributes);
    attributes_ready = true;
    posix_spawnattr_setsigmask(&attributes, &saved_mask_);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);

    std::string default_settings = "--default-settings";
    char* argv[] = {program_.data(), default_settings.data(), nullptr};
    const int spawned =
        ::posix_spawnp(&pid_, program_.c_str(), &actions, &attributes, argv, environ);
    if (spawned != 0) {
      pid_ = -1;
      throw RuntimeError(fmt::format("{}: {}", context_, spawn_failure(program_, spawned)));
    }
    ::close(pipe_fds[0]);
    pipe_fds[0] = -1;
    std::FILE* input = ::fdopen(pipe_fds[1], "w");
    if (input == nullptr) {
      const int error = errno;
      ::close(pipe_fds[1]);
      pipe_fds[1] = -1;
      throw RuntimeError(
          fmt::format("{}: cannot open the pipe to gnuplot: {}", context_, std::strerror(error)));
    }
    pipe_fds[1] = -1;
    // The stream owns `input` from here and fcloses it when destroyed.
    gp_ = std::make_unique<gnuplotio::Gnuplot>(input);
    cleanup();
  } catch (...) {
    if (pipe_fds[1] >= 0) ::close(pipe_fds[1]);
    cleanup();
    abandon();
    throw;
  }
}

GnuplotSession::~GnuplotSession() { abandon(); }

void GnuplotSession::abandon() noexcept {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
  gp_.reset();
  if (pid_ > 0) reap();
  restore_signal_mask();
  if (output_fd_ >= 0) {
    ::close(output_fd_);
    output_fd_ = -1;
  }
}

gnuplotio::Gnuplot& GnuplotSession::gp() {
  SHARDLAB_ASSERT(gp_ != nullptr, "{}: gnuplot session used after finish()", context_);
  return *gp_;
}

std::string GnuplotSession::finish() {
  SHARDLAB_ASSERT(gp_ != nullptr && pid_ > 0, "{}: gnuplot session finished twice", context_);
  gp_->flush();
  const bool input_failed = !gp_->good();
  // Closing the pipe is gnuplot's end of input.
  gp_.reset();
  const int status = reap();
  restore_signal_mask();
  const std::string output = trimmed(captured_output());
  ::close(output_fd_);
  output_fd_ = -1;

  std::string failure;
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    failure = fmt::format("gnuplot exited with status {}", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    failure = fmt::format("gnuplot was killed by signal {} ({})", WTERMSIG(status),
                          ::strsignal(WTERMSIG(status)));
  } else if (input_failed) {
    failure = "gnuplot stopped reading its input";
  }
  if (failure.empty()) return output;
  if (output.empty())
    throw RuntimeError(fmt::format("{}: {} without a message", context_, failure));
  throw RuntimeError(fmt::format("{}: {}:\n{}", context_, failure, quoted_output(output)));
}

int GnuplotSession::reap() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) {
      status = 0;
      break;
    }
  }
  pid_ = -1;
  return status;
}

void GnuplotSession::restore_signal_mask() {
  if (!mask_saved_) return;
  if (!sigpipe_was_blocked_) {
    // A write to a dead gnuplot left SIGPIPE pending; unblocking would deliver it.
    sigset_t pending;
    sigemptyset(&pending);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const sigset_t pipe_set = sigpipe_set();
      const timespec no_wait{};
      while (sigtimedwait(&pipe_set, nullptr, &no_wait) < 0 && errno == EINTR) {
      }
    }
  }
  pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
  mask_saved_ = false;
}

std::string GnuplotSession::captured_output() const {
  std::string output(kMaxCapturedBytes, '\0');
  size_t filled = 0;
  while (filled < output.size()) {
    const ssize_t got = ::pread(output_fd_, output.data() + filled, output.size() - filled,
                                static_cast<off_t>(filled));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    filled += static_cast<size_t>(got);
  }
  output.resize(filled);
  return output;
}

GnuplotInfo probe_gnuplot(const std::string& program, const std::string& context) {
  GnuplotSession session(program, context);
  // GPVAL_VERSION is a number (5.4), GPVAL_PATCHLEVEL a string ("4").
  session.gp() << "print gprintf('%g', GPVAL_VERSION) . '.' . GPVAL_PATCHLEVEL\n"
               << "print GPVAL_TERMINALS\n";
  const std::string output = session.finish();
  GnuplotInfo info;
  const size_t line_end = output.find('\n');
  info.version = output.substr(0, line_end);
  if (line_end == std::string::npos || info.version.empty()) {
    throw RuntimeError(fmt::format(
        "{}: '{}' does not answer like gnuplot: asked for its version and terminals, it said '{}'",
        context, program, output));
  }
  // The terminal names, space-separated; padded so that each can be found as " name ".
  const std::string terminals = " " + output.substr(line_end + 1) + " ";
  auto has = [&](std::string_view name) {
    return terminals.find(fmt::format(" {} ", name)) != std::string::npos;
  };
  info.has_pngcairo = has("pngcairo");
  info.has_png = has("png");
  info.has_svg = has("svg");
  return info;
}

}  // namespace shardlab::plots
