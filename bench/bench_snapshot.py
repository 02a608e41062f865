# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""cinderops.snapshots.snapshot side by side with openstack.cloud.volume_snapshot, on the local cloud.

Each run is one ansible-playbook process with one task, as a user would run it. Per iteration, every
scenario runs once with each module, in alternating order (ours first on even iterations, theirs first on odd
ones), so that load from other users of the machine lands on both alike. Figures are medians over N runs
($BENCH_RUNS, default 7, at least 5).

Scenarios (all in a project of the benchmark's own, as a member user):
- floor: an ansible.builtin.ping task (what any one-task playbook costs here);
- rerun_by_name / rerun_by_id: the snapshot exists; the task is an idempotent rerun, volume given by name / id
  (openstack.cloud finds snapshots by name across the project, so it ignores the volume on a rerun);
- create_wait: a new snapshot of the volume (given by id), wait: true;
- delete_wait: state: absent for the snapshot the create run just made, wait: true;
- rerun_by_id_no_token_cache (extra, ours only, no target): rerun_by_id with auth_cache: false, i.e. a new
  Keystone token every run (ours reuses a cached token by default). Skipped when the option does not exist.

Before the first iteration, each module runs the rerun task once, uncounted (as the rotation benchmark warms
up): a rerun is a steady-state task, and ours connects in full, fetches a token and records its session only on
a project's first run. What a run without those caches costs is the rerun_by_id_no_token_cache row.

"A finished creation seen within 1 s": for each create run, the time from the moment the backend finished
the snapshot (cinder-volume logs "Create snapshot completed successfully" right after it saved the status
available; matched by the request id of the POST) to the end of the module's first GET that shows it
available (client-side probe). Also reported: to the module process's exit. Snapshot's updated_at is not used:
MariaDB keeps it to the second.
"""
from __future__ import annotations

import os
import sys

import benchlib as bl

NAME = "snapshot"
ANCHOR = {  # openstack.cloud, measured on a machine of this kind (the figures)
    "floor": {"wall": 0.93},
    "rerun_by_name": {"wall": 1.94, "keystone": 2, "cinder": 4},
    "rerun_by_id": {"wall": 1.94, "keystone": 2, "cinder": 4},
    "create_wait": {"wall": 4.1, "keystone": 2, "cinder": 9},
    "delete_wait": {"wall": 4.0, "keystone": 2, "cinder": 7},
}
TARGET_WALL = 0.8  # ours <= 0.8 x anchor
TARGET_REQUESTS = {"rerun_by_name": 4, "rerun_by_id": 3}
TARGET_SEEN = 1.0
SCENARIOS = ("rerun_by_name", "rerun_by_id", "create_wait", "delete_wait")
TOOLS = ("ours", "openstack.cloud")
RERUN = "bench-rerun"
NOCACHE = "rerun_by_id_no_token_cache"


def has_token_cache():
    """Whether our modules have the auth_cache option (a Keystone token reused across runs)."""
    with open(os.path.join(bl.REPO, "plugins", "module_utils", "_module.py")) as f:
        return "auth_cache" in f.read()


def task(tool, scenario, vol, name):
    volume = vol.name if scenario == "rerun_by_name" else vol.id
    if tool == "ours":
        args = {"volume": volume, "name": name}
        if scenario == "delete_wait":
            args["state"] = "absent"
        return {"name": scenario, "cinderops.snapshots.snapshot": args}
    args = {"display_name": name}
    if scenario == "delete_wait":
        args["state"] = "absent"
    else:
        args["volume"] = volume
    return {"name": scenario, "openstack.cloud.volume_snapshot": args}


def check(run, tool, scenario):
    """Fail loudly when a run did not do what the scenario says."""
    if not run.ok:
        raise SystemExit("%s %s failed: %s" % (tool, scenario, run.failure()))
    changed = run.result().get("changed")
    if changed != (scenario in ("create_wait", "delete_wait")):
        raise SystemExit("%s %s: changed=%r, not what the scenario expects" % (tool, scenario, changed))


def creation_seen(run):
    """Seconds from 'backend finished' to the module's first GET showing available, and to process exit."""
    post = [r for r in run.requests if r["method"] == "POST" and r["url"].endswith("/snapshots")]
    if not post or not post[0].get("rid") or not run.procs:
        return None
    done = bl.volume_log_times(post[0]["rid"], "Create snapshot completed successfully")
    seen = [r["t1"] for r in run.requests if r.get("snap_status") == "available" and r["t0"] >= post[0]["t1"]]
    if not done or not seen:
        return None
    polls = sum(1 for r in run.requests if r["method"] == "GET" and r["t0"] >= post[0]["t1"])
    return {"seen": round(min(seen) - done[0], 3), "exit": round(run.procs[0]["end"] - done[0], 3),
            "backend": round(done[0] - post[0]["t1"], 3), "polls": polls}


def main():
    n = bl.runs_wanted(7)
    env_before = bl.environment()
    runs = dict(((tool, s), []) for tool in TOOLS for s in SCENARIOS)
    runs["floor"] = []
    seen = {"ours": [], "openstack.cloud": []}
    calls = {}
    if has_token_cache():
        runs[("ours", NOCACHE)] = []
    with bl.Project(NAME) as p:
        vol = p.volume()
        p.snapshot(vol.id, name=RERUN)
        for tool in TOOLS:  # the uncounted warm-up (see the module docstring)
            check(p.playbook([task(tool, "rerun_by_name", vol, RERUN)]), tool, "rerun_by_name")
        for i in range(n):
            order = TOOLS if i % 2 == 0 else TOOLS[::-1]
            runs["floor"].append(p.playbook([{"name": "ping", "ansible.builtin.ping": {}}], cloud=None))
            for scenario in SCENARIOS:
                for tool in order:
                    name = RERUN if scenario.startswith("rerun") else "bench-%s-%d" % (
                        "ours" if tool == "ours" else "osc", i)
                    run = p.playbook([task(tool, scenario, vol, name)])
                    if scenario == "create_wait":
                        snap = run.result().get("snapshot") or {}
                        p.track_snapshot(snap.get("id"))
                    check(run, tool, scenario)
                    runs[(tool, scenario)].append(run)
                    calls["%s %s" % (tool, scenario)] = run.calls()  # the last run: warm, like the median
                    if scenario == "create_wait":
                        seen[tool].append(creation_seen(run))
            if ("ours", NOCACHE) in runs:
                # Extra, ours only: the rerun with a new token, as on a first run or after the token expired.
                t = task("ours", "rerun_by_id", vol, RERUN)
                t["cinderops.snapshots.snapshot"]["auth_cache"] = False
                run = p.playbook([t])
                check(run, "ours", "rerun_by_id")
                runs[("ours", NOCACHE)].append(run)
                calls["ours %s" % NOCACHE] = run.calls()
            sys.stdout.write("  iteration %d/%d done\n" % (i + 1, n))
            sys.stdout.flush()
    report(n, env_before, runs, seen, calls)


def report(n, env_before, runs, seen, calls):
    floor = bl.summarize(runs["floor"])
    rows, data_rows, verdicts = [], {}, []
    rows.append(["floor (ping playbook)", floor["wall"], "—", "—", "—", bl.ratio(floor["wall"], ANCHOR["floor"]["wall"]),
                 "—", "—", "—"])
    for scenario in SCENARIOS:
        ours = bl.summarize(runs[("ours", scenario)])
        theirs = bl.summarize(runs[("openstack.cloud", scenario)])
        anchor = ANCHOR[scenario]
        r_theirs = bl.ratio(ours["wall"], theirs["wall"])
        r_anchor = bl.ratio(ours["wall"], anchor["wall"])
        rows.append([scenario, ours["wall"], theirs["wall"], anchor["wall"], r_theirs, r_anchor,
                     "%d + %d" % (ours["keystone"], ours["cinder"]), "%d + %d" % (theirs["keystone"], theirs["cinder"]),
                     "%d + %d" % (anchor["keystone"], anchor["cinder"])])
        data_rows[scenario] = {"ours": _strip(ours), "openstack.cloud": _strip(theirs), "anchor": anchor,
                               "ratio_vs_openstack_cloud": r_theirs, "ratio_vs_anchor": r_anchor,
                               "runs": {"ours": [r.brief() for r in runs[("ours", scenario)]],
                                        "openstack.cloud": [r.brief() for r in runs[("openstack.cloud", scenario)]]}}
        verdicts.append(("%s wall <= %.1fx anchor (%.2f s)" % (scenario, TARGET_WALL, TARGET_WALL * anchor["wall"]),
                         ours["wall"] <= TARGET_WALL * anchor["wall"],
                         "%.2f s (%.2fx anchor; %.2fx openstack.cloud in this run)" % (ours["wall"], r_anchor, r_theirs)))
        if scenario in TARGET_REQUESTS:
            verdicts.append(("%s requests <= %d" % (scenario, TARGET_REQUESTS[scenario]),
                             ours["requests"] <= TARGET_REQUESTS[scenario],
                             "%d (%d Keystone + %d Cinder)" % (ours["requests"], ours["keystone"], ours["cinder"])))
    if ("ours", NOCACHE) in runs:
        nc = bl.summarize(runs[("ours", NOCACHE)])
        rows.append(["%s (ours only, auth_cache: false; no target)" % NOCACHE, nc["wall"], "—", ANCHOR["rerun_by_id"]["wall"],
                     bl.ratio(nc["wall"], data_rows["rerun_by_id"]["openstack.cloud"]["wall"]),
                     bl.ratio(nc["wall"], ANCHOR["rerun_by_id"]["wall"]), "%d + %d" % (nc["keystone"], nc["cinder"]), "—", "—"])
        data_rows[NOCACHE] = {"ours": _strip(nc), "runs": {"ours": [r.brief() for r in runs[("ours", NOCACHE)]]},
                              "ratio_vs_anchor": bl.ratio(nc["wall"], ANCHOR["rerun_by_id"]["wall"])}
    seen_summary = {}
    for tool in TOOLS:
        vals = [s for s in seen[tool] if s]
        seen_summary[tool] = {
            "seen_median": bl.median([s["seen"] for s in vals]), "seen_max": max([s["seen"] for s in vals] or [None]),
            "exit_median": bl.median([s["exit"] for s in vals]), "backend_median": bl.median([s["backend"] for s in vals]),
            "polls_median": bl.median([s["polls"] for s in vals]), "measured": len(vals)}
    ours_seen = seen_summary["ours"]
    verdicts.append(("a finished creation seen within %.0f s" % TARGET_SEEN,
                     ours_seen["seen_max"] is not None and ours_seen["seen_max"] <= TARGET_SEEN,
                     "median %s s, max %s s after the backend finished (module exit: median %s s)"
                     % (ours_seen["seen_median"], ours_seen["seen_max"], ours_seen["exit_median"])))
    env_after = bl.environment()
    data = {"benchmark": NAME, "runs_per_measurement": n, "environment": env_before, "loadavg_after": env_after["loadavg"],
            "floor": _strip(floor), "scenarios": data_rows, "creation_seen": seen_summary,
            "targets": [{"target": t, "met": bool(m), "measured": v} for t, m, v in verdicts],
            "requests_of_one_run": calls}
    md = ["# snapshot module vs openstack.cloud.volume_snapshot", "",
          "Measured %s on %d cores (load %s before, %s after), Python %s, ansible-core %s, openstacksdk %s. "
          "Medians of %d runs; each run is one `ansible-playbook` process with one task. Requests: Keystone + "
          "Cinder, counted in the module process (cross-checked against cinder-api.log). Ours runs with its "
          "defaults; each module first ran the rerun task once, uncounted, so ours has its token and session "
          "record from then on (%s: a new token and a full connection every run)."
          % (env_before["date"], env_before["cores"], env_before["loadavg"], env_after["loadavg"],
             env_before["python"], env_before["ansible-core"], env_before["openstacksdk"], n, NOCACHE), "",
          bl.md_table(["task", "ours s", "openstack.cloud s", "anchor s", "ours/o.c", "ours/anchor",
                       "ours req", "o.c req", "anchor req"], rows),
          "Same-run speed: the ping floor here is %.2fx the anchor's 0.93 s. For orientation only (the targets "
          "use the raw figures): ours x (0.93 / floor) = %s s." % (
              bl.ratio(floor["wall"], ANCHOR["floor"]["wall"]),
              ", ".join("%s %.2f" % (s, data_rows[s]["ours"]["wall"] * ANCHOR["floor"]["wall"] / floor["wall"])
                        for s in SCENARIOS)), "",
          "Above the floor: the time a task adds to a no-op playbook (median wall minus the median ping "
          "floor of the same run; the anchor's own floor is 0.93 s). This is the part the module decides; the "
          "floor is the machine's and ansible-playbook's.", "",
          bl.md_table(["task", "ours s", "openstack.cloud s", "anchor s", "ours/o.c", "ours/anchor"],
                      above_floor_rows(data_rows, floor["wall"])),
          "Module process (medians, ours / openstack.cloud): before its first request (interpreter, imports, "
          "config), inside HTTP requests, of which the first authenticated Cinder request (with a token new to "
          "Cinder, keystonemiddleware validates it with Keystone before Cinder answers), and the whole process:", "",
          bl.md_table(["task", "startup s", "http s", "first Cinder request s", "module process s"],
                      process_rows(data_rows)),
          "A finished creation seen (seconds after cinder-volume logged the snapshot done; medians):", "",
          bl.md_table(["module", "first GET showing available", "max", "module exit", "backend time", "polls"],
                      [[t, seen_summary[t]["seen_median"], seen_summary[t]["seen_max"], seen_summary[t]["exit_median"],
                        seen_summary[t]["backend_median"], seen_summary[t]["polls_median"]] for t in TOOLS]),
          "Targets for ours:", "",
          bl.md_table(["target", "met", "measured"], [[t, "yes" if m else "**no**", v] for t, m, v in verdicts])]
    paths = bl.write_results(NAME, data, "\n".join(md))
    print("\n".join(md))
    print("results: %s" % ", ".join(paths))


def above_floor_rows(data_rows, floor_wall):
    rows = []
    for scenario in SCENARIOS:
        ours = round(data_rows[scenario]["ours"]["wall"] - floor_wall, 3)
        theirs = round(data_rows[scenario]["openstack.cloud"]["wall"] - floor_wall, 3)
        anchor = round(ANCHOR[scenario]["wall"] - ANCHOR["floor"]["wall"], 3)
        data_rows[scenario]["above_floor"] = {"ours": ours, "openstack.cloud": theirs, "anchor": anchor}
        rows.append([scenario, ours, theirs, anchor, bl.ratio(ours, theirs), bl.ratio(ours, anchor)])
    return rows


def process_rows(data_rows):
    """Rows of the module-process table: 'ours / openstack.cloud' per column."""
    keys = ("startup_s", "http_s", "first_cinder_s", "module_s")
    rows = []
    for scenario in SCENARIOS + (NOCACHE,):
        if scenario in data_rows:
            theirs = data_rows[scenario].get("openstack.cloud") or {}
            rows.append([scenario] + ["%s / %s" % (data_rows[scenario]["ours"][k], theirs.get(k, "—")) for k in keys])
    return rows


def _strip(summary):
    return dict((k, v) for k, v in summary.items() if k != "walls")


if __name__ == "__main__":
    main()
