#!/usr/bin/env python3
"""The layers' include direction (DESIGN.md, "Layers and folders"): every `#include "..."` of a
source file must name a header of a layer its own layer may use. Engine internals
(engine/ outside engine/include/) are private to the engine.

    check_includes.py ROOT          checks the tree; exit 1 listing every violation
    check_includes.py --self-test   plants upward includes in a scratch tree and checks that each
                                    one is rejected, and that the allowed ones pass

tests/ and bench/ are left out: they test and measure the internals of the layer they mirror.
"""
import os
import re
import sys
import tempfile

# Each layer and the layers it may include (itself always). Order matters in LAYER_OF: the first
# matching prefix names a file's layer.
LAYER_OF = [
    ("base/", "base"),
    ("engine/include/", "engine_face"),
    ("engine/", "engine"),
    ("workloads/", "workloads"),
    ("cluster_config/", "cluster_config"),
    ("sim/core/", "sim_core"),
    ("sim/hw/", "sim_hw"),
    ("sim/cluster/", "sim_cluster"),
    ("sim/cache/", "sim_cache"),
    ("scenarios/", "scenarios"),
    ("results/", "results"),
    ("plots/", "plots"),
    ("calibration/", "calibration"),
    ("experiment/", "experiment"),
    ("planner/", "planner"),
    ("live/", "live"),
    ("apps/", "apps"),
]
SIM = {"sim_core", "sim_hw", "sim_cluster", "sim_cache"}
ALLOWED = {
    "base": set(),
    # The face stands alone: a header under engine/include/ that pulled in an internal one would
    # hand that internal to every includer outside the engine.
    "engine_face": {"base"},
    "engine": {"base", "engine_face"},
    "workloads": {"base", "engine_face"},
    # The words a cluster is configured in, below both scenarios/ and sim/cluster/.
    "cluster_config": {"base", "engine_face"},
    "sim_core": {"base"},
    "sim_hw": {"base", "sim_core"},
    "sim_cluster": {"base", "sim_core", "sim_hw", "engine_face", "workloads", "cluster_config"},
    # The memcached tier stands in front of the cluster: its look-aside cache runs cluster
    # queries and tests inserted rows against cached answers.
    "sim_cache": {"base", "sim_core", "sim_hw", "sim_cluster", "engine_face", "workloads",
                  "cluster_config"},
    # Plain values only: experiment/cluster_binding.* turns them into the simulator's types.
    "scenarios": {"base", "engine_face", "workloads", "cluster_config"},
    "results": {"base"},
    "plots": {"base", "results"},
    "calibration": {"base", "engine_face", "workloads", "cluster_config", "sim_core", "sim_hw",
                    "sim_cluster"},
    "experiment": {"base", "engine_face", "workloads", "cluster_config", "scenarios", "results",
                   "plots"} | SIM,
    "planner": {"base", "engine_face", "cluster_config", "scenarios", "results", "plots",
                "experiment"},
    "live": {"base", "engine_face", "workloads", "cluster_config", "scenarios", "results",
             "plots", "experiment"},
    "apps": {"base", "engine_face", "workloads", "cluster_config", "scenarios", "results",
             "experiment", "calibration", "planner", "live"},
}
SKIPPED = ("tests/", "bench/", "build")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE = (".h", ".hpp", ".cpp", ".cc")


def layer_of(path):
    """The layer of a repository-relative path, or None outside every layer."""
    for prefix, layer in LAYER_OF:
        if path.startswith(prefix):
            return layer
    return None


def header_layer(include):
    """The layer an include names: "shardlab/engine/x.h" resolves to the engine's face."""
    if include.startswith("shardlab/engine/"):
        return "engine_face"
    return layer_of(include)


def violations(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames
                       if not (rel_dir + d + "/").startswith(SKIPPED) and not d.startswith(".")]
        for name in filenames:
            if not name.endswith(SOURCE):
                continue
            rel = rel_dir + name
            own = layer_of(rel)
            if own is None:
                continue
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                for line_no, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = header_layer(m.group(1))
                    if target is None or target == own or target in ALLOWED[own]:
                        continue
                    why = ("engine internals are private to engine/; include its face, "
                           "shardlab/engine/..." if target == "engine" else
                           f"{own} may include only {', '.join(sorted(ALLOWED[own])) or 'itself'}")
                    found.append(f"{rel}:{line_no}: includes \"{m.group(1)}\" ({target}): {why}")
    return found


def self_test():
    planted = {
        "sim/core/bad_up.h": '#include "sim/cluster/cluster.h"\n',   # the kernel above hardware
        "sim/hw/bad_engine.cpp": '#include "shardlab/engine/table.h"\n',  # hardware on the engine
        "results/bad.cpp": '#include "base/errors.h"\n#include "sim/core/time.h"\n',
        "apps/bad.cpp": '#include "sim/cluster/cluster.h"\n',
        "sim/cluster/bad_private.cpp": '#include "engine/exec/aggregator.h"\n',
        "engine/exec/bad_scenarios.cpp": '#include "scenarios/scenario.h"\n',
        "base/bad.h": '#include "workloads/row_generator.h"\n',
        "cluster_config/bad.cpp": '#include "sim/cluster/settings.h"\n',  # below the simulator
        "engine/include/shardlab/engine/bad_face.h": '#include "engine/exec/key_condition.h"\n',
        "scenarios/bad_time.h": '#include "sim/core/time.h"\n',  # even the simulator's clock
        "scenarios/bad_spec.cpp": '#include "base/time.h"\n#include "sim/cluster/sharding.h"\n',
    }
    allowed = {
        "sim/cluster/good.cpp": '#include "shardlab/engine/query.h"\n#include "sim/hw/node.h"\n',
        "experiment/good.cpp": '#include "sim/cluster/cluster.h"\n#include "plots/report.h"\n',
        "engine/storage/good.cpp": '#include "engine/exec/expression.h"\n',
        "tests/sim/good_test.cpp": '#include "engine/exec/aggregator.h"\n',
        "scenarios/good.cpp": ('#include "base/time.h"\n#include "shardlab/engine/expression.h"\n'
                               '#include "workloads/user_behavior.h"\n'
                               '#include "cluster_config/sharding.h"\n'),
        "tests/scenarios/good_test.cpp": '#include "sim/hw/network.h"\n',
    }
    with tempfile.TemporaryDirectory() as root:
        for rel, text in {**planted, **allowed}.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        found = violations(root)
    flagged = {v.split(":")[0] for v in found}
    ok = True
    for rel in planted:
        if rel not in flagged:
            print(f"self-test: the planted include in {rel} was not rejected")
            ok = False
    for rel in allowed:
        if rel in flagged:
            print(f"self-test: the allowed include in {rel} was rejected")
            ok = False
    if found and ok:
        print(f"self-test: {len(found)} planted includes rejected, e.g.\n  {found[0]}")
    return ok


def main():
    if sys.argv[1:] == ["--self-test"]:
        return 0 if self_test() else 1
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    found = violations(sys.argv[1])
    for v in found:
        print(v)
    print(f"{len(found)} include(s) against the layers' direction")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
