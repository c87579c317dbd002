#include "scenarios/platform.h"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "base/errors.h"
#include "scenarios/units.h"

namespace shardlab::scenarios {

namespace {

constexpr std::string_view kTopKeys = "sharing, hosts, switches, links";
constexpr std::string_view kLinkKeys = "a, b, bandwidth, latency";
constexpr std::string_view kNameRule = "letters, digits and _ . : -";

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

class PlatformLoader {
 public:
  PlatformLoader(sim::Simulation& sim, const std::string& source) : sim_(sim), source_(source) {}

  std::unique_ptr<sim::Network> load(const YAML::Node& platform);

 private:
  std::string where(const YAML::Mark& mark) const {
    if (mark.is_null()) return source_;
    return fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
  }
  [[noreturn]] void fail(const YAML::Node& node, std::string_view what) const {
    throw InputError(fmt::format("{}: {}", where(node.Mark()), what));
  }
  std::string scalar(const YAML::Node& node, std::string_view expected) const {
    if (!node.IsScalar()) fail(node, fmt::format("expected {}", expected));
    return node.Scalar();
  }
  sim::Sharing parse_sharing(const YAML::Node& node) const;
  void declare(const YAML::Node& list, bool hosts);
  void add_link(const YAML::Node& link);

  sim::Simulation& sim_;
  const std::string& source_;
  std::unique_ptr<sim::Network> net_;
  std::map<std::string, YAML::Mark> declared_;
};

sim::Sharing PlatformLoader::parse_sharing(const YAML::Node& node) const {
  const std::string value = scalar(node, "'maxmin' or 'rtt'");
  if (value == "maxmin") return sim::Sharing::kMaxMin;
  if (value == "rtt") return sim::Sharing::kRtt;
  fail(node, fmt::format("unknown sharing '{}'; expected 'maxmin' or 'rtt'", value));
}

void PlatformLoader::declare(const YAML::Node& list, bool hosts) {
  const std::string_view what = hosts ? "host" : "switch";
  if (!list.IsSequence()) {
    fail(list, fmt::format("expected a list of {} names such as [{}0, {}1]", what,
                           hosts ? "h" : "s", hosts ? "h" : "s"));
  }
  if (hosts && list.size() == 0) fail(list, "expected at least one host");
  for (const YAML::Node& item : list) {
    const std::string name = scalar(item, fmt::format("a {} name", what));
    if (!valid_name(name)) {
      fail(item, fmt::format("bad {} name '{}'; expected {}", what, name, kNameRule));
    }
    const auto [it, inserted] = declared_.emplace(name, item.Mark());
    if (!inserted) {
      fail(item,
           fmt::format("duplicate name '{}' (first declared at {})", name, where(it->second)));
    }
    if (hosts) {
      net_->add_host(name);
    } else {
      net_->add_switch(name);
    }
  }
}

void PlatformLoader::add_link(const YAML::Node& link) {
  if (!link.IsMap()) {
    fail(link, fmt::format("expected a link: a mapping with the keys {}", kLinkKeys));
  }
  std::map<std::string, YAML::Node> fields;
  for (const auto& entry : link) {
    const std::string key = scalar(entry.first, "a key");
    if (key != "a" && key != "b" && key != "bandwidth" && key != "latency") {
      fail(entry.first, fmt::format("unknown key '{}' in a link; expected {}", key, kLinkKeys));
    }
    if (!fields.emplace(key, entry.second).second) {
      fail(entry.first, fmt::format("duplicate key '{}' in a link", key));
    }
    if (entry.second.IsNull()) {
      fail(entry.first, fmt::format("'{}' has no value; expected {}", key,
                                    key == "bandwidth" ? "a bandwidth such as 10Gbit/s"
                                    : key == "latency" ? "a latency such as 50us"
                                                       : "a host or switch name"));
    }
  }
  for (const char* key : {"a", "b", "bandwidth", "latency"}) {
    if (!fields.count(key)) {
      fail(link, fmt::format("the link has no '{}'; each link needs {}", key, kLinkKeys));
    }
  }
  sim::NodeId ends[2];
  for (int end_idx = 0; end_idx < 2; ++end_idx) {
    const YAML::Node& node = fields.at(end_idx == 0 ? "a" : "b");
    const std::string name = scalar(node, "a host or switch name");
    const std::optional<sim::NodeId> found = net_->find_node(name);
    if (!found) {
      fail(node, fmt::format("unknown node '{}' in a link; expected a name declared under hosts "
                             "or switches",
                             name));
    }
    ends[end_idx] = *found;
  }
  const YAML::Node& bandwidth_node = fields.at("bandwidth");
  const std::string bandwidth_text = scalar(bandwidth_node, "a bandwidth such as 10Gbit/s");
  double bandwidth = 0;
  try {
    bandwidth = parse_bandwidth(bandwidth_text);
  } catch (const InputError& e) {
    fail(bandwidth_node, e.what());
  }
  if (!(bandwidth > 0)) {
    fail(bandwidth_node, fmt::format("bad bandwidth '{}': it must be > 0", bandwidth_text));
  }
  const YAML::Node& latency_node = fields.at("latency");
  const std::string latency_text = scalar(latency_node, "a latency such as 50us or 5.0e-5");
  sim::Duration latency;
  try {
    latency = parse_duration(latency_text);
  } catch (const InputError& e) {
    fail(latency_node, e.what());
  }
  try {
    net_->add_link(ends[0], ends[1], bandwidth, latency);
  } catch (const InputError& e) {
    fail(link, e.what());  // a self-loop or a repeated link
  }
}

std::unique_ptr<sim::Network> PlatformLoader::load(const YAML::Node& platform) {
  if (!platform.IsMap()) {
    if (platform.IsNull()) {
      throw InputError(fmt::format("{}: the platform is empty; expected a mapping with the keys {}",
                                   where(platform.Mark()), kTopKeys));
    }
    fail(platform, fmt::format("expected a mapping with the keys {}", kTopKeys));
  }
  std::map<std::string, YAML::Node> sections;
  for (const auto& entry : platform) {
    const std::string key = scalar(entry.first, "a key");
    if (key != "sharing" && key != "hosts" && key != "switches" && key != "links") {
      fail(entry.first, fmt::format("unknown key '{}'; expected one of {}", key, kTopKeys));
    }
    if (!sections.emplace(key, entry.second).second) {
      fail(entry.first, fmt::format("duplicate key '{}'", key));
    }
    // An empty value has no position of its own (yaml-cpp marks where the next token starts).
    if (entry.second.IsNull() && key != "switches" && key != "links") {
      fail(entry.first, fmt::format("'{}' has no value; expected {}", key,
                                    key == "hosts" ? "a list of host names such as [h0, h1]"
                                                   : "'maxmin' or 'rtt'"));
    }
  }
  if (!sections.count("hosts")) {
    fail(platform, "the platform has no 'hosts'; expected a list of host names such as [h0, h1]");
  }
  const sim::Sharing sharing =
      sections.count("sharing") ? parse_sharing(sections.at("sharing")) : sim::Sharing::kMaxMin;
  net_ = std::make_unique<sim::Network>(sim_, sharing);
  declare(sections.at("hosts"), true);
  if (sections.count("switches") && !sections.at("switches").IsNull()) {
    declare(sections.at("switches"), false);
  }
  if (sections.count("links") && !sections.at("links").IsNull()) {
    const YAML::Node& links = sections.at("links");
    if (!links.IsSequence()) {
      fail(links,
           fmt::format("expected a list of links, each a mapping with the keys {}", kLinkKeys));
    }
    for (const YAML::Node& link : links) add_link(link);
  }
  net_->seal();
  return std::move(net_);
}

}  // namespace

std::unique_ptr<sim::Network> build_platform(sim::Simulation& sim, const YAML::Node& platform,
                                             const std::string& source) {
  return PlatformLoader(sim, source).load(platform);
}

std::unique_ptr<sim::Network> parse_platform(sim::Simulation& sim, std::string_view yaml,
                                             const std::string& source) {
  const YAML::Node root = [&] {
    try {
      return YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      if (e.mark.is_null()) throw InputError(fmt::format("{}: invalid YAML: {}", source, e.msg));
      throw InputError(fmt::format("{}:{}:{}: invalid YAML: {}", source, e.mark.line + 1,
                                   e.mark.column + 1, e.msg));
    }
  }();
  return build_platform(sim, root, source);
}

std::unique_ptr<sim::Network> load_platform(sim::Simulation& sim, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(fmt::format("cannot read the platform file '{}'", path));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw InputError(fmt::format("cannot read the platform file '{}'", path));
  return parse_platform(sim, text.str(), path);
}

}  // namespace shardlab::scenarios
