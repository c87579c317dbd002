#include "experiment/flows.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/errors.h"
#include "experiment/cluster_binding.h"
#include "scenarios/platform.h"
#include "scenarios/units.h"
#include "sim/core/simulation.h"
#include "sim/core/trace.h"
#include "sim/hw/network.h"

namespace shardlab::experiment {

namespace {

constexpr std::string_view kHeader = "id,src,dst,bytes,start_s";
constexpr size_t kColumns = 5;

struct FlowSpec {
  std::string id;
  sim::HostId src{};
  sim::HostId dst{};
  double bytes = 0;
  sim::Duration start;
  size_t line_no = 0;  // in the flows file, for errors found only by running
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t from = 0;
  while (true) {
    const size_t comma = line.find(',', from);
    fields.push_back(trim(line.substr(from, comma - from)));
    if (comma == std::string_view::npos) return fields;
    from = comma + 1;
  }
}

std::string read_file(const std::string& path, std::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(fmt::format("cannot read the {} file '{}'", what, path));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

class FlowsReader {
 public:
  FlowsReader(const std::string& path, const std::string& platform_path, sim::Network& net)
      : path_(path), platform_path_(platform_path), net_(net) {}

  std::vector<FlowSpec> read() {
    const std::string text = read_file(path_, "flows");
    std::vector<FlowSpec> flows;
    size_t line_no = 0;
    size_t from = 0;
    bool header_seen = false;
    while (from < text.size()) {
      size_t end = text.find('\n', from);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + from, end - from);
      from = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!header_seen) {
        if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // a UTF-8 byte order mark
        check_header(line, line_no);
        header_seen = true;
        continue;
      }
      if (trim(line).empty()) continue;
      flows.push_back(parse_line(line, line_no));
    }
    if (!header_seen) {
      throw InputError(
          fmt::format("{}:1: the file is empty; expected the header '{}'", path_, kHeader));
    }
    return flows;
  }

 private:
  [[noreturn]] void fail(size_t line_no, std::string_view what) const {
    throw InputError(fmt::format("{}:{}: {}", path_, line_no, what));
  }

  void check_header(std::string_view line, size_t line_no) const {
    std::string normalised;
    for (const std::string_view field : split_fields(line)) {
      if (!normalised.empty()) normalised += ',';
      normalised += field;
    }
    if (normalised != kHeader) {
      fail(line_no, fmt::format("bad header '{}'; expected '{}'", line, kHeader));
    }
  }

  sim::HostId host(std::string_view name, std::string_view column, size_t line_no) const {
    if (const std::optional<sim::HostId> found = net_.find_host(name)) return *found;
    if (net_.find_node(name)) {
      fail(line_no, fmt::format("{}: '{}' is a switch; flows run between hosts", column, name));
    }
    fail(line_no, fmt::format("{}: unknown host '{}'; expected a host declared in {}", column, name,
                              platform_path_));
  }

  FlowSpec parse_line(std::string_view line, size_t line_no) {
    const std::vector<std::string_view> fields = split_fields(line);
    if (fields.size() != kColumns) {
      fail(line_no,
           fmt::format("expected {} columns ({}), got {}", kColumns, kHeader, fields.size()));
    }
    FlowSpec flow;
    flow.line_no = line_no;
    flow.id = std::string(fields[0]);
    if (flow.id.empty()) fail(line_no, "id: expected a non-empty id");
    const auto [first, inserted] = first_line_.emplace(flow.id, line_no);
    if (!inserted) {
      fail(line_no,
           fmt::format("id: duplicate id '{}' (first on line {})", flow.id, first->second));
    }
    flow.src = host(fields[1], "src", line_no);
    flow.dst = host(fields[2], "dst", line_no);
    try {
      flow.bytes = scenarios::parse_bytes(fields[3]);
    } catch (const InputError& e) {
      fail(line_no, fmt::format("bytes: {}", e.what()));
    }
    try {
      flow.start = scenarios::parse_duration(fields[4]);
    } catch (const InputError& e) {
      fail(line_no, fmt::format("start_s: {}", e.what()));
    }
    if (!net_.route_latency(flow.src, flow.dst)) {
      fail(line_no, fmt::format("disconnected hosts: no route from {} to {} in {}", fields[1],
                                fields[2], platform_path_));
    }
    return flow;
  }

  const std::string& path_;
  const std::string& platform_path_;
  sim::Network& net_;
  std::map<std::string, size_t, std::less<>> first_line_;
};

struct Finish {
  int64_t ns = -1;
  std::string failure;  // why the transfer failed, if it did
};

sim::Process run_flow(sim::Simulation& sim, sim::Network& net, const FlowSpec& flow,
                      Finish& finish) {
  co_await sim.sleep(flow.start);
  try {
    co_await net.transfer(flow.src, flow.dst, flow.bytes);
    finish.ns = sim.now().ns();
  } catch (const sim::SimFault& fault) {
    finish.failure = fault.what();
  }
}

// Seconds with exactly nine decimals, from integer nanoseconds: no rounding on the way.
std::string seconds_text(int64_t ns) {
  return fmt::format("{}.{:09}", ns / 1'000'000'000, ns % 1'000'000'000);
}

}  // namespace

void run_flows(const std::string& platform_path, const std::string& flows_path,
               const std::string& output_path, const std::string& trace_path) {
  sim::Simulation sim;
  sim::Tracer tracer;
  if (!trace_path.empty()) sim.set_tracer(&tracer);
  const std::unique_ptr<sim::Network> net =
      build_network(sim, scenarios::load_platform(platform_path));
  const std::vector<FlowSpec> flows = FlowsReader(flows_path, platform_path, *net).read();

  std::vector<Finish> finish(flows.size());
  for (size_t flow_idx = 0; flow_idx < flows.size(); ++flow_idx) {
    sim.spawn(run_flow(sim, *net, flows[flow_idx], finish[flow_idx]));
  }
  sim.run();

  std::string out;
  out.reserve(32 * (flows.size() + 1));
  out += "id,finish_s\n";
  for (size_t flow_idx = 0; flow_idx < flows.size(); ++flow_idx) {
    if (finish[flow_idx].ns < 0) {
      const FlowSpec& flow = flows[flow_idx];
      if (!finish[flow_idx].failure.empty()) {
        throw RuntimeError(
            fmt::format("flow '{}' did not finish: {}", flow.id, finish[flow_idx].failure));
      }
      // The only other way to get here: the input asked for more bytes than the network can
      // move before the simulated clock (int64 nanoseconds) runs out.
      throw InputError(fmt::format(
          "{}:{}: bytes: flow '{}' of {:g} bytes would outlast the simulated clock (292 years) "
          "at the bandwidth it gets; expected a smaller flow",
          flows_path, flow.line_no, flow.id, flow.bytes));
    }
    out += flows[flow_idx].id;
    out += ',';
    out += seconds_text(finish[flow_idx].ns);
    out += '\n';
  }
  if (output_path.empty() || output_path == "-") {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    std::ofstream file(output_path, std::ios::binary);
    file << out;
    if (!file) throw RuntimeError(fmt::format("cannot write '{}'", output_path));
  }
  if (!trace_path.empty()) {
    std::ofstream file(trace_path, std::ios::binary);
    tracer.write_json(file);
    if (!file) throw RuntimeError(fmt::format("cannot write '{}'", trace_path));
  }
}

}  // namespace shardlab::experiment
