#include "planner/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "base/atomic_file.h"
#include "base/errors.h"
#include "experiment/experiment.h"
#include "experiment/run_outputs.h"
#include "experiment/run_summary.h"
#include "planner/plan_report.h"
#include "planner/mpi_world.h"
#include "planner/process_pool.h"
#include "planner/run_files.h"
#include "planner/scale_fit.h"
#include "results/student_t.h"
#include "scenarios/scenario.h"

namespace shardlab::planner {

namespace {

using scenarios::Scenario;

// The utilisation over a sampling interval above which a resource counts as saturated (shown,
// not enforced).
constexpr double kSaturated = 0.99;

struct Job {
  std::vector<std::string> overrides;
  std::filesystem::path dir;
  int replications = 1;
  uint64_t seed = 1;  // of the first replication
};

// Runs one job in this process: its replications into its directory, and metrics.json.
int run_job(const PlanOptions& options, const Scenario& s, const Job& job,
            const std::function<void(const std::string&)>& log) {
  experiment::ExperimentOptions run_options;
  run_options.data_dir = options.data_dir;
  const experiment::ReplicatedRun run = experiment::run_replicated(
      s, job.seed, job.replications, run_options, job.dir, log);
  write_metrics(job.dir / "metrics.json", run.metrics);
  return 0;
}

// What an MPI worker needs to run a job.
std::string encode_job(const Job& job) {
  return results::Json{{"overrides", job.overrides},
                       {"dir", job.dir.string()},
                       {"replications", job.replications},
                       {"seed", job.seed}}
      .dump();
}

Job decode_job(const std::string& payload) {
  const results::Json doc = results::Json::parse(payload);
  return Job{doc.at("overrides").get<std::vector<std::string>>(),
             std::filesystem::path(doc.at("dir").get<std::string>()),
             doc.at("replications").get<int>(), doc.at("seed").get<uint64_t>()};
}

// One simulation per job, each in a child process: `jobs` at once here, or one per MPI worker
// rank when `world` has more than one rank (rank 0 keeps the files). Returns each job's status.
std::vector<JobStatus> simulate(const PlanOptions& options, const std::vector<Job>& batch,
                                MpiWorld* world,
                                const std::function<void(const std::string&)>& log) {
  // Loaded in the parent, so that a mistake shows before any child starts.
  std::vector<Scenario> scenarios;
  for (const Job& job : batch) {
    scenarios.push_back(scenarios::load_scenario(options.scenario.string(), job.overrides,
                                                 options.smoke));
  }
  if (world == nullptr) {
    return run_in_processes(batch.size(), options.jobs, [&](size_t i) {
      return run_job(options, scenarios[i], batch[i], log);
    });
  }
  std::vector<JobStatus> statuses(batch.size());
  world->schedule(
      batch.size(),
      [&](size_t i, const PointResult& result) {
        statuses[i] = JobStatus{result.ok, result.failure};
        if (!result.ok) return;
        std::filesystem::create_directories(batch[i].dir);
        base::write_file_atomically(batch[i].dir / "metrics.json", result.metrics_json);
        base::write_file_atomically(batch[i].dir / "summary.json", result.summary_json);
      },
      [&](size_t i) { return encode_job(batch[i]); });
  return statuses;
}

// An MPI rank other than 0: runs the jobs rank 0 hands out until it shuts the workers down.
void serve_jobs(const PlanOptions& options, MpiWorld& world,
                const std::function<void(const std::string&)>& log) {
  world.serve([&](size_t, const std::string& payload) {
    PointResult result;
    const Job job = decode_job(payload);
    const JobStatus status = run_in_processes(1, 1, [&](size_t) {
      const Scenario s =
          scenarios::load_scenario(options.scenario.string(), job.overrides, options.smoke);
      return run_job(options, s, job, log);
    }).front();
    result.ok = status.ok;
    result.failure = status.failure;
    if (!status.ok) return result;
    try {
      result.metrics_json = read_text(job.dir / "metrics.json");
      result.summary_json = read_text(job.dir / "summary.json");
    } catch (const RuntimeError& e) {
      result.ok = false;
      result.failure = e.what();
    }
    return result;
  });
}

// The one-sided upper confidence bound of the metric's mean (the value itself for one run).
double upper_bound(const results::ReplicatedMetrics& metrics, const std::string& name,
                   double confidence) {
  const std::vector<double>& v = metrics.values(name);
  if (v.empty()) return NAN;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  if (v.size() < 2) return mean;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  const auto n = static_cast<int64_t>(v.size());
  return mean + results::student_t_quantile(confidence, n - 1) * sd / std::sqrt(static_cast<double>(n));
}

double mean_of(const results::ReplicatedMetrics& metrics, const std::string& name) {
  const std::vector<double>& v = metrics.values(name);
  if (v.empty()) return NAN;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

ConstraintCheck make_check(std::string name, std::string metric, double bound, double value,
                           double predicted = NAN) {
  ConstraintCheck c{std::move(name), std::move(metric), bound, value, predicted, 0, false};
  c.holds = std::isfinite(value) && value <= bound;
  c.margin = bound > 0 ? (bound - value) / bound : (value <= 0 ? 0.0 : -1.0);
  if (!std::isfinite(value)) c.margin = -1;
  return c;
}

double predicted_p99(const Prediction& p, const std::string& name) {
  for (const auto& [template_name, value] : p.p99_s) {
    if (template_name == name) return value;
  }
  return NAN;
}

// The scenario's own cluster, as the screen sees a candidate. Its first node's type stands for
// all.
CandidateShape base_shape(const Scenario& s);

CandidateShape shape_of(const Scenario& s, const Candidate& c) {
  CandidateShape shape;
  shape.type = &s.hardware.node_types.at(c.node_type);
  shape.nodes = static_cast<double>(c.nodes);
  shape.shards = static_cast<double>(c.shards);
  shape.replicas = static_cast<double>(c.replicas);
  for (const scenarios::PlanNodeType& t : s.plan->node_types) {
    if (t.name == c.node_type) shape.disk_capacity = static_cast<double>(t.disk_capacity);
  }
  // Every node's host link has the same spec under the racks shorthand: the first node's.
  const std::string& first = s.cluster.nodes.front().name;
  for (const scenarios::TopologyLink& link : s.topology.links) {
    if (link.a == first || link.b == first) {
      shape.link_bytes_per_s = link.bandwidth_bytes_per_s;
      break;
    }
  }
  return shape;
}

CandidateShape base_shape(const Scenario& s) {
  Candidate own;
  own.node_type = s.cluster.nodes.front().type;
  own.nodes = s.cluster.nodes.size();
  own.shards = s.cluster.shards;
  own.replicas = s.cluster.replicas;
  CandidateShape shape = shape_of(s, own);
  return shape;
}

// Why the screen drops a candidate, or empty when it passes. `slack` multiplies the latency
// targets (the plan's screen_slack); `p` is the corrected prediction.
std::string screen_reason(const Scenario& s, const Candidate& c, const Prediction& p,
                          double slack) {
  const scenarios::PlanConfig& plan = *s.plan;
  if (plan.constraints.survive_node_loss && c.replicas < 2) {
    return "one replica per shard: a node loss takes its shards' rows and queries with it";
  }
  for (const auto& [resource, use] :
       {std::pair{"cpu", p.cpu}, std::pair{"disk", p.disk}, std::pair{"network", p.network}}) {
    if (use >= 1) {
      return fmt::format("{} needs {:.0f}% of the busiest node's capacity at the peak", resource,
                         use * 100);
    }
  }
  for (const auto& [name, target] : plan.constraints.latency) {
    const double p99 = predicted_p99(p, name);
    if (!(p99 <= target * slack)) {
      return fmt::format("predicted p99 of {} is {:.3g} s, over {} x its {:.3g} s target", name,
                         p99, slack, target);
    }
  }
  if (plan.constraints.disk_fill > 0 && p.disk_fill > plan.constraints.disk_fill) {
    return fmt::format("disks {:.0f}% full at the retention horizon, over {:.0f}%",
                       p.disk_fill * 100, plan.constraints.disk_fill * 100);
  }
  return {};
}

// Checks every constraint of a simulated candidate: `normal` are its replications, `crash`
// the run with the worst single node crash.
void check_constraints(const Scenario& s, const results::ReplicatedMetrics& normal,
                       const results::Json& crash_summary, CandidateResult* result) {
  const scenarios::PlanConstraints& c = s.plan->constraints;
  std::vector<ConstraintCheck>& checks = result->checks;
  for (const auto& [name, target] : c.latency) {
    const std::string metric = "queries." + name + ".p99_s";
    checks.push_back(make_check("p99 of " + name, metric, target,
                                upper_bound(normal, metric, c.confidence),
                                predicted_p99(result->prediction, name)));
  }
  if (c.ingest_keeps_up) {
    checks.push_back(make_check("ingest delay p99", "inserts.delay_p99_s",
                                experiment::kIngestDelayBound_s,
                                upper_bound(normal, "inserts.delay_p99_s", c.confidence)));
  }
  if (c.replica_lag > Duration()) {
    checks.push_back(make_check("max replica lag", "replication.max_lag_s", c.replica_lag.seconds(),
                                upper_bound(normal, "replication.max_lag_s", c.confidence)));
  }
  // Peak utilisation, for context: where the next bottleneck is, not a constraint itself.
  for (const char* resource : {"cpu", "disk", "network"}) {
    const std::string metric = std::string("utilisation.peak_") + resource;
    const double predicted = std::string(resource) == "cpu"    ? result->prediction.cpu
                             : std::string(resource) == "disk" ? result->prediction.disk
                                                               : result->prediction.network;
    ConstraintCheck check =
        make_check(std::string("peak ") + resource + " utilisation (not a constraint)", metric,
                   kSaturated, upper_bound(normal, metric, c.confidence), predicted);
    check.informational = true;
    checks.push_back(check);
  }
  if (c.disk_fill > 0) {
    checks.push_back(make_check("disk fill at the retention horizon", "", c.disk_fill,
                                result->prediction.disk_fill, result->prediction.disk_fill));
  }
  if (c.survive_node_loss) {
    const double lost = crash_summary.at("inserts").at("rows_lost").get<double>();
    // Lost rows have no natural bound but zero: the margin is -1 for any loss.
    ConstraintCheck loss = make_check("acknowledged rows lost under a node crash",
                                      "inserts.rows_lost", 0, lost);
    checks.push_back(loss);
    // Queries sent to the crashed node itself fail as they would against ClickHouse (clients
    // must reconnect elsewhere), and so may queries caught in flight by the crash: at most one
    // per client slot. What must not happen beyond that is a query finding no live replica.
    double in_flight = 0;
    for (const scenarios::QueryTemplate& q : s.workload.queries) {
      in_flight += static_cast<double>(q.clients) * q.concurrency;
    }
    const double unanswered =
        crash_summary.at("queries_run").at("shard_failures").get<double>();
    checks.push_back(make_check("queries finding no replica under a node crash",
                                "queries_run.shard_failures", in_flight, unanswered));
  }
  std::vector<std::string> failed;
  const ConstraintCheck* binding = nullptr;
  for (const ConstraintCheck& check : checks) {
    if (check.informational) continue;
    if (!check.holds) {
      failed.push_back(fmt::format("{} {:.4g} over its bound {:.4g}", check.name, check.value,
                                   check.bound));
    }
    if (check.bound > 0 && (!binding || check.margin < binding->margin)) binding = &check;
  }
  if (binding) result->binding = binding->name;
  result->status = failed.empty() ? CandidateStatus::kConfirmed : CandidateStatus::kRefuted;
  for (const std::string& f : failed) {
    result->reason += (result->reason.empty() ? "" : "; ") + f;
  }
}

// What the screen learns from simulations: for each simulated cluster (the profile's own, then
// every refuted candidate), simulated over predicted for each template's p99 and each
// resource's peak utilisation. A candidate's prediction is corrected by the ratios of the
// simulated cluster whose predicted load (its busiest resource) is nearest its own: queueing
// errors grow with load, so a ratio learned on an overloaded cluster does not carry over to a
// lightly loaded one.
class ScreenCorrection {
 public:
  void learn(const Prediction& predicted, const results::ReplicatedMetrics& simulated) {
    Sample sample;
    sample.load = load_of(predicted);
    for (const auto& [name, p99] : predicted.p99_s) {
      add(&sample, "p99 " + name, p99, mean_of(simulated, "queries." + name + ".p99_s"));
    }
    add(&sample, "cpu", predicted.cpu, mean_of(simulated, "utilisation.peak_cpu"));
    add(&sample, "disk", predicted.disk, mean_of(simulated, "utilisation.peak_disk"));
    add(&sample, "network", predicted.network, mean_of(simulated, "utilisation.peak_network"));
    samples_.push_back(std::move(sample));
  }
  size_t samples() const { return samples_.size(); }
  Prediction apply(Prediction p) const {
    const Sample* nearest = nearest_to(load_of(p));
    if (nearest == nullptr) return p;
    for (auto& [name, p99] : p.p99_s) p99 *= nearest->factor("p99 " + name);
    p.cpu *= nearest->factor("cpu");
    p.disk *= nearest->factor("disk");
    p.network *= nearest->factor("network");
    return p;
  }
  // "p99 top_items x2.3, disk x1.8": the factors `p` is corrected by that differ from one by
  // more than 5%.
  std::string describe(const Prediction& p) const {
    const Sample* nearest = nearest_to(load_of(p));
    std::string out;
    if (nearest == nullptr) return out;
    for (const auto& [name, ratio] : nearest->ratios) {
      if (std::fabs(ratio - 1) < 0.05) continue;
      out += fmt::format("{}{} x{:.2g}", out.empty() ? "" : ", ", name, ratio);
    }
    return out.empty() ? "none" : out;
  }

 private:
  struct Sample {
    double load = 0;
    std::map<std::string, double> ratios;
    double factor(const std::string& name) const {
      const auto it = ratios.find(name);
      return it == ratios.end() ? 1.0 : it->second;
    }
  };
  static double load_of(const Prediction& p) { return std::max({p.cpu, p.disk, p.network}); }
  static void add(Sample* sample, const std::string& name, double predicted, double simulated) {
    if (!(predicted > 0) || !(simulated > 0) || !std::isfinite(predicted)) return;
    sample->ratios[name] = simulated / predicted;
  }
  const Sample* nearest_to(double load) const {
    const Sample* best = nullptr;
    for (const Sample& s : samples_) {
      if (best == nullptr || std::fabs(s.load - load) < std::fabs(best->load - load)) best = &s;
    }
    return best;
  }
  std::vector<Sample> samples_;
};

}  // namespace

namespace {

PlanOutcome plan_on(const PlanOptions& options, MpiWorld* world,
                    const std::function<void(const std::string&)>& log);

}  // namespace

PlanOutcome run_plan(const PlanOptions& options,
                     const std::function<void(const std::string&)>& log) {
  if (!launched_by_mpirun()) return plan_on(options, nullptr, log);
  MpiWorld world;
  if (world.rank() != 0) {
    serve_jobs(options, world, log);
    PlanOutcome outcome;
    outcome.worker = true;
    return outcome;
  }
  // Rank 0 plans; the workers are released however the plan ends.
  struct Release {
    MpiWorld& world;
    ~Release() { release_workers(world); }
  } release{world};
  return plan_on(options, &world, log);
}

namespace {

PlanOutcome plan_on(const PlanOptions& options, MpiWorld* world,
                    const std::function<void(const std::string&)>& log) {
  const auto started = std::chrono::steady_clock::now();
  const Scenario base =
      scenarios::load_scenario(options.scenario.string(), options.overrides, options.smoke);
  if (!base.plan) {
    throw InputError(fmt::format("{}: has no plan section: add one to say which clusters to "
                                 "search (see scenarios/README.md)",
                                 base.source));
  }
  const scenarios::PlanConfig& plan = *base.plan;
  const double scale = options.scale.value_or(plan.scale);
  const uint64_t seed = options.seed.value_or(base.run.seed);
  std::vector<std::string> scaled = scale_overrides(base, scale);
  const PeakWindow window = peak_window(base, plan.window);
  for (const std::string& o : window.overrides) scaled.push_back(o);
  const std::string window_text =
      window.overrides.empty() ? std::string() : scenarios::format_duration(plan.window);
  const auto with = [&](std::vector<std::string> extra, const std::vector<std::string>& more = {}) {
    std::vector<std::string> all = options.overrides;
    for (const std::string& s : scaled) all.push_back(s);
    for (std::string& s : extra) all.push_back(std::move(s));
    for (const std::string& s : more) all.push_back(s);
    return all;
  };

  PlanOutcome outcome;
  outcome.dir = options.out.empty() ? std::filesystem::path(base.run.out_dir) / "plan" : options.out;
  std::filesystem::create_directories(outcome.dir);
  PlanResult result;
  result.scenario = base.name;
  result.scale = scale;
  result.confidence = plan.constraints.confidence;
  result.window = window_text;
  result.smoke = options.smoke;
  result.overrides = options.overrides;
  if (!plan.constraints.latency.empty()) {
    result.lead_template = plan.constraints.latency.front().first;
    result.lead_target_s = plan.constraints.latency.front().second;
  } else if (!base.workload.queries.empty()) {
    result.lead_template = base.workload.queries.front().name;
  }

  // Every candidate is checked as a scenario before anything runs.
  const std::vector<Candidate> candidates = enumerate_candidates(base);
  outcome.candidates = candidates.size();
  size_t valid = 0;
  for (const Candidate& c : candidates) {
    CandidateResult r;
    r.candidate = c;
    try {
      scenarios::load_scenario(options.scenario.string(), with(candidate_overrides(base, c)),
                               options.smoke);
      ++valid;
    } catch (const InputError& e) {
      r.status = CandidateStatus::kInvalid;
      r.reason = e.what();
    }
    result.candidates.push_back(std::move(r));
  }
  if (valid == 0) {
    throw InputError(fmt::format("plan: none of the {} candidate clusters is a valid scenario; "
                                 "the first: {}",
                                 candidates.size(),
                                 candidates.empty() ? "there are none (every node count is below "
                                                      "the replicas or above shards x replicas)"
                                                    : result.candidates.front().reason));
  }

  // 1. Profile.
  log(fmt::format("{}: profiling the workload on the scenario's own cluster at scale {}",
                  base.name, scale));
  const std::filesystem::path profile_dir = outcome.dir / "profile";
  const std::vector<JobStatus> profiled =
      simulate(options, {Job{with({"faults=[]", "random_faults=[]"}), profile_dir, 1, seed}}, world, log);
  if (!profiled.front().ok) {
    throw RuntimeError(fmt::format("the profile run failed ({})", profiled.front().failure));
  }
  const WorkProfile profile = read_profile(read_json(profile_dir / "summary.json"), base);
  // The profile run is the screen's first lesson: its own cluster, predicted and simulated.
  ScreenCorrection correction;
  correction.learn(predict(profile, base, base_shape(base), scale),
                   read_metrics(profile_dir / "metrics.json"));

  // 2. Screen.
  for (CandidateResult& r : result.candidates) {
    if (r.status == CandidateStatus::kInvalid) continue;
    r.prediction = predict(profile, base, shape_of(base, r.candidate), scale);
    r.reason = screen_reason(base, r.candidate, correction.apply(r.prediction), plan.screen_slack);
    if (!r.reason.empty()) {
      r.reason += fmt::format(" (corrected by the profile run: {})", correction.describe(r.prediction));
    }
    if (!r.reason.empty()) {
      r.status = CandidateStatus::kScreenedOut;
      ++outcome.screened_out;
    }
  }
  log(fmt::format("{}: {} candidates, {} invalid, {} screened out", base.name, candidates.size(),
                  candidates.size() - valid, outcome.screened_out));

  // 3. Confirm, cheapest first; after each refutation the screen learns and looks again.
  const Duration crash_at = window.peak;
  for (CandidateResult& r : result.candidates) {
    if (r.status != CandidateStatus::kNotSimulated) continue;
    if (correction.samples() > 1) {  // more than the profile's lesson: look again
      const std::string reason =
          screen_reason(base, r.candidate, correction.apply(r.prediction), plan.screen_slack);
      if (!reason.empty()) {
        r.status = CandidateStatus::kScreenedOut;
        r.reason = fmt::format("{} (corrected by the nearest of {} simulated clusters: {})",
                               reason, correction.samples(), correction.describe(r.prediction));
        ++outcome.screened_out;
        continue;
      }
    }
    if (outcome.simulated >= static_cast<size_t>(plan.max_simulated)) break;
    const Candidate& c = r.candidate;
    log(fmt::format("{}: simulating {} ({:.2f}/h)", base.name, c.label, c.cost_per_hour));
    const std::filesystem::path dir = outcome.dir / c.dir;
    const std::vector<std::string> cluster = candidate_overrides(base, c);
    std::vector<Job> jobs = {Job{with(cluster), dir / "runs", plan.replications, seed}};
    if (plan.constraints.survive_node_loss) {
      // p01 holds the most replicas under the round-robin placement.
      jobs.push_back(Job{with(cluster, {crash_override("p01", crash_at, plan.crash_duration)}),
                         dir / "crash", 1, seed});
    }
    const std::vector<JobStatus> statuses = simulate(options, jobs, world, log);
    ++outcome.simulated;
    bool ran = true;
    for (const JobStatus& st : statuses) {
      if (!st.ok) {
        r.status = CandidateStatus::kRefuted;
        r.reason = "its simulation failed: " + st.failure;
        ran = false;
      }
    }
    if (!ran) continue;
    const results::ReplicatedMetrics normal = read_metrics(dir / "runs" / "metrics.json");
    const results::Json crash = plan.constraints.survive_node_loss
                                    ? read_json(dir / "crash" / "summary.json")
                                    : results::Json::object();
    check_constraints(base, normal, crash, &r);
    r.simulated_lead_p99 = mean_of(normal, "queries." + result.lead_template + ".p99_s");
    log(fmt::format("{}: {} {}{}", base.name, c.label, status_name(r.status),
                    r.reason.empty() ? "" : ": " + r.reason));
    if (r.status == CandidateStatus::kConfirmed) {
      ++outcome.confirmed;
      result.recommended = static_cast<size_t>(&r - result.candidates.data());
      break;
    }
    correction.learn(r.prediction, normal);
  }

  // 4. Scale: the winner at the smaller scales, each metric fitted as a + b / scale.
  if (result.recommended && scale < 1) {
    CandidateResult& winner = result.candidates[*result.recommended];
    // The plan's fit scales are below its own scale; a --scale of another size brings its own.
    std::vector<double> fit_scales;
    for (const double f : plan.fit_scales) {
      if (f < scale) fit_scales.push_back(f);
    }
    if (fit_scales.empty() || (options.scale && *options.scale != plan.scale)) {
      fit_scales = {scale / 4, scale / 2};
    }
    std::vector<Job> jobs;
    for (const double f : fit_scales) {
      std::vector<std::string> all = options.overrides;
      for (std::string& o : scale_overrides(base, f)) all.push_back(std::move(o));
      for (const std::string& o : window.overrides) all.push_back(o);
      for (std::string& o : candidate_overrides(base, winner.candidate)) all.push_back(std::move(o));
      jobs.push_back(
          Job{all, outcome.dir / winner.candidate.dir / fmt::format("scale-{}", f), 1, seed});
    }
    log(fmt::format("{}: fitting how the winner's metrics scale ({} more runs)", base.name,
                    jobs.size()));
    const std::vector<JobStatus> statuses = simulate(options, jobs, world, log);
    const results::ReplicatedMetrics main_runs =
        read_metrics(outcome.dir / winner.candidate.dir / "runs" / "metrics.json");
    // The constraints measured by the normal runs (the crash run's are not fitted).
    std::vector<std::string> metrics;
    for (const ConstraintCheck& check : winner.checks) {
      if (!check.metric.empty() && !main_runs.values(check.metric).empty()) {
        metrics.push_back(check.metric);
      }
    }
    for (const std::string& metric : metrics) {
      std::vector<std::pair<double, double>> points;
      for (size_t i = 0; i < jobs.size(); ++i) {
        if (!statuses[i].ok) continue;
        points.emplace_back(fit_scales[i],
                            mean_of(read_metrics(jobs[i].dir / "metrics.json"), metric));
      }
      points.emplace_back(scale, mean_of(main_runs, metric));
      result.fits.push_back(fit_scaling(metric, std::move(points)));
    }
  }

  // 5. Sensitivity: the screen under growth.
  if (result.recommended) {
    const Candidate& winner = result.candidates[*result.recommended].candidate;
    for (const double growth : {1.5, 2.0}) {
      Sensitivity sens;
      sens.growth = growth;
      sens.winner =
          correction.apply(predict(profile, base, shape_of(base, winner), scale, growth));
      for (const CandidateResult& r : result.candidates) {
        // Simulation's verdict stands over the screen's: refuted candidates are not offered.
        if (r.status == CandidateStatus::kInvalid || r.status == CandidateStatus::kRefuted) continue;
        const Prediction p = predict(profile, base, shape_of(base, r.candidate), scale, growth);
        if (screen_reason(base, r.candidate, correction.apply(p), plan.screen_slack).empty()) {
          sens.cheapest_passing = r.candidate;
          break;
        }
      }
      result.sensitivity.push_back(std::move(sens));
    }
    outcome.found = true;
    outcome.recommended = winner.label;
    const CandidateResult& won = result.candidates[*result.recommended];
    outcome.findings.push_back(fmt::format("binding constraint (the bottleneck): {}", won.binding));
    for (const ConstraintCheck& check : won.checks) {
      outcome.findings.push_back(fmt::format("  {}: {:.4g} against {:.4g} (margin {:.0f}%)",
                                             check.name, check.value, check.bound,
                                             check.margin * 100));
    }
  }
  // The screen's error on the lead query's p99, over every simulated candidate.
  std::vector<std::string> errors;
  for (const CandidateResult& r : result.candidates) {
    const double predicted = predicted_p99(r.prediction, result.lead_template);
    if (!std::isfinite(r.simulated_lead_p99) || r.simulated_lead_p99 <= 0) continue;
    errors.push_back(fmt::format("{} {:+.0f}%", r.candidate.label,
                                 (predicted / r.simulated_lead_p99 - 1) * 100));
  }
  if (!errors.empty()) {
    std::string line = "screen error, predicted over simulated p99 of " + result.lead_template + ":";
    for (const std::string& e : errors) line += " " + e + ";";
    line.pop_back();
    outcome.findings.push_back(line);
  }
  result.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  write_plan_report(outcome.dir, result, experiment::wants_output(base, "plots"));
  return outcome;
}

}  // namespace

}  // namespace shardlab::planner
