#include "plots/figure.h"

#include <fcntl.h>
#include <gnuplot-iostream.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <system_error>
#include <vector>

#include "base/errors.h"
#include "plots/gnuplot_session.h"

namespace shardlab::plots {
namespace {

namespace fs = std::filesystem;

// Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2008) without its yellow,
// which is unreadable as a line on white; Paul Tol's wine takes its place, and black comes last.
constexpr std::array<const char*, 8> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#882255", "#000000"};

bool valid_stem(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (const char ch : name) {
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!plain) return false;
  }
  return true;
}

// Asked once per program and process: gnuplot's terminals do not change while shardlab runs.
GnuplotInfo gnuplot_info(const std::string& program, const std::string& context) {
  static std::mutex mutex;
  static std::map<std::string, GnuplotInfo, std::less<>> known;
  const std::lock_guard lock(mutex);
  auto found = known.find(program);
  if (found == known.end()) found = known.emplace(program, probe_gnuplot(program, context)).first;
  return found->second;
}

// The terminal for each output, in the order of the destinations: PNG, then SVG.
struct Terminal {
  std::string command;  // what follows "set terminal", before size and font
};

// pngcairo antialiases and draws text as the SVG does; libgd's png is the fallback for a gnuplot
// built without cairo. The SVG is static (no mouse JavaScript) and names no date, so equal data
// give equal bytes.
std::array<Terminal, 2> terminals(const std::string& program, const std::string& context) {
  const GnuplotInfo info = gnuplot_info(program, context);
  if (!info.has_svg || !(info.has_pngcairo || info.has_png)) {
    throw RuntimeError(fmt::format(
        "{}: gnuplot {} ('{}') lacks the {}; install a full build (Debian package gnuplot-nox)",
        context, info.version, program,
        info.has_svg ? "pngcairo and png terminals" : "svg terminal"));
  }
  return {Terminal{info.has_pngcairo ? "pngcairo" : "png"}, Terminal{"svg fixed"}};
}

// Removes the temporary files of a render unless they were published.
class TemporaryFiles {
 public:
  void add(fs::path path) { paths_.push_back(std::move(path)); }
  const fs::path& operator[](size_t index) const { return paths_[index]; }
  void release() { paths_.clear(); }
  ~TemporaryFiles() {
    for (const fs::path& path : paths_) ::unlink(path.c_str());
  }

 private:
  std::vector<fs::path> paths_;
};

[[noreturn]] void fail_publish(const fs::path& destination, std::string_view step,
                               const fs::path& subject, int error) {
  throw RuntimeError(fmt::format("cannot write '{}': {} '{}': {}", destination.string(), step,
                                 subject.string(), std::strerror(error)));
}

// Makes the temporary file durable and checks that gnuplot wrote something into it.
void sync_output(const fs::path& temporary, const fs::path& destination) {
  const int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_publish(destination, "gnuplot did not create", temporary, errno);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) fail_publish(destination, "cannot fsync", temporary, error);
  if (size <= 0) {
    throw RuntimeError(fmt::format("cannot write '{}': gnuplot left '{}' empty",
                                   destination.string(), temporary.string()));
  }
}

// gnuplot's SVG embeds `with image` data (heatmaps) as a small PNG stretched over the plot,
// which SVG viewers smooth: ten node rows blur into one gradient. Asking for nearest-neighbour
// scaling keeps the cells sharp. Tags that already say how to render are left alone.
void sharpen_svg_images(const fs::path& svg, const fs::path& destination) {
  std::string text;
  {
    std::ifstream in(svg, std::ios::binary);
    if (!in) return;  // sync_output() reports the missing file
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  constexpr std::string_view kTag = "<image ";
  constexpr std::string_view kAttribute = "image-rendering='optimizeSpeed' ";
  bool changed = false;
  for (size_t at = text.find(kTag); at != std::string::npos; at = text.find(kTag, at + 1)) {
    const size_t end = text.find('>', at);
    if (text.substr(at, end - at).find("image-rendering") != std::string::npos) continue;
    text.insert(at + kTag.size(), kAttribute);
    changed = true;
  }
  if (!changed) return;
  std::ofstream out(svg, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) fail_publish(destination, "cannot rewrite", svg, errno);
}

void sync_directory(const fs::path& dir, const fs::path& destination) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_publish(destination, "cannot open directory", dir, errno);
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) fail_publish(destination, "cannot fsync directory", dir, error);
}

}  // namespace

std::string gnuplot_quote(std::string_view text) {
  std::string out = "'";
  for (const char ch : text) {
    if (ch == '\'') {
      out += "''";
    } else if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out + "'";
}

std::string line_colour(size_t index) {
  return fmt::format("rgb '{}'", kPalette[index % kPalette.size()]);
}

std::string line_style(size_t index) {
  // gnuplot's dash types 1..5: solid, dashed, dotted, dash-dot, dash-dot-dot.
  const size_t dash = index / kPalette.size() % 5 + 1;
  return fmt::format("lc {} dt {}", line_colour(index), dash);
}

TimeAxis time_axis(double span_s) {
  // Past three units of the next size up, the smaller unit's labels get long.
  if (span_s > 3 * 3600.0) return {3600.0, "simulated time (h)"};
  if (span_s > 3 * 60.0) return {60.0, "simulated time (min)"};
  return {1.0, "simulated time (s)"};
}

RenderedPlot render_figure(const fs::path& dir, std::string_view name, std::string title,
                           int height_px, const PlotOptions& options, const FigureBody& body) {
  SHARDLAB_ASSERT(valid_stem(name), "plot name '{}' is not a plain file stem", name);
  SHARDLAB_ASSERT(options.width_px > 0 && height_px > 0, "plot size {}x{} is not positive",
                  options.width_px, height_px);
  RenderedPlot plot;
  plot.name = std::string(name);
  plot.title = std::move(title);
  plot.png = plot.name + ".png";
  plot.svg = plot.name + ".svg";

  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    throw RuntimeError(fmt::format("cannot write plot '{}': '{}' is not a directory",
                                   (dir / plot.png).string(), dir.string()));
  }
  const std::array<fs::path, 2> destinations = {dir / plot.png, dir / plot.svg};
  TemporaryFiles temporaries;
  for (const fs::path& destination : destinations) {
    fs::path temporary = destination;
    temporary += ".tmp." + std::to_string(::getpid());
    temporaries.add(std::move(temporary));
  }

  const std::string context = fmt::format("cannot draw plot '{}'", (dir / plot.name).string());
  const std::array<Terminal, 2> outputs = terminals(options.gnuplot, context);
  GnuplotSession session(options.gnuplot, context);
  gnuplotio::Gnuplot& gp = session.gp();
  for (size_t terminal_idx = 0; terminal_idx < outputs.size(); ++terminal_idx) {
    gp << "set encoding utf8\n"
       << "set terminal " << outputs[terminal_idx].command << " size " << options.width_px << ","
       << height_px << " font " << gnuplot_quote(options.font)
       << " noenhanced background rgb 'white'\n"
       << "set output " << gnuplot_quote(temporaries[terminal_idx].string()) << "\n"
       << "reset\n"
       << "set micro\n";
    body(gp);
    // Closing the output finishes the file; a body that left multiplot open is closed first.
    gp << "unset multiplot\nset output\n";
  }
  session.finish();

  sharpen_svg_images(temporaries[1], destinations[1]);
  for (size_t file_idx = 0; file_idx < destinations.size(); ++file_idx) {
    sync_output(temporaries[file_idx], destinations[file_idx]);
  }
  for (size_t file_idx = 0; file_idx < destinations.size(); ++file_idx) {
    if (::rename(temporaries[file_idx].c_str(), destinations[file_idx].c_str()) != 0) {
      fail_publish(destinations[file_idx], "cannot rename", temporaries[file_idx], errno);
    }
  }
  temporaries.release();
  sync_directory(dir, destinations[0]);
  return plot;
}

RenderedPlot render_placeholder(const fs::path& dir, std::string_view name, std::string title,
                                std::string note, const PlotOptions& options) {
  const std::string heading = title;
  const std::string message = "No data: " + note;
  RenderedPlot plot = render_figure(
      dir, name, std::move(title), options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
        gp << "unset border\nunset tics\nunset key\n"
           << "set xrange [0:1]\nset yrange [0:1]\n"
           << "set title " << gnuplot_quote(heading) << "\n"
           << "set label 1 " << gnuplot_quote(message)
           << " at graph 0.5, graph 0.5 center\n"
           // Off the y range: draws nothing but makes gnuplot emit the page.
           << "plot 2 notitle\n";
      });
  plot.placeholder = true;
  plot.note = std::move(note);
  return plot;
}

std::string bar_tics(const std::vector<std::string>& labels) {
  std::string tics = "set xtics (";
  for (size_t idx = 0; idx < labels.size(); ++idx) {
    if (idx > 0) tics += ", ";
    tics += gnuplot_quote(labels[idx]) + " " + std::to_string(idx);
  }
  tics += ")";
  if (labels.size() > 4) tics += " rotate by -30";
  return tics + "\n";
}


}  // namespace shardlab::plots
