#include "plots/pareto_plot.h"

#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "plots/figure.h"

namespace shardlab::plots {

RenderedPlot render_pareto(const std::filesystem::path& dir, std::string_view name,
                           const std::string& query, double target_s,
                           const std::vector<ParetoPoint>& points, const PlotOptions& options) {
  const std::string title = "Cost against the p99 of " + query;
  std::vector<ParetoPoint> drawn;
  for (const ParetoPoint& p : points) {
    if (std::isfinite(p.p99_s) && p.p99_s > 0 && std::isfinite(p.cost)) drawn.push_back(p);
  }
  if (drawn.empty()) return render_placeholder(dir, name, title, "no candidate with a p99", options);
  // The front: by cost, each point faster than every cheaper one.
  std::sort(drawn.begin(), drawn.end(),
            [](const ParetoPoint& a, const ParetoPoint& b) { return a.cost < b.cost; });
  std::vector<std::pair<double, double>> front;
  double best = INFINITY;
  for (const ParetoPoint& p : drawn) {
    if (p.p99_s < best) {
      best = p.p99_s;
      front.emplace_back(p.cost, p.p99_s);
    }
  }
  const auto subset = [&](auto keep) {
    std::vector<std::pair<double, double>> out;
    for (const ParetoPoint& p : drawn) {
      if (keep(p)) out.emplace_back(p.cost, p.p99_s);
    }
    if (out.empty()) out.emplace_back(NAN, NAN);
    return out;
  };
  const auto predicted = subset([](const ParetoPoint& p) { return !p.simulated; });
  const auto refuted = subset([](const ParetoPoint& p) { return p.simulated && !p.feasible; });
  const auto confirmed = subset([](const ParetoPoint& p) { return p.simulated && p.feasible; });
  return render_figure(dir, name, title, options.height_px, options, [&](gnuplotio::Gnuplot& gp) {
    gp << "set title " << gnuplot_quote(title) << "\n"
       << "set xlabel 'cost per hour'\nset ylabel 'p99 (s), log scale'\n"
       << "set logscale y\nset grid\nset key outside right top\n";
    if (target_s > 0) {
      gp << "set arrow from graph 0, first " << target_s << " to graph 1, first " << target_s
         << " nohead lc rgb '#D55E00' dt 2 lw 1.5\n"
         << "set label 'target' at graph 0.01, first " << target_s * 1.15 << " tc rgb '#D55E00'\n";
    }
    gp << "plot '-' using 1:2 with lines lc rgb '#999999' lw 1 title 'Pareto front', "
       << "'-' using 1:2 with points pt 6 ps 1.2 lc " << line_colour(0)
       << " title 'screened (predicted)', "
       << "'-' using 1:2 with points pt 2 ps 1.5 lc rgb '#D55E00' title 'refuted (simulated)', "
       << "'-' using 1:2 with points pt 7 ps 1.8 lc rgb '#009E73' title 'confirmed (simulated)'\n";
    gp.send1d(front);
    gp.send1d(predicted);
    gp.send1d(refuted);
    gp.send1d(confirmed);
  });
}

}  // namespace shardlab::plots
