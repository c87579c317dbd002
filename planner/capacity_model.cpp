#include "planner/capacity_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/errors.h"

namespace shardlab::planner {

namespace {

const results::Json& section(const results::Json& doc, const char* key) {
  if (!doc.contains(key)) {
    throw RuntimeError(fmt::format("the profile run's summary has no '{}' section", key));
  }
  return doc.at(key);
}

double per(double amount, double count) { return count > 0 ? amount / count : 0.0; }

}  // namespace

double erlang_c(int c, double a) {
  SHARDLAB_ASSERT(c >= 1 && a >= 0 && a < c, "erlang_c({}, {})", c, a);
  // The Erlang B recursion is stable for any c; C follows from B.
  double b = 1.0;
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  const double rho = a / c;
  return b / (1 - rho + rho * b);
}

WorkProfile read_profile(const results::Json& summary, const scenarios::Scenario& s) {
  const results::Json& work = section(summary, "work");
  const results::Json& cpu = work.at("cpu_s");
  WorkProfile p;
  p.rows = work.at("data_rows").get<double>();
  p.data_bytes = work.at("data_bytes").get<double>();
  // Ingest costs per row the run inserted: preloaded history cost no simulated work.
  const results::Json& inserts = section(summary, "inserts");
  const double inserted = p.rows - inserts.value("rows_preloaded", 0.0);
  const double copies = inserted * static_cast<double>(s.cluster.replicas);
  p.split_cpu_per_row = per(cpu.at("split").get<double>(), inserted);
  p.copy_cpu_per_row =
      per(cpu.at("insert").get<double>() + cpu.at("merge").get<double>(), copies);
  p.written_bytes_per_row = per(work.at("disk_written_bytes").get<double>(), copies);
  p.network_bytes_per_row = per(work.at("network_bytes").get<double>(), copies);
  const results::Json& queries = section(summary, "queries");
  for (const scenarios::QueryTemplate& q : s.workload.queries) {
    if (!queries.contains(q.name) || !queries.at(q.name).contains("work")) {
      throw InputError(fmt::format(
          "{}: plan: template '{}' has placeholders, so the screen cannot cost it; the planner "
          "needs templates with fixed SQL",
          s.source, q.name));
    }
    const results::Json& w = queries.at(q.name).at("work");
    TemplateProfile t;
    t.name = q.name;
    // A closed-loop template has no set rate: its clients keep one query each in flight.
    t.rate_per_s = q.rate_per_s;
    t.cpu_s = w.at("cpu_s").get<double>();
    const double shards = w.at("shards").get<double>();
    const double mean = per(t.cpu_s, shards);
    t.max_shard_over_mean = mean > 0 ? w.at("max_shard_cpu_s").get<double>() / mean : 1.0;
    t.initiator_cpu_s = w.at("initiator_cpu_s").get<double>();
    t.disk_bytes = w.at("disk_bytes").get<double>();
    p.templates.push_back(std::move(t));
  }
  return p;
}

Prediction predict(const WorkProfile& profile, const scenarios::Scenario& s,
                   const CandidateShape& shape, double scale, double growth) {
  const scenarios::NodeType& type = *shape.type;
  const double full_rows = static_cast<double>(s.workload.rows) * growth;
  // The profile ran at the candidates' scale and window, so each query reads `growth` times
  // the data it read there; the table holds the profile's rows (history included) at full scale.
  const double data_ratio = growth;
  const double table_rows = profile.rows / scale * growth;
  const double peak_rows = s.workload.peak_rows_per_s * scale * growth;
  // The busiest node holds the most replicas.
  const double busiest = std::ceil(shape.shards * shape.replicas / shape.nodes);
  const double per_replica_rows = peak_rows / shape.shards;

  const double cpu_capacity = type.cores * type.cpu_speed * scale;
  const double bytes_per_row = per(profile.data_bytes, profile.rows);
  const double node_data = bytes_per_row * table_rows * shape.replicas / shape.nodes;
  // The page cache keeps about half the memory's worth of the hottest data.
  const double cached = std::min(1.0, per(0.5 * static_cast<double>(type.memory_bytes), node_data));
  const double uncached = node_data > 0 ? 1.0 - cached : 0.0;

  double cpu_load = busiest * per_replica_rows * profile.copy_cpu_per_row +
                    peak_rows * profile.split_cpu_per_row / shape.nodes;
  double read_bytes = 0;
  for (const TemplateProfile& t : profile.templates) {
    const double rate = t.rate_per_s * growth;
    cpu_load += rate * t.cpu_s * data_ratio / shape.shards * busiest / shape.replicas +
                rate * t.initiator_cpu_s / shape.nodes;
    read_bytes += rate * t.disk_bytes * data_ratio / shape.shards * busiest / shape.replicas *
                  uncached;
  }
  const double write_bytes = busiest * per_replica_rows * profile.written_bytes_per_row;

  Prediction out;
  out.cpu = cpu_load / cpu_capacity;
  out.disk = write_bytes / (type.disk.write_bytes_per_s * scale) +
             read_bytes / (type.disk.read_bytes_per_s * scale);
  out.network = shape.link_bytes_per_s > 0
                    ? busiest * per_replica_rows * profile.network_bytes_per_row /
                          (shape.link_bytes_per_s * scale)
                    : 0.0;
  out.bottleneck = out.cpu >= out.disk && out.cpu >= out.network ? "cpu"
                   : out.disk >= out.network                     ? "disk"
                                                                 : "network";

  // Each template's subquery on its largest shard, and the mean subquery on a node.
  const double speed = type.cpu_speed * scale;
  // A subquery runs on up to max_threads of the node's cores (as in the simulator); the profile
  // does not say how many granules each template reads, so large ones are assumed, which small
  // queries do not need: their subquery is short either way.
  const uint32_t max_threads = s.cluster.settings.max_threads;
  const double threads = static_cast<double>(
      std::max(1, max_threads > 0 ? std::min(static_cast<int>(max_threads), type.cores) : type.cores));
  std::vector<double> service;
  double weighted = 0;
  double rates = 0;
  for (const TemplateProfile& t : profile.templates) {
    const double shard_work = t.cpu_s * data_ratio / shape.shards;
    const double shard_read = t.disk_bytes * data_ratio / shape.shards * uncached;
    // A replica computes and reads at once (the simulator overlaps them): the longer one counts.
    const double subquery = t.max_shard_over_mean *
                            std::max(shard_work / speed / threads,
                                     shard_read / (type.disk.read_bytes_per_s * scale));
    service.push_back(subquery + t.initiator_cpu_s / speed);
    weighted += t.rate_per_s * shard_work / speed;
    rates += t.rate_per_s;
  }
  const double mean_service = rates > 0 ? weighted / rates : 0.0;
  const int cores = type.cores;
  const double rho = out.cpu;
  for (size_t q = 0; q < profile.templates.size(); ++q) {
    double p99 = std::numeric_limits<double>::infinity();
    if (rho < 1) {
      // Allen-Cunneen: the M/M/c wait times (ca^2 + cs^2) / 2, both 1 here. Given a wait, it
      // is exponential with mean S / (c (1 - rho)); a query waits on `shards` nodes at once.
      const double wait_prob = erlang_c(cores, rho * cores);
      const double wait_mean = mean_service / (cores * (1 - rho));
      const double tail = shape.shards * wait_prob / 0.01;
      p99 = service[q] + (tail > 1 ? wait_mean * std::log(tail) : 0.0);
    }
    out.p99_s.emplace_back(profile.templates[q].name, p99);
  }
  if (shape.disk_capacity > 0 && s.plan && s.plan->constraints.disk_fill > 0) {
    const double days = s.plan->constraints.retention.seconds() / 86400.0;
    const double rows_per_day = full_rows / s.workload.generator.days;
    out.disk_fill = bytes_per_row * rows_per_day * days * shape.replicas / shape.nodes /
                    shape.disk_capacity;
  }
  return out;
}

}  // namespace shardlab::planner
