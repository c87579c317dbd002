#include "scenarios/platform.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
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
  explicit PlatformLoader(const std::string& source) : source_(source) {}

  Platform load(const YAML::Node& platform);

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
  Sharing parse_sharing(const YAML::Node& node) const;
  void declare(const YAML::Node& list, bool hosts);
  std::map<std::string, YAML::Node> link_fields(const YAML::Node& link) const;
  void add_link(const YAML::Node& link);

  const std::string& source_;
  Platform out_;
  std::map<std::string, YAML::Mark> declared_;
  std::set<std::pair<std::string, std::string>> linked_;  // each link's ends, sorted
};

Sharing PlatformLoader::parse_sharing(const YAML::Node& node) const {
  const std::string value = scalar(node, "'maxmin' or 'rtt'");
  if (value == "maxmin") return Sharing::kMaxMin;
  if (value == "rtt") return Sharing::kRtt;
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
    (hosts ? out_.hosts : out_.switches).push_back(name);
  }
}

// The link's four fields by key, each present once and not empty.
std::map<std::string, YAML::Node> PlatformLoader::link_fields(const YAML::Node& link) const {
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
  return fields;
}

void PlatformLoader::add_link(const YAML::Node& link) {
  const std::map<std::string, YAML::Node> fields = link_fields(link);
  TopologyLink out;
  for (std::string* end : {&out.a, &out.b}) {
    const YAML::Node& node = fields.at(end == &out.a ? "a" : "b");
    *end = scalar(node, "a host or switch name");
    if (!declared_.count(*end)) {
      fail(node, fmt::format("unknown node '{}' in a link; expected a name declared under hosts "
                             "or switches",
                             *end));
    }
  }
  const YAML::Node& bandwidth_node = fields.at("bandwidth");
  const std::string bandwidth_text = scalar(bandwidth_node, "a bandwidth such as 10Gbit/s");
  try {
    out.bandwidth_bytes_per_s = parse_bandwidth(bandwidth_text);
  } catch (const InputError& e) {
    fail(bandwidth_node, e.what());
  }
  if (!(out.bandwidth_bytes_per_s > 0)) {
    fail(bandwidth_node, fmt::format("bad bandwidth '{}': it must be > 0", bandwidth_text));
  }
  const YAML::Node& latency_node = fields.at("latency");
  const std::string latency_text = scalar(latency_node, "a latency such as 50us or 5.0e-5");
  try {
    out.latency = parse_duration(latency_text);
  } catch (const InputError& e) {
    fail(latency_node, e.what());
  }
  if (out.a == out.b) fail(link, fmt::format("a link cannot join '{}' to itself", out.a));
  if (!linked_.insert(std::minmax(out.a, out.b)).second) {
    fail(link, fmt::format("'{}' and '{}' are already linked (model parallel links as one link "
                           "with their summed bandwidth)",
                           out.a, out.b));
  }
  out_.links.push_back(std::move(out));
}

Platform PlatformLoader::load(const YAML::Node& platform) {
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
  if (sections.count("sharing")) out_.sharing = parse_sharing(sections.at("sharing"));
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
  return std::move(out_);
}

}  // namespace

const char* sharing_name(Sharing sharing) {
  return sharing == Sharing::kRtt ? "rtt" : "maxmin";
}

Platform read_platform(const YAML::Node& platform, const std::string& source) {
  return PlatformLoader(source).load(platform);
}

Platform parse_platform(std::string_view yaml, const std::string& source) {
  const YAML::Node root = [&] {
    try {
      return YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      if (e.mark.is_null()) throw InputError(fmt::format("{}: invalid YAML: {}", source, e.msg));
      throw InputError(fmt::format("{}:{}:{}: invalid YAML: {}", source, e.mark.line + 1,
                                   e.mark.column + 1, e.msg));
    }
  }();
  return read_platform(root, source);
}

Platform load_platform(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(fmt::format("cannot read the platform file '{}'", path));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw InputError(fmt::format("cannot read the platform file '{}'", path));
  return parse_platform(text.str(), path);
}

void validate_platform(const Platform& platform) {
  std::set<std::string> names;
  for (const auto* list : {&platform.hosts, &platform.switches}) {
    for (const std::string& name : *list) {
      if (!valid_name(name)) {
        throw InputError(fmt::format("bad node name '{}'; expected {}", name, kNameRule));
      }
      if (!names.insert(name).second) {
        throw InputError(fmt::format("duplicate node name '{}'", name));
      }
    }
  }
  std::set<std::pair<std::string, std::string>> linked;
  for (const TopologyLink& link : platform.links) {
    for (const std::string& end : {link.a, link.b}) {
      if (!names.count(end)) throw InputError(fmt::format("a link names unknown node '{}'", end));
    }
    if (link.a == link.b) {
      throw InputError(fmt::format("a link cannot join '{}' to itself", link.a));
    }
    if (!linked.insert(std::minmax(link.a, link.b)).second) {
      throw InputError(fmt::format("'{}' and '{}' are already linked", link.a, link.b));
    }
    if (!std::isfinite(link.bandwidth_bytes_per_s) || !(link.bandwidth_bytes_per_s > 0)) {
      throw InputError(fmt::format("the bandwidth of a link must be finite and > 0, got {}",
                                   link.bandwidth_bytes_per_s));
    }
    if (link.latency < Duration()) {
      throw InputError(
          fmt::format("the latency of a link must be >= 0, got {} ns", link.latency.ns()));
    }
  }
}

}  // namespace shardlab::scenarios
