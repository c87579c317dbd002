// The settings every renderer shares, and what a renderer hands back.
#pragma once

#include <string>

namespace shardlab::plots {

struct PlotOptions {
  // The gnuplot program: a name looked up on PATH, or a path.
  std::string gnuplot = "gnuplot";
  // Fixed canvas and font so that the same data gives the same image on every run. The height
  // of multi-panel figures grows with the number of panels (see each renderer).
  int width_px = 960;
  int height_px = 540;
  // DejaVu Sans is Debian's fontconfig default; a missing face is substituted by fontconfig.
  std::string font = "DejaVu Sans,10";
};

// One rendered figure: `png` and `svg` are file names relative to the directory it was
// rendered into (so a report in that directory can link them as they are).
struct RenderedPlot {
  std::string name;   // the file stem, e.g. "latency_cdf"
  std::string title;  // what the figure shows, for captions
  std::string png;    // "latency_cdf.png"
  std::string svg;    // "latency_cdf.svg"
  // True when there was nothing to draw and the files show a "no data" message instead;
  // `note` then says why.
  bool placeholder = false;
  std::string note;
};

}  // namespace shardlab::plots
