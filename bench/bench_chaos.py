# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The chaos suite at full size (tests/integration/test_chaos.py runs it CI-sized), writing bench/results/chaos.md.

Trials, all through the fault proxy (tests/cloud/faultproxy.py) in front of the real Cinder, judged by what
the cloud holds afterwards (tests/integration/chaoskit.py):

- faults: a rotation of 50 volumes with 10% of Cinder requests faulted (500, 503, reset, stall, drop), once on
  the SDK path (auth_cache false) and once on the resumed path, each followed by two clean reruns;
- kills: a rotation of 20 volumes killed with SIGKILL at a seeded random point, 20 times (a new day each
  time, so every run is due), each followed by a clean rerun;
- two at once: two rotations of one policy over 20 volumes started together, 3 times, with both listings
  answered late so that both read before either writes; and two ``snapshot`` tasks for one volume and name,
  3 times;
- restore drills over 10 volumes: one with 10% of requests faulted, 5 killed at random points, and 3 times two
  drills of one policy at once, each followed by a calm drill. Promised zero: test volumes left behind after
  the calm drill, snapshots a drill deleted, and drills failed by another drill.

Figures: requests and faults by kind (from the proxy's log), duplicates, over-prunes, below-floor events,
failed runs (and whether every failure was an honest "gave up after 4 attempts"), reruns converged.
Where the promise is zero, zero is the only passing figure.
"""
from __future__ import annotations

import os
import sys
import time

import benchlib as bl

sys.path.insert(0, bl.INTEGRATION)
import chaoskit  # noqa: E402
from chaoskit import ChaosCloud, Estate, Run, converges, failures, judge, plan_before, rotate, server_now  # noqa

NAME = "chaos"
VOLUMES = int(os.environ.get("BENCH_CHAOS_VOLUMES", 50))
KILL_VOLUMES = int(os.environ.get("BENCH_CHAOS_KILL_VOLUMES", 20))
KILLS = int(os.environ.get("BENCH_CHAOS_KILLS", 20))
CONCURRENT = int(os.environ.get("BENCH_CHAOS_CONCURRENT", 3))
RATE = 0.10
SEED = int(os.environ.get("BENCH_CHAOS_SEED", 20261202))
PROMISED_ZERO = ("duplicates", "over_prunes", "below_floor")
FAULTS = ("500", "503", "reset", "stall", "drop", "late")


def blank():
    return {"trials": 0, "runs": 0, "requests": 0, "faults": dict((k, 0) for k in FAULTS), "duplicates": 0,
            "over_prunes": 0, "below_floor": 0, "failed_runs": 0, "honest_failures": 0, "converged": 0,
            "details": [], "seconds": 0.0}


def add_judgement(row, figures):
    for key in PROMISED_ZERO:
        row[key] += figures[key]
    row["details"] += figures["details"]


def add_run(row, outcome, result):
    row["runs"] += 1
    lines = failures(outcome, result)
    if lines:
        row["failed_runs"] += 1
        if all("gave up after" in line for line in lines):
            row["honest_failures"] += 1
        row["details"] += lines[:3]


def add_proxy(row, chaos):
    counts = chaos.proxy.counts()
    row["requests"] += counts["requests"]
    for kind in FAULTS:
        row["faults"][kind] += counts.get(kind, 0)
    chaos.proxy.reset_log()


def check_converges(row, chaos, estate, plans, since):
    ok, why = converges(chaos, estate)
    row["converged"] += 1 if ok else 0
    if not ok:
        row["details"].append(why)
    add_judgement(row, judge(estate, plans, since))


def faults_trial(admin, demo, path):
    row = blank()
    t0 = time.monotonic()
    chaos = ChaosCloud(seed=SEED)
    estate = Estate(admin, demo, VOLUMES)
    try:
        if path == "resumed":
            Run(chaoskit.rotation_play(estate), chaos.env()).result()  # records the session; makes the snapshots
            estate.age_one_day()
        estate.settle()
        plans, since = plan_before(estate), server_now(admin)
        chaos.proxy.reset_log()
        chaos.faults(RATE)
        outcome, result = rotate(chaos, estate, auth_cache=path == "resumed")
        row["trials"] += 1
        add_run(row, outcome, result)
        add_proxy(row, chaos)
        estate.settle()
        add_judgement(row, judge(estate, plans, since))
        check_converges(row, chaos, estate, plans, since)
    finally:
        chaos.close()
        estate.cleanup()
    row["seconds"] = round(time.monotonic() - t0, 1)
    return row


def kills_trial(admin, demo):
    row = blank()
    t0 = time.monotonic()
    chaos = ChaosCloud(seed=SEED)
    estate = Estate(admin, demo, KILL_VOLUMES)
    try:
        for point in chaoskit.kill_points(SEED, KILLS, 0.3, 6.0):
            estate.age_one_day()
            plans, since = plan_before(estate), server_now(admin)
            run = Run(chaoskit.rotation_play(estate), chaos.env())
            time.sleep(point)
            run.kill()
            row["trials"] += 1
            estate.settle()
            add_judgement(row, judge(estate, plans, since))
            outcome, result = rotate(chaos, estate)
            add_run(row, outcome, result)
            estate.settle()
            add_judgement(row, judge(estate, plans, since))
            add_proxy(row, chaos)
        plans, since = plan_before(estate), server_now(admin)
        check_converges(row, chaos, estate, plans, since)
    finally:
        chaos.close()
        estate.cleanup()
    row["seconds"] = round(time.monotonic() - t0, 1)
    return row


def concurrent_rotations_trial(admin, demo):
    row = blank()
    t0 = time.monotonic()
    chaos = ChaosCloud(seed=SEED)
    estate = Estate(admin, demo, KILL_VOLUMES)
    try:
        for _trial in range(CONCURRENT):
            estate.age_one_day()
            plans, since = plan_before(estate), server_now(admin)
            chaos.proxy.script("late", method="GET", path=r"/snapshots/detail\?(?!.*sort=)", count=2)
            results = chaoskit.together(lambda: Run(chaoskit.rotation_play(estate), chaos.env()),
                                        lambda: Run(chaoskit.rotation_play(estate), chaos.env()))
            row["trials"] += 1
            for outcome, result in results:
                add_run(row, outcome, result)
            add_proxy(row, chaos)
            estate.settle()
            add_judgement(row, judge(estate, plans, since))
            check_converges(row, chaos, estate, plans, since)
    finally:
        chaos.close()
        estate.cleanup()
    row["seconds"] = round(time.monotonic() - t0, 1)
    return row


def concurrent_snapshot_trial(admin, demo):
    row = blank()
    t0 = time.monotonic()
    chaos = ChaosCloud(seed=SEED)
    vol = cloudkit_volume(demo)
    try:
        for trial in range(CONCURRENT):
            name = "twice-%d" % trial
            task = [{"name": "p", "hosts": "localhost", "gather_facts": False, "connection": "local",
                     "tasks": [{"name": "rotate", "cinderops.snapshots.snapshot": {
                         "cloud": "chaos", "volume": vol, "name": name}, "register": "out", "ignore_errors": True}]}]
            chaos.proxy.script("late", method="GET", path=r"/snapshots/detail\?.*name=", count=2)
            results = chaoskit.together(lambda: Run(task, chaos.env()), lambda: Run(task, chaos.env()))
            row["trials"] += 1
            for outcome, result in results:
                add_run(row, outcome, result)
            add_proxy(row, chaos)
            named = [s for s in demo.block_storage.get("/snapshots/detail", params={"volume_id": vol}).json()
                     ["snapshots"] if s["name"] == name]
            row["duplicates"] += max(0, len(named) - 1)
            outcome, result = Run(task, chaos.env()).result()
            row["converged"] += 1 if outcome == "ok" else 0
    finally:
        chaos.close()
        chaoskit.cloudkit.purge_volume(admin, vol)
    row["seconds"] = round(time.monotonic() - t0, 1)
    return row


DRILL_VOLUMES = int(os.environ.get("BENCH_CHAOS_DRILL_VOLUMES", 10))
DRILL_KILLS = int(os.environ.get("BENCH_CHAOS_DRILL_KILLS", 5))


def drill_play(estate):
    return [{"name": "chaos drill", "hosts": "localhost", "gather_facts": False, "connection": "local",
             "tasks": [{"name": "rotate", "cinderops.snapshots.snapshot_restore_drill": {
                 "cloud": "chaos", "volume_metadata": {"chaos": estate.tag}, "policy_name": estate.policy_name,
                 "max_workers": 4, "timeout": 120}, "register": "out", "ignore_errors": True}]}]


def drills_trial(admin, demo):
    """Restore drills under faults, kills and a second drill at once; judged after a calm drill each time."""
    import json
    row = {"runs": 0, "requests": 0, "faults": dict((k, 0) for k in FAULTS), "left_behind": 0,
           "snapshots_deleted": 0, "failed_runs": 0, "honest_failures": 0, "calm_ok": 0, "calm_runs": 0,
           "details": [], "seconds": 0.0}
    t0 = time.monotonic()
    chaos = ChaosCloud(seed=SEED)
    estate = Estate(admin, demo, DRILL_VOLUMES)

    def leftovers():
        resp = admin.block_storage.get("/volumes/detail", params={
            "all_tenants": 1, "metadata": json.dumps({"cinderops:drill": estate.policy_name})})
        return [v["id"] for v in resp.json()["volumes"]]

    def snapshot_ids():
        return set(s["id"] for snaps in estate.owned().values() for s in snaps)

    def judge_run(outcome, result):
        row["runs"] += 1
        failed = [d["message"] for d in result.get("drills", []) if d["result"] == "failed"]
        if outcome == "failed":
            row["failed_runs"] += 1
            if failed and all("gave up after" in m for m in failed):
                row["honest_failures"] += 1
            else:
                row["details"].append("drill failed: %s" % (result.get("msg") or "")[:300])

    def calm():
        chaos.calm()
        outcome, result = Run(drill_play(estate), chaos.env()).result()
        row["calm_runs"] += 1
        if outcome == "changed" and set(result["summary"]) == {"ok"}:
            row["calm_ok"] += 1
        else:
            row["details"].append("calm drill: %s" % (result.get("msg") or result.get("summary")))
        left = leftovers()
        row["left_behind"] += len(left)
        if left:
            row["details"].append("test volumes left behind: %s" % left)

    try:
        before = snapshot_ids()
        chaos.faults(RATE)
        judge_run(*Run(drill_play(estate), chaos.env()).result())
        add_proxy(row, chaos)
        calm()
        for point in chaoskit.kill_points(SEED + 1, DRILL_KILLS, 0.5, 5.0):
            run = Run(drill_play(estate), chaos.env())
            time.sleep(point)
            run.kill()
            calm()
        for _trial in range(CONCURRENT):
            for outcome, result in chaoskit.together(lambda: Run(drill_play(estate), chaos.env()),
                                                     lambda: Run(drill_play(estate), chaos.env())):
                judge_run(outcome, result)
            calm()
        add_proxy(row, chaos)
        row["snapshots_deleted"] = len(before - snapshot_ids())
    finally:
        chaos.close()
        estate.cleanup()
    row["seconds"] = round(time.monotonic() - t0, 1)
    return row


def cloudkit_volume(demo):
    return chaoskit.cloudkit.make_volume(demo, name=chaoskit.unique("chaos-twice")).id


def main():
    admin, demo = chaoskit.cloudkit.connect("local-admin"), chaoskit.cloudkit.connect("local-demo")
    rows = [
        ("faults, SDK path, %d volumes, %d%%" % (VOLUMES, RATE * 100), faults_trial(admin, demo, "sdk")),
        ("faults, resumed path, %d volumes, %d%%" % (VOLUMES, RATE * 100), faults_trial(admin, demo, "resumed")),
        ("SIGKILL at random points, %d volumes, %d kills" % (KILL_VOLUMES, KILLS), kills_trial(admin, demo)),
        ("two rotations at once, %d volumes, %d trials" % (KILL_VOLUMES, CONCURRENT),
         concurrent_rotations_trial(admin, demo)),
        ("two snapshot tasks at once, %d trials" % CONCURRENT, concurrent_snapshot_trial(admin, demo)),
    ]
    headers = ["trial", "runs", "requests", "faults (500/503/reset/stall/drop/late)", "duplicates", "over-prunes",
               "below floor", "failed runs (honest)", "reruns converged", "s"]
    table = []
    for label, row in rows:
        f = row["faults"]
        table.append([label, row["runs"], row["requests"], "/".join(str(f[k]) for k in FAULTS), row["duplicates"],
                      row["over_prunes"], row["below_floor"], "%d (%d)" % (row["failed_runs"], row["honest_failures"]),
                      "%d of %d" % (row["converged"], row["trials"] if "kills" not in label else 1), row["seconds"]])
    drills = drills_trial(admin, demo)
    f = drills["faults"]
    drill_table = [["restore drills, %d volumes: 10%% faults, %d kills, %d times two at once" % (
        DRILL_VOLUMES, DRILL_KILLS, CONCURRENT), drills["runs"] + drills["calm_runs"], drills["requests"],
        "/".join(str(f[k]) for k in FAULTS), drills["left_behind"], drills["snapshots_deleted"],
        "%d (%d)" % (drills["failed_runs"], drills["honest_failures"]),
        "%d of %d" % (drills["calm_ok"], drills["calm_runs"]), drills["seconds"]]]
    broken = sum(row[k] for _label, row in rows for k in PROMISED_ZERO)
    broken += drills["left_behind"] + drills["snapshots_deleted"] + (drills["calm_runs"] - drills["calm_ok"])
    dishonest = sum(row["failed_runs"] - row["honest_failures"] for _label, row in rows)
    dishonest += drills["failed_runs"] - drills["honest_failures"]
    md = ["# Chaos suite at full size", "",
          "What the promises look like on the collection's worst day: faults injected in front of the real Cinder "
          "(tests/cloud/faultproxy.py), runs killed, runs started twice. Judged by what the cloud holds afterwards, "
          "with the retention engine as the judge (tests/integration/chaoskit.py). Duplicates, over-prunes and "
          "below-floor events must be 0; a failed run is honest only when every failure says it gave up after 4 "
          "attempts on a faulted request.", "", bl.md_table(headers, table),
          "Restore drills: every drill is followed by a calm one, which must pass and leave no test volume; no drill "
          "may delete a snapshot, and none may fail because of another drill.", "",
          bl.md_table(["trial", "runs", "requests", "faults (500/503/reset/stall/drop/late)",
                       "test volumes left behind", "snapshots deleted", "failed runs (honest)", "calm drills passed",
                       "s"], drill_table),
          "**Promises broken: %d. Runs failed by anything but exhausted retries: %d.**" % (broken, dishonest), ""]
    details = [d for _label, row in rows for d in row["details"]] + drills["details"]
    if details:
        md += ["## Details", ""] + ["- %s" % d for d in details[:50]] + [""]
    md += ["Environment: %s" % bl.environment(), ""]
    text = "\n".join(md)
    bl.write_results(NAME, {"rows": dict(rows), "drills": drills, "environment": bl.environment(), "seed": SEED}, text)
    print(text)
    return 0 if broken == 0 and dishonest == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
