#!/usr/bin/env python3
"""`shardlab flows`: finish times against hand-computed max-min results, and the contract for
mistakes in PLATFORM.yaml and FLOWS.csv: exit 2 with file:line and what was expected.
Prints 'N passed, M failed'."""
import argparse
import json
import os
import shutil
import subprocess
import sys

PLATFORM = """\
sharing: maxmin
hosts: [h0, h1, h2, h3, lonely]
switches: [s0]
links:
  - {a: h0, b: s0, bandwidth: 1GB/s, latency: 1ms}
  - {a: h1, b: s0, bandwidth: 8Gbit/s, latency: 1ms}
  - {a: h2, b: s0, bandwidth: 2e9, latency: 500us}
  - {a: h3, b: s0, bandwidth: 1e9, latency: 0}
"""

# f2 sends alone on h0->s0 from 1.5 ms to 2 ms (0.5 MB), then f1 and f2 share it at 0.5 GB/s.
# f3 starts sending at 0.5015 s and shares s0->h1 with f1: every flow runs at 0.5 GB/s (both
# links have two flows), so f3's 0.5 GB ends at 1.5015 s. By then f1 has 0.25025 GB left and f2
# 0.24975 GB; still sharing h0->s0, f2 ends at 1.5015 + 0.4995 = 2.001 s; f1's last 0.5 MB goes
# alone at 1 GB/s: 2.0015 s (2 GB through h0->s0 from 1.5 ms at 1 GB/s, as it must be).
# f4 stays on its host: done at its start. f5 is empty: the 0.5 ms route latency only.
FLOWS = """\
id,src,dst,bytes,start_s
f1,h0,h1,1GB,0
f2,h0,h2,1e9,0
f3,h2,h1,500MB,500ms
f4,h3,h3,5,0.25
f5,h2,h3,0,1
"""
EXPECTED = """\
id,finish_s
f1,2.001500000
f2,2.001000000
f3,1.501500000
f4,0.250000000
f5,1.000500000
"""

# Two senders into one 1 GB/s link, 1 ms and 3 ms away; both start sending at 3 ms. With rtt
# sharing the near flow gets 3/4 of the link: its 0.75 GB end at 1.003 s, and the far flow's
# last 0.75 GB go alone: 1.753 s. With maxmin the near flow ends at 1.503 s, the far one at
# 1.753 s too.
RTT_PLATFORM = """\
sharing: {sharing}
hosts: [near, far, dst]
switches: [hub]
links:
  - {{a: near, b: hub, bandwidth: 10GB/s, latency: 1ms}}
  - {{a: far, b: hub, bandwidth: 10GB/s, latency: 3ms}}
  - {{a: hub, b: dst, bandwidth: 1GB/s, latency: 0}}
"""
RTT_FLOWS = """\
id,src,dst,bytes,start_s
far,far,dst,1GB,0
near,near,dst,0.75GB,2ms
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardlab", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    sl = args.shardlab
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)

    def write(name, text):
        path = os.path.join(args.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    platform = write("platform.yaml", PLATFORM)
    flows = write("flows.csv", FLOWS)
    passed = failed = 0

    def report(name, problems, proc):
        nonlocal passed, failed
        if problems:
            failed += 1
            print(f"FAIL {name}: {'; '.join(problems)}\n  stderr: {proc.stderr.strip()[:400]}")
        else:
            passed += 1
            print(f"PASS {name}")

    # A correct run, to stdout and to files.
    proc = subprocess.run([sl, "flows", platform, flows], capture_output=True, text=True)
    problems = []
    if proc.returncode != 0:
        problems.append(f"exit {proc.returncode}")
    if proc.stdout != EXPECTED:
        problems.append(f"output {proc.stdout!r}, expected {EXPECTED!r}")
    report("finish times", problems, proc)

    out = os.path.join(args.workdir, "out.csv")
    trace = os.path.join(args.workdir, "trace.json")
    proc = subprocess.run([sl, "flows", platform, flows, "-o", out, "--trace", trace],
                          capture_output=True, text=True)
    problems = []
    if proc.returncode != 0 or proc.stdout:
        problems.append(f"exit {proc.returncode}, stdout {proc.stdout!r}")
    elif open(out).read() != EXPECTED:
        problems.append("OUT.csv differs from the expected finish times")
    else:
        events = json.load(open(trace))["traceEvents"]
        slices = [e for e in events if e.get("ph") == "X"]
        # f4 never touches the network; the other four are one slice each.
        if len(slices) != 4:
            problems.append(f"{len(slices)} trace slices, expected 4")
    report("output and trace files", problems, proc)

    for sharing, near, far in (("rtt", "1.003000000", "1.753000000"),
                               ("maxmin", "1.503000000", "1.753000000")):
        p = write(f"rtt_{sharing}.yaml", RTT_PLATFORM.format(sharing=sharing))
        f = write("rtt_flows.csv", RTT_FLOWS)
        proc = subprocess.run([sl, "flows", p, f], capture_output=True, text=True)
        want = f"id,finish_s\nfar,{far}\nnear,{near}\n"
        report(f"{sharing} sharing", [] if proc.stdout == want and proc.returncode == 0 else
               [f"exit {proc.returncode}, output {proc.stdout!r}, expected {want!r}"], proc)

    # Mistakes in FLOWS.csv: (name, file content, substrings of the message).
    header = "id,src,dst,bytes,start_s\n"
    csv_cases = [
        ("unknown host", header + "a,h0,h1,1,0\nb,h0,h9,1,0\n",
         [":3:", "dst: unknown host 'h9'", "expected a host declared in"]),
        ("switch as an end", header + "a,s0,h1,1,0\n", [":2:", "src: 's0' is a switch"]),
        ("disconnected hosts", header + "a,h0,lonely,1,0\n",
         [":2:", "disconnected hosts", "no route from h0 to lonely"]),
        ("negative size", header + "a,h0,h1,-5,0\n", [":2:", "bytes: bad size '-5'", "negative"]),
        ("negative start", header + "a,h0,h1,5,-1\n",
         [":2:", "start_s: bad duration '-1'", "negative"]),
        ("ambiguous size unit", header + "a,h0,h1,10Gb,0\n",
         [":2:", "bytes: bad size '10Gb'", "sizes are in bytes: write 10GB"]),
        ("ambiguous KB", header + "a,h0,h1,10KB,0\n", [":2:", "write kB for 1000 or KiB for 1024"]),
        ("ambiguous duration unit", header + "a,h0,h1,1,5m\n",
         [":2:", "'m' is ambiguous", "min", "ms"]),
        ("bad number", header + "a,h0,h1,lots,0\n", [":2:", "expected a size such as"]),
        ("bad start", header + "a,h0,h1,1,soon\n", [":2:", "expected a duration such as"]),
        ("bad header", "id,src,dst,size,start\na,h0,h1,1,0\n",
         [":1:", "bad header 'id,src,dst,size,start'", "expected 'id,src,dst,bytes,start_s'"]),
        ("empty file", "", [":1:", "the file is empty", "id,src,dst,bytes,start_s"]),
        ("too few columns", header + "a,h0,h1,1\n", [":2:", "expected 5 columns", "got 4"]),
        ("too many columns", header + "\na,h0,h1,1,0,7\n", [":3:", "expected 5 columns", "got 6"]),
        ("duplicate id", header + "a,h0,h1,1,0\nb,h0,h1,1,0\na,h1,h0,1,0\n",
         [":4:", "duplicate id 'a' (first on line 2)"]),
        ("empty id", header + ",h0,h1,1,0\n", [":2:", "expected a non-empty id"]),
        # Found only by running: no bandwidth moves 5e23 bytes within the int64 clock.
        ("flow outlasts the clock", header + "ok,h0,h1,1,0\nhuge,h0,h1,5e23,0\n",
         [":3:", "flow 'huge' of 5e+23 bytes would outlast the simulated clock"]),
    ]
    for name, text, needles in csv_cases:
        path = write("bad.csv", text)
        check(name, [sl, "flows", platform, path], [path + n if n.startswith(":") else n
                                                         for n in needles], report)

    # Mistakes in PLATFORM.yaml.
    link = "  - {a: h0, b: h1, bandwidth: 1e9, latency: 1ms}\n"
    yaml_cases = [
        ("invalid YAML", "hosts: [h0, h1\n", ["invalid YAML"]),
        ("unknown key", "hosts: [h0, h1]\nlink:\n" + link,
         [":2:1:", "unknown key 'link'", "expected one of sharing, hosts, switches, links"]),
        ("missing hosts", "switches: [s0]\n", [":1:1:", "no 'hosts'"]),
        ("unknown host in a link", "hosts: [h0, h1]\nlinks:\n"
         "  - {a: h0, b: h2, bandwidth: 1e9, latency: 1ms}\n",
         [":3:16:", "unknown node 'h2'", "declared under hosts or switches"]),
        ("duplicate names", "hosts: [h0, h1]\nswitches: [h1]\n",
         [":2:12:", "duplicate name 'h1'", "first declared at"]),
        ("missing field", "hosts: [h0, h1]\nlinks:\n  - {a: h0, b: h1, latency: 1ms}\n",
         [":3:5:", "no 'bandwidth'", "a, b, bandwidth, latency"]),
        ("unknown link field", "hosts: [h0, h1]\nlinks:\n"
         "  - {a: h0, b: h1, bandwidth: 1e9, latency: 1ms, loss: 0.1}\n",
         [":3:50:", "unknown key 'loss' in a link"]),
        ("ambiguous bandwidth", "hosts: [h0, h1]\nlinks:\n"
         "  - {a: h0, b: h1, bandwidth: 10G, latency: 1ms}\n",
         [":3:31:", "bad bandwidth '10G'", "10GB/s", "10Gbit/s"]),
        ("bits or bytes", "hosts: [h0, h1]\nlinks:\n"
         "  - {a: h0, b: h1, bandwidth: 10Gb/s, latency: 1ms}\n",
         [":3:31:", "ambiguous (bits or bytes?)"]),
        ("case of prefixes", "hosts: [h0, h1]\nlinks:\n"
         "  - {a: h0, b: h1, bandwidth: 10gbit/s, latency: 1ms}\n",
         [":3:31:", "case-sensitive"]),
        ("negative bandwidth", "hosts: [h0, h1]\nlinks:\n"
         "  - {a: h0, b: h1, bandwidth: -1e9, latency: 1ms}\n",
         [":3:31:", "must not be negative"]),
        ("negative latency", "hosts: [h0, h1]\nlinks:\n"
         "  - {a: h0, b: h1, bandwidth: 1e9, latency: -1ms}\n",
         [":3:45:", "bad duration '-1ms'", "negative"]),
        ("bad sharing", "sharing: fifo\nhosts: [h0]\n", [":1:10:", "unknown sharing 'fifo'",
                                                         "'maxmin' or 'rtt'"]),
    ]
    for name, text, needles in yaml_cases:
        path = write("bad.yaml", text)
        check("platform: " + name, [sl, "flows", path, flows],
              [path + n if n.startswith(":") else n for n in needles], report)

    check("missing platform file", [sl, "flows", os.path.join(args.workdir, "none.yaml"), flows],
          ["cannot read the platform file"], report)
    check("missing flows file", [sl, "flows", platform, os.path.join(args.workdir, "none.csv")],
          ["cannot read the flows file"], report)
    check("missing argument", [sl, "flows", platform], [], report)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def check(name, argv, needles, report):
    proc = subprocess.run(argv, capture_output=True, text=True)
    problems = []
    if proc.returncode != 2:
        problems.append(f"exit {proc.returncode}, expected 2")
    for needle in needles:
        if needle not in proc.stderr:
            problems.append(f"stderr lacks {needle!r}")
    report(name, problems, proc)


if __name__ == "__main__":
    sys.exit(main())
