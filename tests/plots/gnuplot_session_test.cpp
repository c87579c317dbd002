#include "plots/gnuplot_session.h"

#include <gnuplot-iostream.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <string>

#include "base/errors.h"

using shardlab::RuntimeError;
using shardlab::plots::GnuplotSession;

namespace {

bool sigpipe_blocked() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

TEST_CASE("a gnuplot session returns gnuplot's messages on success", "[plots]") {
  GnuplotSession session("gnuplot", "test session");
  session.gp() << "print 6*7\n";
  CHECK(session.finish() == "42");
  CHECK_FALSE(sigpipe_blocked());
}

TEST_CASE("gnuplot's errors are reported with its message and exit status", "[plots]") {
  GnuplotSession session("gnuplot", "drawing 'x'");
  session.gp() << "set terminal dumb\nthis_is_not_a_command\nprint 1\n";
  try {
    session.finish();
    FAIL("no error reported");
  } catch (const RuntimeError& error) {
    const std::string message = error.what();
    CHECK(message.starts_with("drawing 'x': gnuplot exited with status 1"));
    CHECK(message.find("this_is_not_a_command") != std::string::npos);
    CHECK(message.find("invalid command") != std::string::npos);
  }
  CHECK_FALSE(sigpipe_blocked());
}

TEST_CASE("a missing gnuplot is an error that names it", "[plots]") {
  try {
    GnuplotSession session("shardlab-no-such-gnuplot", "drawing 'x'");
    FAIL("started a program that does not exist");
  } catch (const RuntimeError& error) {
    const std::string message = error.what();
    CHECK(message.find("drawing 'x': cannot run gnuplot") != std::string::npos);
    CHECK(message.find("'shardlab-no-such-gnuplot' was not found on PATH") != std::string::npos);
    CHECK(message.find("gnuplot-nox") != std::string::npos);
  }
  CHECK_THROWS_WITH(GnuplotSession("/nonexistent/bin/gnuplot", "x"),
                    Catch::Contains("'/nonexistent/bin/gnuplot' was not found;"));
  CHECK_FALSE(sigpipe_blocked());
}

TEST_CASE("a gnuplot that stops reading is an error, not a SIGPIPE", "[plots]") {
  // `true` ignores its arguments and exits at once, like a gnuplot that crashed on start.
  GnuplotSession session("true", "drawing 'x'");
  const std::string line(1000, 'x');
  for (int line_idx = 0; line_idx < 2000; ++line_idx) session.gp() << line << "\n";
  CHECK_THROWS_WITH(session.finish(),
                    Catch::Contains("drawing 'x': gnuplot stopped reading its input"));
  CHECK_FALSE(sigpipe_blocked());
  CHECK_FALSE(sigpipe_pending());
}

TEST_CASE("an abandoned gnuplot session ends quietly", "[plots]") {
  {
    GnuplotSession session("gnuplot", "abandoned");
    session.gp() << "set terminal dumb\n";
  }
  CHECK_FALSE(sigpipe_blocked());
}

TEST_CASE("probing gnuplot: version and terminals", "[plots]") {
  const shardlab::plots::GnuplotInfo info = shardlab::plots::probe_gnuplot("gnuplot", "probe");
  CHECK(info.version.find('.') != std::string::npos);
  CHECK(info.has_svg);
  CHECK((info.has_pngcairo || info.has_png));
  CHECK_THROWS_WITH(shardlab::plots::probe_gnuplot("shardlab-no-such-gnuplot", "probe"),
                    Catch::StartsWith("probe: cannot run gnuplot: the program"));
}
