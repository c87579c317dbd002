#include "scenarios/overrides.h"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "base/errors.h"
#include "scenarios/scenario_schema.h"

namespace shardlab::scenarios {

namespace {

using detail::join_path;
using Kind = SchemaNode::Kind;

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  size_t from = 0;
  while (true) {
    const size_t dot = path.find('.', from);
    segments.emplace_back(path.substr(from, dot - from));
    if (dot == std::string_view::npos) return segments;
    from = dot + 1;
  }
}

std::string join_segments(const std::vector<std::string>& segments, size_t first, size_t last) {
  std::string out;
  for (size_t idx = first; idx <= last; ++idx) {
    if (idx > first) out += '.';
    out += segments[idx];
  }
  return out;
}

std::string describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return fmt::format("the value '{}'", node.Scalar());
}

// The name an entry of a named list goes by: its `name` key, or the entry itself when it is a
// bare scalar (cluster.nodes may list plain node names).
std::optional<std::string> entry_name(const YAML::Node& entry) {
  if (entry.IsScalar()) return entry.Scalar();
  if (entry.IsMap()) {
    for (const auto& field : entry) {
      if (field.first.IsScalar() && field.first.Scalar() == "name" && field.second.IsScalar()) {
        return field.second.Scalar();
      }
    }
  }
  return std::nullopt;
}

class Applier {
 public:
  Applier(const Override& change, detail::Context& ctx) : change_(change), ctx_(ctx) {}

  void apply(YAML::Node& root);

 private:
  [[noreturn]] void fail(std::string_view message) const {
    throw InputError(fmt::format("{}: {}", change_.origin, message));
  }
  // The key node of `key` in `map`, which must hold it.
  static YAML::Node key_node(const YAML::Node& map, const std::string& key) {
    for (const auto& entry : map) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.first;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }
  // Sets map[key] = value and attributes the new key (if it is new) to the override.
  void assign(YAML::Node& map, const std::string& key, const YAML::Node& value) {
    const bool existed = key_node(map, key).IsDefined();
    map[key] = value;
    if (!existed) ctx_.add_origin(key_node(map, key), change_.origin);
  }
  // The entry of `list` that segments [at, ...) name; sets *last_used to the last segment used.
  size_t list_index(const YAML::Node& list, const SchemaNode& schema, const std::string& path,
                    size_t at, size_t* last_used) const;
  // The key of `map` that segments [at, ...) name (a name may itself contain dots).
  std::string map_key(const YAML::Node& map, size_t at, size_t* last_used) const;

  // Where segments [at, last] of the path lead from a node of `schema` at `path`: a key or a
  // list index, and the child's schema.
  struct Step {
    const SchemaNode* child = nullptr;
    std::string key;              // when the node is a map
    std::optional<size_t> index;  // when the node is a list
    size_t last = 0;              // the last segment the step used
  };
  Step resolve_step(const YAML::Node& node, const SchemaNode& schema, const std::string& path,
                    size_t at) const;
  // Sets the step's key or entry of `node` to the override's value.
  void set_value(YAML::Node& node, const Step& step);
  // The child the step names, checked to be a list or mapping as its schema says; a missing or
  // null mapping is created. `next_segment` names the key looked for in it, for errors.
  YAML::Node descend(YAML::Node& node, const Step& step, const std::string& child_path,
                     const std::string& next_segment);

  const Override& change_;
  detail::Context& ctx_;
  std::vector<std::string> segments_;
};

size_t Applier::list_index(const YAML::Node& list, const SchemaNode& schema,
                           const std::string& path, size_t at, size_t* last_used) const {
  const std::string& segment = segments_[at];
  const size_t size = list.size();
  *last_used = at;
  if (!segment.empty() && segment.find_first_not_of("0123456789") == std::string::npos) {
    const size_t index = segment.size() > 9 ? size : std::stoul(segment);
    if (index >= size) {
      fail(fmt::format(
          "index {} is out of range: '{}' has {} {}", segment, path, size,
          size == 1 ? "entry (index 0)" : fmt::format("entries (indices 0 to {})", size - 1)));
    }
    return index;
  }
  std::vector<std::string> names;
  if (schema.named) {
    for (size_t last = segments_.size(); last-- > at;) {
      const std::string wanted = join_segments(segments_, at, last);
      size_t index = 0;
      for (const YAML::Node& entry : list) {
        if (entry_name(entry) == wanted) {
          *last_used = last;
          return index;
        }
        ++index;
      }
    }
    for (const YAML::Node& entry : list) {
      if (const auto name = entry_name(entry)) names.push_back(*name);
    }
    std::string message =
        fmt::format("'{}' has no entry named '{}' (names: {}; or use an index from 0 to {})", path,
                    segment, detail::join_words(names), size == 0 ? 0 : size - 1);
    if (const std::string suggestion = closest_word(segment, names); !suggestion.empty()) {
      message += fmt::format("; did you mean '{}'?", suggestion);
    }
    fail(message);
  }
  fail(fmt::format("'{}' is a list: expected an index from 0 to {}, got '{}'", path,
                   size == 0 ? 0 : size - 1, segment));
}

std::string Applier::map_key(const YAML::Node& map, size_t at, size_t* last_used) const {
  if (map.IsMap()) {
    for (size_t last = segments_.size(); last-- > at + 1;) {
      const std::string wanted = join_segments(segments_, at, last);
      if (key_node(map, wanted).IsDefined()) {
        *last_used = last;
        return wanted;
      }
    }
  }
  *last_used = at;
  return segments_[at];
}

void Applier::apply(YAML::Node& root) {
  segments_ = split_path(change_.path);
  for (const std::string& segment : segments_) {
    if (segment.empty()) {
      fail(
          fmt::format("bad path '{}': expected keys separated by single dots, such as "
                      "cluster.insert_mode",
                      change_.path));
    }
  }
  const SchemaNode* schema = &scenario_schema();
  YAML::Node node;
  node.reset(root);
  std::string path;
  for (size_t at = 0; at < segments_.size(); ++at) {
    const Step step = resolve_step(node, *schema, path, at);
    const std::string child_path = join_path(
        path, step.index ? std::to_string(*step.index) : join_segments(segments_, at, step.last));
    at = step.last;
    if (at + 1 == segments_.size()) {
      set_value(node, step);
      return;
    }
    node.reset(descend(node, step, child_path, segments_[at + 1]));
    path = child_path;
    schema = step.child;
  }
}

Applier::Step Applier::resolve_step(const YAML::Node& node, const SchemaNode& schema,
                                    const std::string& path, size_t at) const {
  const std::string& segment = segments_[at];
  Step step;
  step.last = at;
  switch (schema.kind) {
    case Kind::kValue:
      fail(fmt::format("'{}' is a single value; it has no key '{}'", path, segment));
    case Kind::kMap:
      step.child = schema.field(segment);
      if (step.child == nullptr) fail(unknown_key_message(path, segment, schema));
      step.key = segment;
      break;
    case Kind::kNamedMap:
      step.child = schema.element;
      step.key = map_key(node, at, &step.last);
      break;
    case Kind::kList:
      step.child = schema.element;
      if (!node.IsSequence()) {
        fail(
            fmt::format("'{}' has no entries to change; set the whole list instead, e.g. "
                        "--set '{}=[...]'",
                        path, path));
      }
      step.index = list_index(node, schema, path, at, &step.last);
      break;
  }
  return step;
}

void Applier::set_value(YAML::Node& node, const Step& step) {
  if (step.index) {
    node[*step.index] = change_.value;
  } else {
    assign(node, step.key, change_.value);
  }
  if (change_.external) ctx_.add_origin(change_.value, change_.origin);
}

YAML::Node Applier::descend(YAML::Node& node, const Step& step, const std::string& child_path,
                            const std::string& next_segment) {
  YAML::Node next;
  bool present = true;
  if (step.index) {
    next.reset(node[*step.index]);
  } else {
    // A const lookup: a missing key must not be inserted while we only look.
    const YAML::Node& const_node = node;
    const YAML::Node found = const_node[step.key];
    present = found.IsDefined();
    if (present) next.reset(found);
  }
  const bool container = step.child->kind != Kind::kValue;
  if (step.child->kind == Kind::kList) {
    if (!present || next.IsNull()) {
      fail(
          fmt::format("'{}' has no entries to change; set the whole list instead, e.g. "
                      "--set '{}=[...]'",
                      child_path, child_path));
    }
    if (!next.IsSequence()) {
      fail(fmt::format("'{}' is {} at {}, not a list", child_path, describe(next),
                       ctx_.where(next)));
    }
  } else if (container) {
    if (!present || next.IsNull()) {
      YAML::Node created(YAML::NodeType::Map);
      ctx_.add_origin(created, change_.origin);
      if (step.index) {
        node[*step.index] = created;
      } else {
        assign(node, step.key, created);
      }
      next.reset(created);
    } else if (!next.IsMap()) {
      fail(fmt::format("'{}' is {} at {}, not a mapping, so it has no key '{}'", child_path,
                       describe(next), ctx_.where(next), next_segment));
    }
  }
  return next;
}

}  // namespace

Override parse_set_argument(std::string_view argument) {
  const std::string origin = fmt::format("--set {}", argument);
  const size_t equals = argument.find('=');
  if (equals == std::string_view::npos) {
    throw InputError(
        fmt::format("{}: expected PATH=VALUE, such as cluster.insert_mode=sync", origin));
  }
  Override change;
  change.origin = origin;
  change.external = true;
  const auto trim = [](std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return std::string(text);
  };
  change.path = trim(argument.substr(0, equals));
  if (change.path.empty()) {
    throw InputError(
        fmt::format("{}: the path before '=' is empty; expected PATH=VALUE, such as "
                    "cluster.insert_mode=sync",
                    origin));
  }
  const std::string text = trim(argument.substr(equals + 1));
  try {
    change.value = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: the value is not valid YAML: {}", origin, e.msg));
  }
  if (!change.value.IsDefined() || change.value.IsNull()) {
    throw InputError(
        fmt::format("{}: the value is empty; expected PATH=VALUE, such as "
                    "cluster.insert_mode=sync",
                    origin));
  }
  return change;
}

std::vector<RepeatedSet> repeated_set_paths(const std::vector<std::string>& arguments) {
  const auto trim = [](std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return std::string(text);
  };
  std::map<std::string, std::string> value_of_path;
  std::vector<RepeatedSet> repeats;
  for (const std::string& argument : arguments) {
    const size_t equals = argument.find('=');
    if (equals == std::string::npos) continue;
    std::string path = trim(std::string_view(argument).substr(0, equals));
    std::string value = trim(std::string_view(argument).substr(equals + 1));
    const auto [it, inserted] = value_of_path.try_emplace(path, value);
    if (!inserted) {
      repeats.push_back({path, it->second, value});
      it->second = value;
    }
  }
  return repeats;
}

void apply_override(YAML::Node& root, const Override& change, detail::Context& ctx) {
  Applier(change, ctx).apply(root);
}

}  // namespace shardlab::scenarios
