# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rotation job three ways, on the local cloud, in one run (issue 5's benchmark).

The job: 100 volumes, each with 3 snapshots owned by the policy, policy ``keep_last: 3``. One run creates
one snapshot per volume, waits until it is available, and prunes one (the oldest), so every run leaves the
volumes as it found them (3 owned snapshots each) and runs can follow each other.

- (a) ``cinderops.snapshots.snapshot_rotation``: one ansible-playbook process, one task, 8 workers.
- (b) ``openstack.cloud.volume_snapshot`` in a loop: one task creating (wait: true) and one deleting the oldest
  (wait: true), looping over the volumes. It runs about 7 s per volume, so it runs ONCE over its own
  20 volumes (snapshots it makes carry no ownership marker, so it cannot share the 100), and its time is
  extrapolated per volume: clearly labelled in the results.
- (c) a raw openstacksdk script, 8 threads, the same calls: one listing, then per volume create, wait,
  delete the oldest, wait. It polls every 0.25 s (as fast as our first poll; ours then backs off). For
  reference, one run of the same script with the SDK's default polling (every 2 s) is reported too.

(a) and (c) alternate over N runs ($BENCH_RUNS, default 5, at least 5) after one warm-up run of (a) that is
not counted; figures are medians of wall time per volume. Everything runs in a project and member user of
the benchmark's own (bench/benchlib.py), so other users of the cloud do not show up in our listings or
request counts; all volumes and snapshots are removed at the end.
"""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import benchlib as bl

NAME = "rotation"
# The sizes; the environment can shrink them for a quick trial of the script itself.
VOLUMES = int(os.environ.get("BENCH_ROTATION_VOLUMES", 100))
LOOP_VOLUMES = int(os.environ.get("BENCH_ROTATION_LOOP_VOLUMES", 20))  # (b): one run, extrapolated per volume
WORKERS = 8
POLICY = "bench-rotation"
OWNER = "cinderops:policy"
TARGET_VS_LOOP = 20.0      # (a) at least 20x faster than (b)
TARGET_VS_RAW = 1.5        # (a) at most 1.5x (c)
TARGET_VS_RAW_FLEET = 0.7  # issue 12: (a) at most 0.7x (c)
TARGET_REQUESTS = 2.5      # issue 12: at most 2.5 Cinder requests per volume
ANCHOR_LOOP_ITEM = 3.5     # the anchor for openstack.cloud.volume_snapshot, s per item (create or delete)

RAW = r"""
import json, os, sys
from concurrent.futures import ThreadPoolExecutor
import openstack

policy, tag, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
volume_ids = sys.argv[4].split(",")
conn = openstack.connect(cloud=os.environ["OS_CLOUD"], app_name="cinderops-bench-raw")
bs = conn.block_storage
owned = {}
for snap in bs.snapshots(details=True):
    if (snap.metadata or {}).get("cinderops:policy") == policy:
        owned.setdefault(snap.volume_id, []).append(snap)

def rotate(volume_id):
    new = bs.create_snapshot(volume_id=volume_id, name="%s-%s" % (tag, volume_id[:8]),
                             metadata={"cinderops:policy": policy})
    bs.wait_for_status(new, "available", failures=["error"], interval=interval, wait=300)
    oldest = min(owned[volume_id], key=lambda s: s.created_at)
    bs.delete_snapshot(oldest)
    bs.wait_for_delete(oldest, interval=interval, wait=300)
    return 1

with ThreadPoolExecutor(max_workers=8) as pool:
    done = sum(pool.map(rotate, volume_ids))
print(json.dumps({"rotated": done}))
"""


# ---------------------------------------------------------------------------------------------------- set-up

def make_volumes(p, count, prefix, batch=100):
    """``count`` volumes, ``batch`` at a time (400 at once exhaust the local MariaDB's connections), available."""
    vols = []
    for start in range(0, count, batch):
        for n in range(start, min(count, start + batch)):
            vol = p.conn.block_storage.create_volume(size=1, name="%s-%03d" % (prefix, n))
            p.volumes.append(vol.id)
            vols.append(vol)
        wait_available(p, vols)
    return vols


def wait_available(p, vols):
    count = len(vols)
    wanted = set(v.id for v in vols)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        listing = p.conn.block_storage.get("/volumes/detail", params={"limit": 1000}).json()["volumes"]
        status = dict((v["id"], v["status"]) for v in listing if v["id"] in wanted)
        if any(s == "error" for s in status.values()):
            raise SystemExit("a benchmark volume went to error")
        if len(status) == count and all(s == "available" for s in status.values()):
            return vols
        time.sleep(1)
    raise SystemExit("benchmark volumes not available after 600 s")


def make_snapshots(p, vols, per_volume, metadata, prefix):
    """``per_volume`` snapshots on each volume, one after the other per volume, 8 volumes at a time."""
    def on(vol):
        names = []
        for k in range(per_volume):
            name = "%s-%s-%d" % (prefix, vol.id[:8], k)
            p.snapshot(vol.id, name=name, metadata=metadata, wait=True)
            names.append(name)
        return names

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(zip([v.id for v in vols], pool.map(on, vols)))


def owned_count(p, volume_ids):
    """{volume id: number of available snapshots owned by the policy}."""
    listing = p.conn.block_storage.get("/snapshots/detail", params={"limit": 1000}).json()["snapshots"]
    counts = dict((vid, 0) for vid in volume_ids)
    for snap in listing:
        if snap["volume_id"] in counts and (snap.get("metadata") or {}).get(OWNER) == POLICY \
                and snap["status"] == "available":
            counts[snap["volume_id"]] += 1
    return counts


def check_steady(p, volume_ids, what):
    counts = owned_count(p, volume_ids)
    wrong = dict((k, v) for k, v in counts.items() if v != 3)
    if wrong:
        raise SystemExit("%s: volumes without exactly 3 owned snapshots afterwards: %s" % (what, wrong))


def remove_everything(p):
    """Cascade-delete every volume of the project (with its snapshots) at once; the Project purges stragglers."""
    bs = p.conn.block_storage
    for vid in list(p.volumes):
        bs.delete("/volumes/%s" % vid, params={"cascade": True})
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        left = bs.get("/volumes", params={"limit": 1000}).json()["volumes"]
        if not left:
            p.volumes, p.snapshots = [], []
            return
        time.sleep(2)


# ---------------------------------------------------------------------------------------------------- the three ways

def run_module(p, volume_ids, keep=3):
    """One rotation of ``volume_ids`` that must create one snapshot and prune one on each."""
    task = {"name": "rotate", "cinderops.snapshots.snapshot_rotation": {
        "volumes": volume_ids, "policy_name": POLICY, "policy": {"keep_last": keep, "min_interval": "0h"},
        "max_workers": WORKERS, "cloud": p.cloud}}
    run = p.playbook([task])
    if not run.ok:
        raise SystemExit("(a) snapshot_rotation failed: %s" % run.failure())
    summary = run.result()["summary"]
    if (summary["created"], summary["pruned"], summary["failed"]) != (len(volume_ids), len(volume_ids), 0):
        raise SystemExit("(a) did not do the job: %s" % summary)
    return run


def run_raw(p, volume_ids, tag, interval):
    run = p.python(RAW, args=(POLICY, tag, interval, ",".join(volume_ids)))
    if run.rc != 0 or '"rotated": %d' % len(volume_ids) not in run.stdout:
        raise SystemExit("(c) raw openstacksdk failed: %s %s" % (run.stdout[-2000:], run.stderr[-2000:]))
    return run


def run_loop(p, items):
    tasks = [
        {"name": "create", "openstack.cloud.volume_snapshot": {
            "volume": "{{ item.volume }}", "display_name": "{{ item.new }}", "wait": True},
         "loop": items},
        {"name": "prune", "openstack.cloud.volume_snapshot": {
            "display_name": "{{ item.old }}", "state": "absent", "wait": True},
         "loop": items},
    ]
    run = p.playbook(tasks)
    if not run.ok:
        raise SystemExit("(b) openstack.cloud loop failed: %s" % run.failure())
    return run


# ---------------------------------------------------------------------------------------------------- main

def main():
    # benchlib.connect() reads the clouds.yaml it is given, but openstacksdk lets $OS_CLIENT_CONFIG_FILE (set by
    # scripts/lib.sh) override that, and the project's own cloud "bench" is then not found. Child processes get
    # the right file from benchlib anyway.
    os.environ.pop("OS_CLIENT_CONFIG_FILE", None)
    n = bl.runs_wanted(5)
    env_before = bl.environment()
    runs = {"a": [], "c": []}
    cpu = {"a": [], "c": []}  # CPU seconds per run: each cloud service, and the client's processes
    with bl.Project(NAME) as p:
        try:
            t0 = time.monotonic()
            vols = make_volumes(p, VOLUMES + LOOP_VOLUMES, "rot")
            main_ids = [v.id for v in vols[:VOLUMES]]
            loop_vols = vols[VOLUMES:]
            make_snapshots(p, vols[:VOLUMES], 3, {OWNER: POLICY}, "init")
            loop_names = make_snapshots(p, loop_vols, 3, None, "loop")
            check_steady(p, main_ids, "set-up")
            setup_s = round(time.monotonic() - t0, 1)
            say("set-up: %d volumes, %d snapshots in %.0f s" % (len(vols), 3 * len(vols), setup_s))

            warm = run_module(p, main_ids)
            check_steady(p, main_ids, "warm-up (a)")
            say("warm-up (a): %.1f s (not counted)" % warm.wall)
            for i in range(n):
                order = ("a", "c") if i % 2 == 0 else ("c", "a")
                for way in order:
                    cpu0, own0 = bl.service_cpu(), bl.own_cpu()
                    if way == "a":
                        run = run_module(p, main_ids)
                    else:
                        run = run_raw(p, main_ids, "raw-%d" % i, 0.25)
                    cpu[way].append(dict(bl.cpu_delta(cpu0, bl.service_cpu()), client=round(bl.own_cpu() - own0, 2)))
                    check_steady(p, main_ids, "run %d (%s)" % (i, way))
                    runs[way].append(run)
                    say("run %d/%d (%s): %.1f s" % (i + 1, n, way, run.wall))
            raw_default = run_raw(p, main_ids, "rawdef", 2.0)
            check_steady(p, main_ids, "(c) with SDK default polling")
            say("(c) with the SDK's default polling: %.1f s" % raw_default.wall)

            items = [{"volume": v.id, "new": "loop-%s-new" % v.id[:8], "old": loop_names[v.id][0]} for v in loop_vols]
            loop = run_loop(p, items)
            say("(b) openstack.cloud loop over %d volumes: %.1f s" % (len(items), loop.wall))
        finally:
            remove_everything(p)
    report(n, env_before, runs, raw_default, loop, warm, setup_s, cpu)


def say(text):
    sys.stdout.write("  %s\n" % text)
    sys.stdout.flush()


def per_volume(value, count):
    return None if value is None else round(float(value) / count, 4)


def cpu_medians(samples):
    """Median CPU seconds per service (and the client) over runs, with their total."""
    out = dict((k, bl.median([x[k] for x in samples])) for k in samples[0])
    out["total"] = round(sum(v for v in out.values() if v is not None), 2)
    return out


def report(n, env_before, runs, raw_default, loop, warm, setup_s, cpu):
    a, c = bl.summarize(runs["a"]), bl.summarize(runs["c"])
    a_item, c_item = per_volume(a["wall"], VOLUMES), per_volume(c["wall"], VOLUMES)
    b_item = per_volume(loop.wall, LOOP_VOLUMES)
    c2_item = per_volume(raw_default.wall, VOLUMES)
    vs_loop = bl.ratio(b_item, a_item)
    vs_raw = bl.ratio(a_item, c_item)
    requests = {
        "a": {"keystone": a["keystone"], "cinder": a["cinder"], "per_volume": per_volume(a["requests"], VOLUMES)},
        "b": {"keystone": loop.keystone, "cinder": loop.cinder,
              "per_volume": per_volume(loop.keystone + loop.cinder, LOOP_VOLUMES)},
        "c": {"keystone": c["keystone"], "cinder": c["cinder"], "per_volume": per_volume(c["requests"], VOLUMES)},
        "c_sdk_default_polling": {"keystone": raw_default.keystone, "cinder": raw_default.cinder,
                                  "per_volume": per_volume(raw_default.keystone + raw_default.cinder, VOLUMES)},
    }
    targets = [
        ("(a) >= %.0fx faster than (b)" % TARGET_VS_LOOP, vs_loop is not None and vs_loop >= TARGET_VS_LOOP,
         "%.1fx (b %.3f s / a %.4f s per volume)" % (vs_loop, b_item, a_item)),
        ("(a) <= %.1fx (c)" % TARGET_VS_RAW, vs_raw is not None and vs_raw <= TARGET_VS_RAW,
         "%.2fx (a %.4f s / c %.4f s per volume)" % (vs_raw, a_item, c_item)),
        ("(a) <= %.1fx (c) (issue 12)" % TARGET_VS_RAW_FLEET, vs_raw is not None and vs_raw <= TARGET_VS_RAW_FLEET,
         "%.2fx (a %.4f s / c %.4f s per volume)" % (vs_raw, a_item, c_item)),
        ("(a) <= %.1f Cinder requests per volume (issue 12)" % TARGET_REQUESTS,
         a["cinder"] / float(VOLUMES) <= TARGET_REQUESTS,
         "%.2f (%s Cinder requests for %d volumes)" % (a["cinder"] / float(VOLUMES), a["cinder"], VOLUMES)),
    ]
    cpu_a, cpu_c = cpu_medians(cpu["a"]), cpu_medians(cpu["c"])
    env_after = bl.environment()
    data = {
        "benchmark": NAME, "environment": env_before, "loadavg_after": env_after["loadavg"],
        "job": {"volumes": VOLUMES, "owned_snapshots_per_volume": 3, "policy": {"keep_last": 3, "min_interval": "0h"},
                "per_run": "create 1 snapshot per volume, wait until available, prune the oldest, wait until gone",
                "workers": WORKERS},
        "setup_s": setup_s,
        "a_snapshot_rotation": dict(_strip(a), per_volume_s=a_item, warmup_wall=warm.wall,
                                    runs=[r.brief() for r in runs["a"]]),
        "b_openstack_cloud_loop": {"volumes": LOOP_VOLUMES, "runs": 1, "wall": loop.wall, "per_volume_s": b_item,
                                   "extrapolated_to_100_volumes_s": round(b_item * VOLUMES, 1),
                                   "module_processes": len(loop.procs), "run": loop.brief(),
                                   "note": "one run over %d volumes (create task + prune task, each looping), "
                                           "extrapolated per volume" % LOOP_VOLUMES,
                                   "anchor_s_per_item": ANCHOR_LOOP_ITEM},
        "c_raw_openstacksdk": dict(_strip(c), per_volume_s=c_item, poll_interval_s=0.25, threads=WORKERS,
                                   runs=[r.brief() for r in runs["c"]]),
        "c_raw_openstacksdk_default_polling": {"runs": 1, "wall": raw_default.wall, "per_volume_s": c2_item,
                                               "poll_interval_s": 2.0, "run": raw_default.brief()},
        "cpu_s": {"a": cpu_a, "c": cpu_c},
        "ratios": {"b_over_a": vs_loop, "a_over_c": vs_raw, "a_over_c_default_polling": bl.ratio(a_item, c2_item)},
        "requests": requests,
        "targets": [{"target": t, "met": bool(m), "measured": v} for t, m, v in targets],
    }
    md = [
        "# snapshot_rotation vs openstack.cloud loop vs raw openstacksdk",
        "",
        "Measured %s on %d cores (load %s before, %s after), Python %s, ansible-core %s, ansible %s, openstacksdk %s."
        % (env_before["date"], env_before["cores"], env_before["loadavg"], env_after["loadavg"], env_before["python"],
           env_before["ansible-core"], env_before["ansible"], env_before["openstacksdk"]),
        "",
        "The job: %d volumes with 3 owned snapshots each, `keep_last: 3`; one run creates a snapshot per volume, waits "
        "until it is available, and prunes the oldest (and waits until it is gone). (a) and (c): medians of %d runs "
        "each, alternating, after one uncounted warm-up of (a) (%.1f s). (b): **one run over %d volumes, "
        "extrapolated per volume** (it takes about 7 s per volume). Requests are counted in the client processes."
        % (VOLUMES, n, warm.wall, LOOP_VOLUMES),
        "",
        bl.md_table(
            ["way", "runs", "wall s (median)", "s per volume", "requests per volume (Keystone + Cinder per run)"],
            [["(a) cinderops.snapshots.snapshot_rotation, 8 workers", a["n"], a["wall"], a_item,
              "%s (%s + %s)" % (requests["a"]["per_volume"], a["keystone"], a["cinder"])],
             ["(b) openstack.cloud.volume_snapshot loop (%d volumes, extrapolated)" % LOOP_VOLUMES, 1, loop.wall, b_item,
              "%s (%s + %s)" % (requests["b"]["per_volume"], loop.keystone, loop.cinder)],
             ["(c) raw openstacksdk, 8 threads, polling every 0.25 s", c["n"], c["wall"], c_item,
              "%s (%s + %s)" % (requests["c"]["per_volume"], c["keystone"], c["cinder"])],
             ["(c') raw openstacksdk, 8 threads, SDK default polling (2 s), for reference", 1, raw_default.wall,
              c2_item, "%s (%s + %s)" % (requests["c_sdk_default_polling"]["per_volume"], raw_default.keystone,
                                         raw_default.cinder)]]),
        "Ratios: (b)/(a) = **%s**x, (a)/(c) = **%s**x, (a)/(c') = %sx. The issue's anchor for (b) is about %.1f s per "
        "item (create or delete), so about %.1f s per volume; measured here: %.2f s per volume."
        % (vs_loop, vs_raw, bl.ratio(a_item, c2_item), ANCHOR_LOOP_ITEM, 2 * ANCHOR_LOOP_ITEM, b_item),
        "",
        "Targets:",
        "",
        bl.md_table(["target", "met", "measured"], [[t, "yes" if m else "**no**", v] for t, m, v in targets]),
        "(a) walls: %s; (c) walls: %s." % (a["walls"], c["walls"]),
        "",
        "Where the machine's time goes: CPU seconds per run (medians) of each local-cloud service and of the "
        "client's own processes, for (a) and (c). The machine has %d cores: a run of wall W can use at most %d x W "
        "CPU seconds, so when the total comes near that, the cores are the limit, and a way is faster only by "
        "costing the cloud less." % (env_before["cores"], env_before["cores"]),
        "",
        bl.md_table(["way", "wall s"] + list(cpu_a),
                    [["(a) snapshot_rotation", a["wall"]] + list(cpu_a.values()),
                     ["(c) raw openstacksdk", c["wall"]] + list(cpu_c.values())]),
    ]
    paths = bl.write_results(NAME, data, "\n".join(md))
    print("\n".join(md))
    print("results: %s" % ", ".join(paths))


def _strip(summary):
    return dict((k, v) for k, v in summary.items() if k != "walls")


if __name__ == "__main__":
    main()
