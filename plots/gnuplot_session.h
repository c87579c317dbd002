// GnuplotSession: one gnuplot process, fed commands and data through gnuplot-iostream.
//
// gnuplot-iostream can start gnuplot itself (popen), but then gnuplot's exit status is lost
// (its destructor only prints "pclose returned error" to std::cerr) and gnuplot's error
// messages land on our stderr. So the session starts gnuplot with posix_spawnp, hands the
// write end of gnuplot's stdin pipe to a gnuplotio::Gnuplot stream, and collects gnuplot's
// stdout and stderr in an anonymous in-memory file. finish() closes the pipe, waits, and turns
// a failure into a RuntimeError that carries gnuplot's first error lines.
//
// gnuplot runs with --default-settings, so no ~/.gnuplot or system gnuplotrc can change the
// output. Reading a pipe, gnuplot does not stop at an error: it reports it, carries on, and
// exits with status 1 at the end of its input. A session therefore fails as a whole.
//
// SIGPIPE: if gnuplot dies while we write, the write fails. While a session lives, SIGPIPE is
// blocked in the calling thread (the failed write then sets the stream's badbit, which
// finish() reports) and a SIGPIPE left pending by it is discarded before the thread's signal
// mask is restored. A session must be created and ended on the same thread.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <string>

namespace gnuplotio {
class Gnuplot;
}

namespace shardlab::plots {

class GnuplotSession {
 public:
  // Starts `program` (a name looked up on PATH, or a path). `context` names what the session
  // is for ("drawing 'out/latency_cdf'") and prefixes every error message. Throws RuntimeError
  // if gnuplot cannot be started, saying that the program is missing when it is.
  GnuplotSession(const std::string& program, std::string context);
  // Without finish(): kills gnuplot and reaps it; nothing is reported.
  ~GnuplotSession();
  GnuplotSession(const GnuplotSession&) = delete;
  GnuplotSession& operator=(const GnuplotSession&) = delete;

  // The command stream; send data with its send1d()/send2d(). REQUIRES: finish() not called.
  gnuplotio::Gnuplot& gp();

  // Ends gnuplot's input and waits for it. Throws RuntimeError if gnuplot exited with a
  // non-zero status or a signal, or stopped reading its input; the message quotes gnuplot's
  // output. Returns gnuplot's output (warnings) on success. REQUIRES: called at most once.
  std::string finish();

 private:
  // Kills and reaps gnuplot if it runs, restores the signal mask, frees everything.
  void abandon() noexcept;
  // Waits for the process; returns the waitpid status.
  int reap();
  void restore_signal_mask();
  std::string captured_output() const;

  std::string program_;
  std::string context_;
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::unique_ptr<gnuplotio::Gnuplot> gp_;
  sigset_t saved_mask_;
  bool sigpipe_was_blocked_ = false;
  bool mask_saved_ = false;
};

// What a gnuplot installation offers, as far as plots/ cares.
struct GnuplotInfo {
  std::string version;  // "5.4.4"
  bool has_pngcairo = false;
  bool has_png = false;  // libgd's PNG terminal, the fallback when gnuplot lacks cairo
  bool has_svg = false;
};

// Runs `program` once and asks it. Throws RuntimeError as GnuplotSession does (`context`
// prefixing the message), so it doubles as an early check that plots can be drawn at all:
// before a long run rather than after it.
GnuplotInfo probe_gnuplot(const std::string& program, const std::string& context);

}  // namespace shardlab::plots
