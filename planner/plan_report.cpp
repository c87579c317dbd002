#include "planner/plan_report.h"

#include <fmt/format.h>

#include <cmath>

#include "base/atomic_file.h"
#include "plots/markup.h"
#include "plots/pareto_plot.h"
#include "results/summary_writer.h"

namespace shardlab::planner {

namespace {

results::Json number_or_null(double value) {
  return std::isfinite(value) ? results::json_number(value) : results::Json(nullptr);
}

std::string figure(double value) { return std::isfinite(value) ? fmt::format("{:.4g}", value) : "–"; }

std::string percent(double share) {
  return std::isfinite(share) ? fmt::format("{:.0f}%", share * 100) : "–";
}

results::Json prediction_json(const Prediction& p) {
  results::Json out = {{"cpu", number_or_null(p.cpu)},
                       {"disk", number_or_null(p.disk)},
                       {"network", number_or_null(p.network)},
                       {"bottleneck", p.bottleneck}};
  results::Json p99 = results::Json::object();
  for (const auto& [name, value] : p.p99_s) p99[name] = number_or_null(value);
  out["p99_s"] = std::move(p99);
  if (p.disk_fill > 0) out["disk_fill"] = number_or_null(p.disk_fill);
  return out;
}

results::Json plan_json(const PlanResult& plan) {
  results::Json doc;
  doc["scenario"] = plan.scenario;
  doc["scale"] = results::json_number(plan.scale);
  doc["window"] = plan.window;
  doc["smoke"] = plan.smoke;
  doc["overrides"] = plan.overrides;
  doc["wall_s"] = results::json_number(plan.wall_s);
  size_t counts[5] = {};
  for (const CandidateResult& c : plan.candidates) ++counts[static_cast<int>(c.status)];
  doc["counts"] = {{"candidates", plan.candidates.size()},
                   {"invalid", counts[0]},
                   {"screened_out", counts[1]},
                   {"not_simulated", counts[2]},
                   {"refuted", counts[3]},
                   {"confirmed", counts[4]}};
  if (plan.recommended) {
    const CandidateResult& r = plan.candidates[*plan.recommended];
    results::Json margins = results::Json::object();
    for (const ConstraintCheck& check : r.checks) {
      if (check.informational) continue;
      margins[check.name] = {{"bound", results::json_number(check.bound)},
                             {"value", number_or_null(check.value)},
                             {"margin", number_or_null(check.margin)}};
    }
    doc["recommended"] = {{"node_type", r.candidate.node_type},
                          {"nodes", r.candidate.nodes},
                          {"shards", r.candidate.shards},
                          {"replicas", r.candidate.replicas},
                          {"cost_per_hour", results::json_number(r.candidate.cost_per_hour)},
                          {"binding_constraint", r.binding},
                          {"margins", std::move(margins)}};
  } else {
    doc["recommended"] = nullptr;
  }
  results::Json candidates = results::Json::array();
  for (const CandidateResult& r : plan.candidates) {
    results::Json c = {{"label", r.candidate.label},
                       {"node_type", r.candidate.node_type},
                       {"nodes", r.candidate.nodes},
                       {"shards", r.candidate.shards},
                       {"replicas", r.candidate.replicas},
                       {"cost_per_hour", results::json_number(r.candidate.cost_per_hour)},
                       {"outcome", status_name(r.status)},
                       {"reason", r.reason}};
    if (!r.candidate.sharding.empty()) c["sharding"] = r.candidate.sharding;
    if (!r.candidate.insert_mode.empty()) c["insert_mode"] = r.candidate.insert_mode;
    if (r.status != CandidateStatus::kInvalid) c["predicted"] = prediction_json(r.prediction);
    if (!r.checks.empty()) {
      results::Json checks = results::Json::array();
      for (const ConstraintCheck& check : r.checks) {
        checks.push_back({{"constraint", check.name},
                          {"bound", results::json_number(check.bound)},
                          {"simulated", number_or_null(check.value)},
                          {"predicted", number_or_null(check.predicted)},
                          {"margin", number_or_null(check.margin)},
                          {"holds", check.holds},
                          {"constraint_enforced", !check.informational}});
      }
      c["checks"] = std::move(checks);
      c["binding_constraint"] = r.binding;
      c["directory"] = r.candidate.dir;
    }
    candidates.push_back(std::move(c));
  }
  doc["candidates"] = std::move(candidates);
  results::Json fits = results::Json::array();
  for (const ScaleFit& fit : plan.fits) {
    results::Json points = results::Json::array();
    for (const auto& [scale, value] : fit.points) {
      points.push_back({results::json_number(scale), number_or_null(value)});
    }
    fits.push_back({{"metric", fit.metric},
                    {"points", std::move(points)},
                    {"a", number_or_null(fit.a)},
                    {"b", number_or_null(fit.b)},
                    {"full_scale", number_or_null(fit.full_scale)},
                    {"rms_residual", number_or_null(fit.rms_residual)},
                    {"bound", fit.bound.empty() ? results::Json() : results::Json(fit.bound)},
                    {"reliable", fit.reliable}});
  }
  doc["scale_fit"] = std::move(fits);
  results::Json sensitivity = results::Json::array();
  for (const Sensitivity& s : plan.sensitivity) {
    sensitivity.push_back(
        {{"growth", results::json_number(s.growth)},
         {"recommended_predicted", prediction_json(s.winner)},
         {"cheapest_passing_screen",
          s.cheapest_passing ? results::Json(s.cheapest_passing->label) : results::Json(nullptr)}});
  }
  doc["sensitivity"] = std::move(sensitivity);
  return doc;
}

std::string plan_markdown(const PlanResult& plan, bool pareto) {
  std::string md = fmt::format("# {}: capacity plan\n\n", plan.scenario);
  md += fmt::format("Simulated at scale {} (rows, insert rate and hardware rates times {}){}{}.",
                    plan.scale, plan.scale,
                    plan.window.empty()
                        ? ""
                        : ", each run " + plan.window + " around the daily insert peak (the rows "
                          "before it loaded as history)",
                    plan.smoke ? ", **smoke run**" : "");
  for (const std::string& o : plan.overrides) md += fmt::format(" `--set {}`", o);
  md += fmt::format(" Planning took {:.0f} s of wall time.\n\n", plan.wall_s);
  size_t screened = 0, simulated = 0, confirmed = 0;
  for (const CandidateResult& c : plan.candidates) {
    screened += c.status == CandidateStatus::kScreenedOut;
    simulated += c.status == CandidateStatus::kRefuted || c.status == CandidateStatus::kConfirmed;
    confirmed += c.status == CandidateStatus::kConfirmed;
  }
  md += fmt::format("{} candidates: {} screened out analytically, {} simulated, {} confirmed.\n\n",
                    plan.candidates.size(), screened, simulated, confirmed);
  if (plan.recommended) {
    const CandidateResult& r = plan.candidates[*plan.recommended];
    md += fmt::format("## Recommended: {} at {:.2f} per hour\n\n", r.candidate.label,
                      r.candidate.cost_per_hour);
    md += fmt::format("Binding constraint (the bottleneck): **{}**.\n\n", r.binding);
    md += "| constraint | bound | simulated | predicted | margin |\n|---|---|---|---|---|\n";
    for (const ConstraintCheck& c : r.checks) {
      md += fmt::format("| {} | {} | {} | {} | {} |\n", c.name, figure(c.bound), figure(c.value),
                        figure(c.predicted), percent(c.margin));
    }
    md += fmt::format("\nSimulated values are the one-sided {}% upper confidence bound over the "
                      "replications; the crash rows come from the single crash run, and the disk "
                      "fill is computed from the simulated bytes per row.\n",
                      plan.confidence * 100);
  } else {
    md += "## No candidate met every constraint\n\nSee each candidate's reason below; widen the "
          "space (more nodes, another node type) or relax a constraint.\n";
  }
  if (!plan.fits.empty()) {
    md += fmt::format(
        "\n## How the winner's metrics scale\n\nEach metric fitted as a + b / scale over the "
        "scales it ran at, with a, b >= 0 (a: work that grows with the data; b: fixed costs a "
        "scaled run inflates); the full-scale column is a + b. A fit is marked reliable with at "
        "least three scales and an rms residual within {:.0f}% of the values; otherwise read the "
        "full-scale figure as a rough guess and confirm at full scale (`--scale 1`).\n\n"
        "| metric | (scale, value) | a | b | bound | rms residual | full scale | reliable |\n"
        "|---|---|---|---|---|---|---|---|\n",
        kReliableResidual * 100);
    for (const ScaleFit& f : plan.fits) {
      std::string points;
      for (const auto& [scale, value] : f.points) {
        points += fmt::format("{}({}, {})", points.empty() ? "" : " ", scale, figure(value));
      }
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", f.metric, points,
                        figure(f.a), figure(f.b), f.bound.empty() ? "free" : f.bound,
                        figure(f.rms_residual), figure(f.full_scale), f.reliable ? "yes" : "no");
    }
  }
  if (!plan.sensitivity.empty()) {
    md += "\n## Sensitivity\n\n";
    for (const Sensitivity& s : plan.sensitivity) {
      md += fmt::format(
          "- At {}x the data and query rates the recommended cluster would run at cpu {}, disk "
          "{}, network {} at the peak ({});",
          s.growth, percent(s.winner.cpu), percent(s.winner.disk), percent(s.winner.network),
          s.winner.bottleneck);
      for (const auto& [name, p99] : s.winner.p99_s) {
        md += fmt::format(" p99 {} {} s;", name, figure(p99));
      }
      md += fmt::format(" the cheapest candidate not refuted that the screen passes is {}.\n",
                        s.cheapest_passing ? s.cheapest_passing->label : "none");
    }
    md += "\n(The screen's predictions, corrected by what the simulations taught it; not "
          "simulations.)\n";
  }
  if (pareto) md += "\n![Cost against the lead query's p99](pareto.png)\n";
  md += "\n## Every candidate\n\n| candidate | cost/h | outcome | predicted cpu / disk / net | "
        "predicted p99 " + plan.lead_template + " | simulated p99 | screen error | why |\n"
        "|---|---|---|---|---|---|---|---|\n";
  for (const CandidateResult& r : plan.candidates) {
    const double predicted = [&]() -> double {
      for (const auto& [name, v] : r.prediction.p99_s) {
        if (name == plan.lead_template) return v;
      }
      return NAN;
    }();
    const double error = std::isfinite(r.simulated_lead_p99) && r.simulated_lead_p99 > 0
                             ? predicted / r.simulated_lead_p99 - 1
                             : NAN;
    md += fmt::format("| {} | {:.2f} | {} | {} | {} | {} | {} | {} |\n", r.candidate.label,
                      r.candidate.cost_per_hour, status_name(r.status),
                      r.status == CandidateStatus::kInvalid
                          ? "–"
                          : fmt::format("{} / {} / {}", percent(r.prediction.cpu),
                                        percent(r.prediction.disk), percent(r.prediction.network)),
                      figure(predicted), figure(r.simulated_lead_p99),
                      std::isfinite(error) ? fmt::format("{:+.0f}%", error * 100) : "–",
                      r.reason);
  }
  md += "\nThe screen error is the predicted p99 over the simulated one, minus one. Each "
        "simulated candidate's runs are in its directory (runs/, crash/).\n";
  return md;
}

// The page for the Markdown above: it uses headings, paragraphs, "- " lists, pipe tables,
// **bold**, `code` and images only, so this converts exactly those.
std::string inline_html(const std::string& text) {
  std::string escaped = plots::html_escape(text);
  std::string out;
  bool bold = false;
  bool code = false;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped.compare(i, 2, "**") == 0) {
      out += bold ? "</b>" : "<b>";
      bold = !bold;
      ++i;
    } else if (escaped[i] == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else {
      out += escaped[i];
    }
  }
  return out;
}

std::string plan_html(const std::string& title, const std::string& md) {
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>\nbody {{ font-family: sans-serif; margin: 2em; }}\n"
      "table {{ border-collapse: collapse; }}\nth, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; }}\n"
      "img {{ max-width: 100%; }}\n</style>\n</head>\n<body>\n",
      plots::html_escape(title));
  bool in_list = false;
  bool in_table = false;
  size_t pos = 0;
  while (pos < md.size()) {
    size_t end = md.find('\n', pos);
    if (end == std::string::npos) end = md.size();
    const std::string line = md.substr(pos, end - pos);
    pos = end + 1;
    if (in_list && !line.starts_with("- ")) {
      html += "</ul>\n";
      in_list = false;
    }
    if (in_table && !line.starts_with("|")) {
      html += "</table>\n";
      in_table = false;
    }
    if (line.starts_with("## ")) {
      html += "<h2>" + inline_html(line.substr(3)) + "</h2>\n";
    } else if (line.starts_with("# ")) {
      html += "<h1>" + inline_html(line.substr(2)) + "</h1>\n";
    } else if (line.starts_with("- ")) {
      if (!in_list) html += "<ul>\n";
      in_list = true;
      html += "<li>" + inline_html(line.substr(2)) + "</li>\n";
    } else if (line.starts_with("|---")) {
      continue;
    } else if (line.starts_with("|")) {
      const bool header = !in_table;
      if (!in_table) html += "<table>\n";
      in_table = true;
      html += "<tr>";
      size_t cell = 1;
      while (cell < line.size()) {
        const size_t next = line.find(" |", cell);
        if (next == std::string::npos) break;
        const std::string text = line.substr(cell, next - cell);
        html += (header ? "<th>" : "<td>") + inline_html(text.starts_with(" ") ? text.substr(1) : text) +
                (header ? "</th>" : "</td>");
        cell = next + 2;
      }
      html += "</tr>\n";
    } else if (line.starts_with("![")) {
      const size_t open = line.find("](");
      const std::string alt = line.substr(2, open - 2);
      const std::string src = line.substr(open + 2, line.size() - open - 3);
      html += fmt::format("<p><img src=\"{}\" alt=\"{}\"></p>\n", plots::html_escape(src),
                          plots::html_escape(alt));
    } else if (!line.empty()) {
      html += "<p>" + inline_html(line) + "</p>\n";
    }
  }
  if (in_list) html += "</ul>\n";
  if (in_table) html += "</table>\n";
  return html + "</body>\n</html>\n";
}

}  // namespace

const char* status_name(CandidateStatus status) {
  switch (status) {
    case CandidateStatus::kInvalid: return "invalid";
    case CandidateStatus::kScreenedOut: return "screened out";
    case CandidateStatus::kNotSimulated: return "not simulated";
    case CandidateStatus::kRefuted: return "refuted";
    case CandidateStatus::kConfirmed: return "confirmed";
  }
  return "?";
}

void write_plan_report(const std::filesystem::path& dir, const PlanResult& plan, bool draw) {
  results::write_json(dir / "plan.json", plan_json(plan));
  if (draw) {
    std::vector<plots::ParetoPoint> points;
    for (const CandidateResult& r : plan.candidates) {
      if (r.status == CandidateStatus::kInvalid) continue;
      plots::ParetoPoint p;
      p.cost = r.candidate.cost_per_hour;
      p.simulated = std::isfinite(r.simulated_lead_p99);
      p.feasible = r.status == CandidateStatus::kConfirmed;
      p.p99_s = NAN;
      if (p.simulated) {
        p.p99_s = r.simulated_lead_p99;
      } else {
        for (const auto& [name, v] : r.prediction.p99_s) {
          if (name == plan.lead_template) p.p99_s = v;
        }
      }
      points.push_back(p);
    }
    plots::render_pareto(dir, "pareto", plan.lead_template, plan.lead_target_s, points);
  }
  const std::string md = plan_markdown(plan, draw);
  base::write_file_atomically(dir / "plan.md", md);
  base::write_file_atomically(dir / "plan.html", plan_html(plan.scenario + ": capacity plan", md));
}

}  // namespace shardlab::planner
