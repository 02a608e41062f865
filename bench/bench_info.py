# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Listing 5,000 and 50,000 snapshots: cinderops.snapshots.snapshot_info vs raw openstacksdk vs openstack.cloud.

Data: in a project of the benchmark's own, volume A has 3,500 snapshots (metadata bench=bulk) and volume B
1,500 (metadata bench=hot): one real snapshot per volume made through the API, cloned in Cinder's database by
``tests/cloud/cloud seed`` (removed with ``unseed`` at the end).

Scenarios (each N runs, interleaved, medians):
- list_all: all 5,000 (detail view);
- by_volume: the 1,500 of volume B, filtered by volume id;
- by_metadata: the 1,500 with bench=hot. openstack.cloud.volume_snapshot_info has no metadata filter (not
  run); the SDK's snapshot resource has none either, so the raw SDK baseline lists everything and filters in
  Python (that is what a script can do with ``conn.block_storage.snapshots``).

Tools: ours and openstack.cloud as one-task playbooks; the raw SDK as one python process
(``list(conn.block_storage.snapshots(details=True, **filters))``) run like a module process (same interpreter,
same probe). The like-for-like comparison is process to process: the module's own python process (from
interpreter start to exit, as the probe records it) against the SDK process's, measured the same way. The playbook's wall
(which adds the ansible controller, including handing 5,000 results through it) is reported next to it.
Peak RSS is the module process's own ru_maxrss. Requests are counted in the process (client side).

At scale (issue 12): 45,000 more snapshots are seeded on volume A and list_all runs again, ours and the raw SDK
only ($BENCH_INFO_LARGE sets the total, default 50,000), to show that the module's time stays a fraction of the
SDK's and its memory stays flat.
"""
from __future__ import annotations

import math
import os
import sys
import uuid

import benchlib as bl

NAME = "info"
PAGE = 1000  # Cinder's osapi_max_limit (default), the largest page it serves
COUNTS = {"a": 3500, "b": 1500}
TARGET_WALL = 1.2
TARGET_RSS_MB = 200
# At scale (issue 12): list_all again at LARGE snapshots, ours against the raw SDK only (LARGE_RUNS each).
LARGE = int(os.environ.get("BENCH_INFO_LARGE", 50000))
LARGE_RUNS = 3
TARGET_VS_SDK_AT_SCALE = 0.3   # ours <= 0.3x the raw SDK (process vs process), at both sizes
TARGET_RSS_GROWTH = 1.3        # peak RSS at LARGE <= 1.3x the RSS at 5,000
SCENARIOS = ("list_all", "by_volume", "by_metadata")
TOOLS = ("ours", "raw sdk", "openstack.cloud")
SDK_CODE = """
import json, sys
import openstack
conn = openstack.connect(app_name="cinderops-bench-sdk")
filters = json.loads(sys.argv[1])
meta = filters.pop("metadata", None)
snaps = list(conn.block_storage.snapshots(details=True, **filters))
if meta:
    snaps = [s for s in snaps if all((s.metadata or {}).get(k) == v for k, v in meta.items())]
print(len(snaps))
"""


def filters_for(scenario, vol_b):
    if scenario == "by_volume":
        return {"volume_id": vol_b.id}
    if scenario == "by_metadata":
        return {"metadata": {"bench": "hot"}}
    return {}


def run_tool(p, tool, scenario, vol_b):
    """One run; returns (Run, number of snapshots listed) or None when the tool cannot do the scenario."""
    filters = filters_for(scenario, vol_b)
    if tool == "raw sdk":
        import json
        run = p.python(SDK_CODE, [json.dumps(filters)])
        if run.rc != 0:
            raise SystemExit("raw sdk %s failed: %s" % (scenario, run.stderr[-2000:]))
        return run, int(run.stdout.split()[-1])
    if tool == "ours":
        args = {}
        if "volume_id" in filters:
            args["volume"] = filters["volume_id"]
        if "metadata" in filters:
            args["metadata"] = filters["metadata"]
        run = p.playbook([{"name": scenario, "cinderops.snapshots.snapshot_info": args}])
        key = "snapshots"
    else:
        if "metadata" in filters:
            return None
        args = {"details": True}
        if "volume_id" in filters:
            args["volume"] = filters["volume_id"]
        run = p.playbook([{"name": scenario, "openstack.cloud.volume_snapshot_info": args}])
        key = "volume_snapshots"
    if not run.ok:
        raise SystemExit("%s %s failed: %s" % (tool, scenario, run.failure()))
    return run, len(run.result().get(key) or [])


def main():
    n = bl.runs_wanted(5)
    env_before = bl.environment()
    runs = dict(((t, s), []) for t in TOOLS for s in SCENARIOS)
    listed = {}
    floor = []
    tag = "cobench-%s" % uuid.uuid4().hex[:6]
    with bl.Project(NAME) as p:
        vol_a, vol_b = p.volume(), p.volume()
        t_a = p.snapshot(vol_a.id, name="template-a", metadata={"bench": "bulk"})
        t_b = p.snapshot(vol_b.id, name="template-b", metadata={"bench": "hot"})
        p.seed(t_a.id, COUNTS["a"] - 1, "%s-a" % tag)
        p.seed(t_b.id, COUNTS["b"] - 1, "%s-b" % tag)
        expected = {"list_all": sum(COUNTS.values()), "by_volume": COUNTS["b"], "by_metadata": COUNTS["b"]}
        for i in range(n):
            floor.append(p.playbook([{"name": "ping", "ansible.builtin.ping": {}}], cloud=None))
            tools = TOOLS if i % 2 == 0 else TOOLS[::-1]
            for scenario in SCENARIOS:
                for tool in tools:
                    got = run_tool(p, tool, scenario, vol_b)
                    if got is None:
                        continue
                    run, count = got
                    if count != expected[scenario]:
                        raise SystemExit("%s %s listed %d snapshots, expected %d"
                                         % (tool, scenario, count, expected[scenario]))
                    runs[(tool, scenario)].append(run)
                    listed[scenario] = count
                    if i == 0:
                        sys.stdout.write("  %s %s: %.2f s\n" % (tool, scenario, run.wall))
            sys.stdout.write("  iteration %d/%d done\n" % (i + 1, n))
            sys.stdout.flush()
        large = {"ours": [], "raw sdk": []}
        p.seed(t_a.id, LARGE - sum(COUNTS.values()), "%s-c" % tag)
        for i in range(LARGE_RUNS):
            for tool in (("ours", "raw sdk") if i % 2 == 0 else ("raw sdk", "ours")):
                run, count = run_tool(p, tool, "list_all", vol_b)
                if count != LARGE:
                    raise SystemExit("%s listed %d snapshots, expected %d" % (tool, count, LARGE))
                large[tool].append(run)
                sys.stdout.write("  %s list_all at %d: %.2f s (process %.2f s, RSS %s MB)\n"
                                 % (tool, LARGE, run.wall, run.module_s, run.maxrss_mb))
                sys.stdout.flush()
    report(n, env_before, runs, listed, floor, large)


def at_scale(runs, large):
    """The list_all figures at 5,000 and at LARGE side by side, with issue 12's targets."""
    points = [(sum(COUNTS.values()), runs[("ours", "list_all")], runs[("raw sdk", "list_all")]),
              (LARGE, large["ours"], large["raw sdk"])]
    rows, data, verdicts = [], [], []
    for size, ours_runs, sdk_runs in points:
        ours, sdk = bl.summarize(ours_runs), bl.summarize(sdk_runs)
        ratio = bl.ratio(ours["module_s"], sdk["module_s"])
        rows.append([size, len(ours_runs), ours["module_s"], sdk["module_s"], ratio, ours["wall"], ours["maxrss_mb"],
                     sdk["maxrss_mb"], "%d + %d" % (ours["keystone"], ours["cinder"]),
                     "%d + %d" % (sdk["keystone"], sdk["cinder"])])
        data.append({"snapshots": size, "ours": _strip(ours), "raw_sdk": _strip(sdk), "ratio_process": ratio})
        verdicts.append(("list_all at %d: ours <= %.1fx raw SDK (process vs process)" % (size, TARGET_VS_SDK_AT_SCALE),
                         ratio is not None and ratio <= TARGET_VS_SDK_AT_SCALE,
                         "%.2f s vs %.2f s = %.2fx" % (ours["module_s"], sdk["module_s"], ratio)))
    small_rss, large_rss = data[0]["ours"]["maxrss_mb"], data[1]["ours"]["maxrss_mb"]
    verdicts.append(("peak RSS at %d <= %.1fx the RSS at %d" % (LARGE, TARGET_RSS_GROWTH, points[0][0]),
                     large_rss <= TARGET_RSS_GROWTH * small_rss,
                     "%.1f MB vs %.1f MB = %.2fx" % (large_rss, small_rss, large_rss / small_rss)))
    return rows, data, verdicts


def report(n, env_before, runs, listed, floor_runs, large):
    floor = bl.summarize(floor_runs)
    rows, data_rows, verdicts = [], {}, []
    for scenario in SCENARIOS:
        s = dict((t, bl.summarize(runs[(t, scenario)]) if runs[(t, scenario)] else None) for t in TOOLS)
        ours, sdk, osc = s["ours"], s["raw sdk"], s["openstack.cloud"]
        pages = int(math.ceil(listed[scenario] / float(PAGE)))
        ratio_proc = bl.ratio(ours["module_s"], sdk["module_s"])
        rows.append([scenario, listed[scenario], ours["module_s"], sdk["module_s"], ratio_proc,
                     osc["module_s"] if osc else None, ours["wall"], osc["wall"] if osc else None,
                     bl.ratio(ours["wall"], osc["wall"]) if osc else None, ours["maxrss_mb"],
                     osc["maxrss_mb"] if osc else None, sdk["maxrss_mb"],
                     "%d + %d" % (ours["keystone"], ours["cinder"]), "%d + %d" % (sdk["keystone"], sdk["cinder"]),
                     "%d + %d" % (osc["keystone"], osc["cinder"]) if osc else None])
        data_rows[scenario] = {
            "listed": listed[scenario], "pages_needed": pages,
            "ratio_module_process_vs_sdk_process": ratio_proc,
            "ratio_playbook_vs_sdk_process": bl.ratio(ours["wall"], sdk["wall"]),
            "ratio_vs_openstack_cloud_playbook": bl.ratio(ours["wall"], osc["wall"]) if osc else None,
            "summary": dict((t, _strip(v)) for t, v in s.items()),
            "runs": dict((t, [r.brief() for r in runs[(t, scenario)]]) for t in TOOLS)}
        if scenario == "list_all":
            verdicts.append(("%s: ours <= %.1fx raw SDK (process vs process)" % (scenario, TARGET_WALL),
                             ratio_proc is not None and ratio_proc <= TARGET_WALL,
                             "module process %.2f s vs SDK process %.2f s = %.2fx (playbook %.2f s = %.2fx)"
                             % (ours["module_s"], sdk["module_s"], ratio_proc, ours["wall"],
                                bl.ratio(ours["wall"], sdk["wall"]))))
            verdicts.append(("%s: peak RSS of the module process <= %d MB" % (scenario, TARGET_RSS_MB),
                             ours["maxrss_mb"] <= TARGET_RSS_MB, "%.1f MB" % ours["maxrss_mb"]))
        verdicts.append(("%s: Cinder requests <= pages + 1 (%d pages of %d)" % (scenario, pages, PAGE),
                         ours["cinder"] <= pages + 1,
                         "%d Cinder + %d Keystone" % (ours["cinder"], ours["keystone"])))
    scale_rows, scale_data, scale_verdicts = at_scale(runs, large)
    verdicts += scale_verdicts
    env_after = bl.environment()
    data = {"benchmark": NAME, "runs_per_measurement": n, "environment": env_before,
            "loadavg_after": env_after["loadavg"], "floor": _strip(floor), "scenarios": data_rows,
            "at_scale": scale_data,
            "targets": [{"target": t, "met": bool(m), "measured": v} for t, m, v in verdicts]}
    md = ["# snapshot_info: 5,000 and %d snapshots, vs raw openstacksdk and openstack.cloud.volume_snapshot_info"
          % LARGE, "",
          "Measured %s on %d cores (load %s before, %s after), Python %s, ansible-core %s, openstacksdk %s. "
          "Medians of %d runs. \"process\" = one python process from interpreter start to exit (ours and "
          "openstack.cloud: the module's own process; raw SDK: a script doing the same listing); \"playbook\" = "
          "the whole one-task ansible-playbook run (ping floor here: %.2f s). Requests: Keystone + Cinder, "
          "counted in the process. Pages hold up to %d snapshots." % (
              env_before["date"], env_before["cores"], env_before["loadavg"], env_after["loadavg"],
              env_before["python"], env_before["ansible-core"], env_before["openstacksdk"], n, floor["wall"], PAGE),
          "",
          bl.md_table(["scenario", "snapshots", "ours process s", "raw SDK process s", "ours/SDK",
                       "o.c process s", "ours playbook s", "o.c playbook s", "ours/o.c playbook", "ours RSS MB",
                       "o.c RSS MB", "SDK RSS MB", "ours req", "SDK req", "o.c req"], rows),
          "by_metadata: openstack.cloud.volume_snapshot_info has no metadata filter; the raw SDK lists all 5,000 and "
          "filters in Python (its snapshot resource has no metadata query parameter).", "",
          "At scale: list_all at 5,000 (the runs above) and at %d snapshots (%d more seeded; %d runs each of ours "
          "and the raw SDK, alternating). The module streams each page to its output and keeps no page "
          "bodies, so its memory should not grow with the count." % (LARGE, LARGE - sum(COUNTS.values()), LARGE_RUNS),
          "",
          bl.md_table(["snapshots", "runs", "ours process s", "raw SDK process s", "ours/SDK", "ours playbook s",
                       "ours RSS MB", "SDK RSS MB", "ours req", "SDK req"], scale_rows),
          "Targets for ours:", "",
          bl.md_table(["target", "met", "measured"], [[t, "yes" if m else "**no**", v] for t, m, v in verdicts])]
    paths = bl.write_results(NAME, data, "\n".join(md))
    print("\n".join(md))
    print("results: %s" % ", ".join(paths))


def _strip(summary):
    return dict((k, v) for k, v in summary.items() if k != "walls") if summary else None


if __name__ == "__main__":
    main()
