# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rotation job at fleet scale: how wall time, requests and memory grow with the number of volumes (issue 12).

The job is bench_rotation's, with one owned snapshot per volume and ``keep_last: 1``: one run creates a snapshot
per volume, waits until it is available, and prunes the previous one (and waits until it is gone), so runs can
follow each other. ``cinderops.snapshots.snapshot_rotation`` (one ansible-playbook process, one task, 8 workers)
runs it over the first 10, 50, 100, 200 and 400 volumes of one set ($BENCH_SCALE_SIZES), $BENCH_SCALE_RUNS
times per size (default 3, medians), smallest first, after one uncounted warm-up at the smallest size.

Per size: wall time, Keystone and Cinder requests (client side), the module process's peak RSS, and where
the time goes: CPU seconds of each local-cloud service during the run (cinder-api, cinder-volume, the
scheduler, MariaDB, RabbitMQ, Keystone; from /proc), CPU of our own processes (ansible-playbook and the
module), the module's time inside HTTP requests, and the rest of its time (waiting between poll rounds for
Cinder to finish). Least-squares lines of wall and requests over the volume count give the slope (cost per
volume) and R² (how straight the line is).
"""
from __future__ import annotations

import os
import sys
import time

import bench_rotation as rot
import benchlib as bl

NAME = "scale"
SIZES = [int(x) for x in os.environ.get("BENCH_SCALE_SIZES", "10,50,100,200,400").split(",")]
RUNS = max(1, int(os.environ.get("BENCH_SCALE_RUNS", 3)))
TARGET_R2 = 0.98           # "grows linearly": the straight line explains at least 98% of the variation
TARGET_RSS_GROWTH_MB = 20  # peak RSS from the smallest to the largest size


def say(text):
    sys.stdout.write("  %s\n" % text)
    sys.stdout.flush()


COST_CALLS = 60
COST_SIZES = (1, 10, 50, 100, 200, 400)


def module_constants():
    """GET_MS, LIST_MS and ITEM_MS as plugins/module_utils/_rotation.py has them."""
    import re
    with open(os.path.join(bl.REPO, "plugins", "module_utils", "_rotation.py")) as f:
        text = f.read()
    return dict((k, float(re.search(r"^%s = ([0-9.]+)" % k, text, re.M).group(1))) for k in ("GET_MS", "LIST_MS", "ITEM_MS"))


def cost_model(p):
    """cinder-api CPU per read, measured: a single GET, and listings (the rotation's filter) of 1 to 400 snapshots."""
    import json
    bs = p.conn.block_storage
    meta = json.dumps({rot.OWNER: rot.POLICY})
    one = bs.get("/snapshots/detail", params={"metadata": meta, "limit": 1}).json()["snapshots"][0]["id"]

    def per_call(func):
        time.sleep(1)  # let the cloud settle
        before = bl.service_cpu()
        for _unused in range(COST_CALLS):
            func()
        return round(1000.0 * bl.cpu_delta(before, bl.service_cpu())["cinder-api"] / COST_CALLS, 2)

    get_ms = per_call(lambda: bs.get("/snapshots/%s" % one))
    lists = dict((k, per_call(lambda k=k: bs.get("/snapshots/detail", params={"metadata": meta, "limit": k})))
                 for k in COST_SIZES)
    slope, intercept, r2 = bl.linear_fit(list(lists), list(lists.values()))
    return {"get_ms": get_ms, "list_ms": lists, "fit_list_ms": round(intercept, 2), "fit_item_ms": round(slope, 4),
            "fit_r2": round(r2, 4), "calls_each": COST_CALLS, "module": module_constants()}


def crossover(costs):
    """Where a listing starts to cost more than one GET, in words."""
    if costs["fit_list_ms"] >= costs["get_ms"] or costs["fit_item_ms"] <= 0:
        return "one GET costs less than any listing"
    return "a listing costs more than one GET from %.0f snapshots on" % (
        (costs["get_ms"] - costs["fit_list_ms"]) / costs["fit_item_ms"])


def measure(p, volume_ids):
    """One run over ``volume_ids``: the Run, plus CPU seconds per service and of our own processes."""
    cloud0, own0 = bl.service_cpu(), bl.own_cpu()
    run = rot.run_module(p, volume_ids, keep=1)
    cloud = bl.cpu_delta(cloud0, bl.service_cpu())
    return run, cloud, round(bl.own_cpu() - own0, 2)


def busy_s(run):
    """Time the module had at least one request in flight (the union of its requests' intervals)."""
    total, end = 0.0, None
    for t0, t1 in sorted((r["t0"], r["t1"]) for r in run.requests):
        if end is None or t0 > end:
            total += t1 - t0
            end = t1
        elif t1 > end:
            total += t1 - end
            end = t1
    return round(total, 3)


def point(size, samples):
    """The medians of one size's runs."""
    runs = [s[0] for s in samples]
    summary = bl.summarize(runs)
    cpu = dict((name, bl.median([s[1][name] for s in samples])) for name in samples[0][1])
    http = bl.median([busy_s(r) for r in runs])
    module = bl.median([r.module_s for r in runs])
    return {
        "volumes": size, "runs": len(runs), "wall": summary["wall"], "walls": summary["walls"],
        "keystone": summary["keystone"], "cinder": summary["cinder"], "requests": summary["requests"],
        "requests_per_volume": round(summary["requests"] / float(size), 2),
        "wall_per_volume": round(summary["wall"] / size, 4),
        "module_maxrss_mb": max(r.maxrss_mb for r in runs),
        "module_s": module, "module_http_s": http,
        "module_waiting_s": round(module - http, 3) if module is not None and http is not None else None,
        "ours_cpu_s": bl.median([s[2] for s in samples]), "cloud_cpu_s": cpu,
    }


def main():
    os.environ.pop("OS_CLIENT_CONFIG_FILE", None)  # as in bench_rotation: the project's own clouds.yaml
    env_before = bl.environment()
    points = []
    with bl.Project(NAME) as p:
        try:
            t0 = time.monotonic()
            vols = rot.make_volumes(p, max(SIZES), "scale")
            rot.make_snapshots(p, vols, 1, {rot.OWNER: rot.POLICY}, "init")
            ids = [v.id for v in vols]
            setup_s = round(time.monotonic() - t0, 1)
            say("set-up: %d volumes with one owned snapshot each in %.0f s" % (len(ids), setup_s))
            costs = cost_model(p)
            say("cost model: GET %.1f ms, listing %.1f ms + %.3f ms per snapshot (cinder-api CPU)"
                % (costs["get_ms"], costs["fit_list_ms"], costs["fit_item_ms"]))
            warm = rot.run_module(p, ids[:min(SIZES)], keep=1)
            say("warm-up at %d volumes: %.1f s (not counted)" % (min(SIZES), warm.wall))
            for size in sorted(SIZES):
                samples = []
                for i in range(RUNS):
                    samples.append(measure(p, ids[:size]))
                    say("%d volumes, run %d/%d: %.1f s, %d requests, RSS %s MB"
                        % (size, i + 1, RUNS, samples[-1][0].wall, samples[-1][0].keystone + samples[-1][0].cinder,
                           samples[-1][0].maxrss_mb))
                counts = rot.owned_count(p, ids[:size])
                if any(n != 1 for n in counts.values()):
                    raise SystemExit("%d volumes: not exactly one owned snapshot each afterwards" % size)
                points.append(point(size, samples))
        finally:
            rot.remove_everything(p)
    report(env_before, points, setup_s, warm, costs)


def report(env_before, points, setup_s, warm, costs):
    xs = [pt["volumes"] for pt in points]
    wall_fit = bl.linear_fit(xs, [pt["wall"] for pt in points])
    req_fit = bl.linear_fit(xs, [pt["requests"] for pt in points])
    rss_growth = round(points[-1]["module_maxrss_mb"] - points[0]["module_maxrss_mb"], 1)
    targets = [
        ("requests grow linearly (R² >= %.2f)" % TARGET_R2, req_fit[2] >= TARGET_R2,
         "R² %.4f, %.2f requests per volume + %.1f" % (req_fit[2], req_fit[0], req_fit[1])),
        ("wall grows linearly (R² >= %.2f)" % TARGET_R2, wall_fit[2] >= TARGET_R2,
         "R² %.4f, %.4f s per volume + %.2f s" % (wall_fit[2], wall_fit[0], wall_fit[1])),
        ("module peak RSS grows <= %d MB from %d to %d volumes" % (TARGET_RSS_GROWTH_MB, xs[0], xs[-1]),
         rss_growth <= TARGET_RSS_GROWTH_MB,
         "%s MB -> %s MB (+%s MB)" % (points[0]["module_maxrss_mb"], points[-1]["module_maxrss_mb"], rss_growth)),
    ]
    env_after = bl.environment()
    services = list(points[0]["cloud_cpu_s"])
    data = {
        "benchmark": NAME, "environment": env_before, "loadavg_after": env_after["loadavg"],
        "job": {"sizes": xs, "runs_per_size": RUNS, "policy": {"keep_last": 1, "min_interval": "0h"},
                "per_run": "create 1 snapshot per volume, wait until available, prune the previous, wait until gone",
                "workers": rot.WORKERS},
        "setup_s": setup_s, "warmup_wall": warm.wall, "points": points,
        "fit": {"wall": dict(zip(("slope_s_per_volume", "intercept_s", "r2"), [round(v, 4) for v in wall_fit])),
                "requests": dict(zip(("slope_per_volume", "intercept", "r2"), [round(v, 4) for v in req_fit]))},
        "rss_growth_mb": rss_growth, "cost_model": costs,
        "targets": [{"target": t, "met": bool(m), "measured": v} for t, m, v in targets],
    }
    rows = [[pt["volumes"], pt["wall"], pt["wall_per_volume"], pt["requests"], pt["requests_per_volume"],
             pt["module_maxrss_mb"]] for pt in points]
    time_rows = [[pt["volumes"], pt["wall"], pt["module_http_s"], pt["module_waiting_s"], pt["ours_cpu_s"]]
                 + [pt["cloud_cpu_s"][s] for s in services] for pt in points]
    md = [
        "# snapshot_rotation at fleet scale",
        "",
        "Measured %s on %d cores (load %s before, %s after), Python %s, ansible-core %s, openstacksdk %s."
        % (env_before["date"], env_before["cores"], env_before["loadavg"], env_after["loadavg"], env_before["python"],
           env_before["ansible-core"], env_before["openstacksdk"]),
        "",
        "The job: one owned snapshot per volume, `keep_last: 1`; one run creates a snapshot per volume, waits until "
        "it is available, prunes the previous one and waits until it is gone; %d workers. Medians of %d runs per "
        "size, after one uncounted warm-up at %d volumes (%.1f s). Requests are Keystone + Cinder, counted in the "
        "module process." % (rot.WORKERS, RUNS, xs[0], warm.wall),
        "",
        bl.md_table(["volumes", "wall s", "s per volume", "requests", "requests per volume", "module peak RSS MB"],
                    rows),
        "Fits over the volume count: wall = %.4f s x volumes + %.2f s (R² %.4f); requests = %.2f x volumes + %.1f "
        "(R² %.4f)." % (wall_fit[0], wall_fit[1], wall_fit[2], req_fit[0], req_fit[1], req_fit[2]),
        "",
        "Where the time goes (medians per run, seconds): the module's time inside HTTP requests and the rest of its "
        "time (mostly waiting between poll rounds for Cinder to finish), CPU of our own processes "
        "(ansible-playbook and the module), and CPU each service of the local cloud used during the run. The "
        "machine has %d cores, so CPU seconds above %d x wall mean the cores were the limit."
        % (env_before["cores"], env_before["cores"]),
        "",
        bl.md_table(["volumes", "wall", "module in HTTP", "module waiting", "ours CPU"] + ["%s CPU" % s for s in services],
                    time_rows),
        "Targets:",
        "",
        bl.md_table(["target", "met", "measured"], [[t, "yes" if m else "**no**", v] for t, m, v in targets]),
        "## Cost model",
        "",
        "What a read costs cinder-api, in CPU milliseconds per call (%d calls each, from /proc): a single "
        "`GET /snapshots/<id>`, and `GET /snapshots/detail` with the rotation's ownership filter and `limit=k`. "
        "The rotation paces its poll rounds by these figures and uses single GETs only where they cost less "
        "(`GET_MS`, `LIST_MS`, `ITEM_MS` in plugins/module_utils/_rotation.py, shown for comparison)."
        % costs["calls_each"],
        "",
        bl.md_table(["read", "cinder-api CPU ms"],
                    [["GET one snapshot", costs["get_ms"]]]
                    + [["listing of %d" % k, v] for k, v in sorted(costs["list_ms"].items())]),
        "Fit: a listing costs %.2f ms + %.4f ms per snapshot (R² %.3f); %s. The module's constants: GET %.1f ms, "
        "listing %.1f ms + %.3f ms per snapshot."
        % (costs["fit_list_ms"], costs["fit_item_ms"], costs["fit_r2"], crossover(costs),
           costs["module"]["GET_MS"], costs["module"]["LIST_MS"], costs["module"]["ITEM_MS"]),
        "",
    ]
    paths = bl.write_results(NAME, data, "\n".join(md))
    print("\n".join(md))
    print("results: %s" % ", ".join(paths))


if __name__ == "__main__":
    main()
