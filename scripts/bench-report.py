#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the "@@MP <json>" lines of a benchmark VM log into results.json,
results.md and the gnuplot data of the throughput plot.

    bench-report.py VMLOG OUTDIR [--classify FILE] [--hook FILE]
                    [--machine TEXT] [--demo]

With --demo, print the short side-by-side table of scripts/demo.sh instead.
Every figure is a ratio of runs made in the same boot; absolute times
depend on the (emulated, shared) machine.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

P6_NAMES = {
    "br": "bridge over NIC (vmbr0, uplink vsrc)",
    "bond": "bridge over bond (vmbr0 > bond0 > vsrc; layout on bond0 at 95%)",
    "vlan": "VLAN-aware bridge, address on vmbr0.100",
    "macvlan": "macvlan on the NIC (mig0), tenant's own macvlan",
}

CONFIG_NAMES = {
    "a": "alone (physical limit)",
    "b": "4 bulk flows, no migprio",
    "c": "4 bulk flows, migprio",
    "d": "4 bulk flows, expert tc setup",
}


def load(path):
    recs = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            i = line.find("@@MP ")
            if i < 0:
                continue
            try:
                recs.append(json.loads(line[i + 5:]))
            except json.JSONDecodeError as e:
                print(f"bench-report: bad result line ({e}): {line[:120]}",
                      file=sys.stderr)
    return recs


def invalidate(recs):
    """A run whose bulk flows were (partly) in the migration class
    ("bulk_check", scripts/bench-lib.sh) measured something else: it counts
    as skipped, with the reason, and is listed under "Invalid rows"."""
    bad = []
    for r in recs:
        c = r.get("bulk_check")
        if isinstance(c, dict) and c.get("valid") is False and "skipped" not in r:
            r["skipped"] = "INVALID: " + str(c.get("reason", "bulk flow in the migration class"))
            bad.append(r)
    return bad


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, f="{:.2f}", none="n/a"):
    return none if x is None else f.format(x)


def bulk_in_window(r):
    """Bytes the bulk flows sent while the migration ran: the receiver's
    timeline bounds the migration (first hello to final summary); the bulk
    flows' 0.5 s iperf3 intervals are summed over that window, prorated."""
    tl = (r.get("recv") or {}).get("timeline") or []
    iv = r.get("bulk_intervals") or []
    if len(tl) < 2 or not iv:
        return None, None
    ws, we = tl[0][0], tl[-1][0]
    tot = 0.0
    for a, b, mbit in iv:
        ov = min(b, we) - max(a, ws)
        if ov > 0 and b > a:
            tot += mbit * 1e6 / 8 * ov
    return tot, we - ws


def mig_summary(r):
    """Migration record -> flat dict (None if it failed)."""
    s = r.get("send")
    if not isinstance(s, dict):
        return None
    mig = s.get("bytes_sent", 0)
    bulk, window = bulk_in_window(r)
    share = bulk / (bulk + mig) if bulk is not None and bulk + mig > 0 else None
    return {
        "rc": r.get("rc"),
        "total_time_s": s.get("total_time_s"),
        "rounds": s.get("rounds"),
        "converged": s.get("converged"),
        "downtime_ms": s.get("downtime_ms"),
        "bandwidth_mbit_s": s.get("bandwidth_mbit_s"),
        "bytes_sent": mig,
        "verified": s.get("verified") and (r.get("recv") or {}).get("verified"),
        "bulk_bytes": bulk,
        "window_s": window,
        "bulk_share": share,
        "mem_mib": s.get("mem_bytes", 0) / 1048576,
        "dirty_mib_s": s.get("dirty_rate_bytes_per_s", 0) / 1048576,
    }


def iperf_mbit(r):
    j = r.get("iperf")
    try:
        return j["end"]["sum_received"]["bits_per_second"] / 1e6
    except (KeyError, TypeError):
        return None


def iperf_steady_mbit(r):
    """Mean of the second half of the 1 s intervals (after slow start)."""
    j = r.get("iperf")
    try:
        iv = [i["sum"]["bits_per_second"] for i in j["intervals"]]
    except (KeyError, TypeError):
        return None
    if len(iv) < 2:
        return None
    half = iv[len(iv) // 2:]
    return sum(half) / len(half) / 1e6


def analyse(recs, classify_text=None, classify_json=None, machine=None,
            hook_text=None, hook_json=None):
    res = {"date": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%d %H:%M UTC"), "machine": machine}
    for r in recs:
        if r.get("scenario") == "env":
            res["env"] = r
        elif r.get("scenario") == "calibrate":
            res["calibrate"] = r
    link = (res.get("calibrate") or {}).get("link_mbit")
    res["link_mbit"] = link

    # ---- P1
    p1 = {"runs": {}, "skipped": {}}
    for r in recs:
        if r.get("scenario") != "p1":
            continue
        if "skipped" in r:
            p1["skipped"][r["config"]] = r["skipped"]
            continue
        m = mig_summary(r)
        if m:
            p1["runs"].setdefault(r["config"], {})[r["rep"]] = m
    summ = {}
    alone = p1["runs"].get("a", {})
    for cfg, runs in sorted(p1["runs"].items()):
        ratios = [runs[k]["total_time_s"] / alone[k]["total_time_s"]
                  for k in runs if k in alone and alone[k]["total_time_s"]]
        summ[cfg] = {
            "name": CONFIG_NAMES.get(cfg, cfg),
            "reps": len(runs),
            "mem_mib": next(iter(runs.values()))["mem_mib"],
            "time_s_median": med([x["total_time_s"] for x in runs.values()]),
            "t_over_alone": med(ratios) if cfg != "a" else 1.0,
            "t_over_alone_runs": ratios,
            "bulk_share": med([x["bulk_share"] for x in runs.values()])
            if cfg != "a" else None,
            "bandwidth_mbit_s": med([x["bandwidth_mbit_s"] for x in runs.values()]),
            "all_verified": all(x["verified"] for x in runs.values()),
        }
    p1["summary"] = summ
    res["p1"] = p1

    # ---- P1b
    p1b = {}
    for r in recs:
        if r.get("scenario") != "p1b":
            continue
        if "skipped" in r:
            p1b[r["config"]] = {"skipped": r["skipped"]}
            continue
        m = mig_summary(r)
        if m:
            m["name"] = CONFIG_NAMES.get(r["config"], r["config"])
            m["max_rounds"] = r["send"].get("max_rounds")
            m["round_detail"] = r["send"].get("round_detail")
            p1b[r["config"]] = m
    res["p1b"] = p1b

    # ---- P6 layouts: "LAYOUT-ROW" configs
    p6 = {}
    for r in recs:
        if r.get("scenario") != "p6":
            continue
        lay, _, row = r["config"].partition("-")
        d = p6.setdefault(lay, {"runs": {}, "skipped": {}, "devset": None})
        if "skipped" in r:
            d["skipped"][row or "all"] = r["skipped"]
            continue
        m = mig_summary(r)
        if m:
            d["runs"].setdefault(row, {})[r["rep"]] = m
    for lay, d in p6.items():
        alone = d["runs"].get("alone", {})
        summ = {}
        for row, runs in d["runs"].items():
            ratios = [runs[k]["total_time_s"] / alone[k]["total_time_s"]
                      for k in runs if k in alone and alone[k]["total_time_s"]]
            summ[row] = {
                "reps": len(runs),
                "mem_mib": next(iter(runs.values()))["mem_mib"],
                "time_s_median": med([x["total_time_s"] for x in runs.values()]),
                "t_over_alone": med(ratios) if row != "alone" else 1.0,
                "bulk_share": med([x["bulk_share"] for x in runs.values()])
                if row != "alone" else None,
                "all_verified": all(x["verified"] for x in runs.values()),
            }
        d["summary"] = summ
    res["p6"] = p6

    # ---- P2
    p2, calls, secs = {}, {}, {}
    for r in recs:
        if r.get("scenario") in ("p2-other", "p2-mig") and r.get("config") == "on":
            try:
                secs[(r["scenario"], r["rep"])] = r["iperf"]["end"]["sum_sent"]["seconds"]
            except (KeyError, TypeError):
                pass
    for r in recs:
        sc = r.get("scenario", "")
        if sc == "p2" and "skipped" in r:
            p2["skipped"] = r["skipped"]
        if sc == "p2-calls":
            calls[(r["flow"], r["rep"])] = r["packets"]
        if sc not in ("p2-other", "p2-mig"):
            continue
        if "skipped" in r:
            continue
        d = p2.setdefault(sc[3:], {"off": [], "on": [], "unloaded": []})
        d[r["config"]].append(iperf_mbit(r))
    rates = {}
    for (flow, rep), n in calls.items():
        if secs.get((flow, rep)):
            rates.setdefault(flow[3:], []).append(n / secs[(flow, rep)])
    for k, d in p2.items():
        if not isinstance(d, dict):
            continue
        d["hook_calls_per_s"] = med(rates.get(k, []))
        on, off, un = med(d["on"]), med(d["off"]), med(d["unloaded"])
        d["median_on_mbit"], d["median_off_mbit"] = on, off
        d["median_unloaded_mbit"] = un
        d["ratio"] = on / off if on and off else None
        d["ratio_unloaded"] = on / un if on and un else None
    res["p2"] = p2

    # ---- P2b
    res["p2b"] = {"text": classify_text, "data": classify_json}
    res["p2c"] = {"text": hook_text, "data": hook_json}

    # ---- P3
    p3 = {}
    for r in recs:
        if r.get("scenario") != "p3":
            continue
        if "skipped" in r:
            p3[r["config"]] = {"skipped": r["skipped"]}
            continue
        mb, st = iperf_mbit(r), iperf_steady_mbit(r)
        lk = r.get("link_mbit") or link
        p3[r["config"]] = {
            "mbit": mb, "steady_mbit": st,
            "fraction": mb / lk if mb and lk else None,
            "steady_fraction": st / lk if st and lk else None,
            "seconds": len((r.get("iperf") or {}).get("intervals", [])),
            "error": (r.get("iperf") or {}).get("error"),
        }
    res["p3"] = p3

    # ---- P5: the source's reported figures vs the destination's
    p5 = {}
    for r in recs:
        if r.get("scenario") != "p5":
            continue
        if "skipped" in r:
            p5[r["config"]] = {"skipped": r["skipped"]}
            continue
        s = r.get("send")
        if not isinstance(s, dict):
            p5[r["config"]] = {"skipped": f"migsim failed ({r.get('rc')})"}
            continue
        p5[r["config"]] = {k: s.get(k) for k in (
            "mode", "converged", "rounds", "total_time_s", "downtime_ms",
            "dest_total_time_s", "real_downtime_ms", "bandwidth_mbit_s",
            "mem_bytes", "dirty_rate_bytes_per_s")}
    res["p5"] = p5

    # ---- P4
    p4 = {}
    for r in recs:
        if r.get("scenario") == "p4" and "skipped" in r:
            p4["skipped"] = r["skipped"]
        elif r.get("scenario") == "p4-rules":
            p4["rules"] = r
        elif r.get("scenario") == "p2-apply":
            p4["apply_1024"] = r
        elif r.get("scenario") == "p4-flows":
            p4["flows"] = r
    res["p4"] = p4

    # ---- P7: SYN-ACK rate under a SYN flood, without and with records
    p7 = {"runs": {}}
    for r in recs:
        if r.get("scenario") != "p7":
            continue
        if "skipped" in r:
            p7.setdefault("skipped", r["skipped"])
            continue
        if r.get("secs"):
            p7["runs"].setdefault(r["config"], {})[r["rep"]] = r
    rates = {cfg: {k: x["synacks"] / x["secs"] for k, x in runs.items()}
             for cfg, runs in p7["runs"].items()}
    p7["rate_median"] = {cfg: med(list(v.values())) for cfg, v in rates.items()}
    r0, r1 = rates.get("records0", {}), rates.get("records", {})
    p7["ratio_runs"] = [r1[k] / r0[k] for k in r1 if k in r0 and r0[k]]
    p7["ratio"] = med(p7["ratio_runs"]) if p7["ratio_runs"] else None
    res["p7"] = p7
    res["qemu"] = qemu_analyse(recs)
    res["invalid"] = [{k: r.get(k) for k in ("scenario", "config", "rep", "skipped")}
                      for r in recs if str(r.get("skipped", "")).startswith("INVALID")]
    res["raw"] = recs
    return res


QEMU_GROUPS = [
    ("q72", "QEMU 7.2 over TCP, multifd 4 (libvirt native, QEMU by hand)"),
    ("q10", "QEMU 10 over TCP, multifd 4"),
    ("br", "QEMU 7.2 over TCP, multifd 4, host address on a bridge, the bulk flows from a tenant behind it"),
    ("pve", "Proxmox VE secure: QEMU 10 through ssh -L, qemu-server's settings"),
    ("kv", "KubeVirt: QEMU 10, multifd 4, through proxies in pod netns (DisableTLS)"),
]
QEMU_ROWS = [
    ("alone", "alone (no other traffic)"),
    ("linux", "4 bulk flows, default Linux"),
    ("migprio", "4 bulk flows, migprio"),
    ("avail", "4 bulk flows, migprio, avail-switchover-bandwidth = class rate"),
    ("expert", "4 bulk flows, expert tc"),
    ("r1", "4 bulk flows, migprio, round-1 buffers"),
]
QEMU_SHORT = {"q72": "7.2", "q10": "10", "br": "7.2 bridged", "pve": "PVE", "kv": "KV"}


def qemu_analyse(recs):
    """PQ: real QEMU migrations, one per row and group (bench-qemu.sh)."""
    rows, skipped = {}, {}
    for r in recs:
        if r.get("scenario") != "qemu":
            continue
        key = (r.get("group", "q72"), r.get("config"))
        if "skipped" in r:
            skipped[key] = r["skipped"]
            continue
        q = r.get("qm")
        if r.get("rc") != 0 or not isinstance(q, dict):
            skipped[key] = "migration failed: " + (r.get("error") or "")[-160:]
            continue
        rows[key] = {
            "dest_s": q["dest_s"],
            "real_downtime_s": q["real_downtime_s"],
            "qemu_total_s": q["qemu_total_ms"] / 1000,
            "qemu_downtime_s": q["qemu_downtime_ms"] / 1000,
            "qemu_mbps": q.get("qemu_mbps"),
            "max_bandwidth": q.get("max_bandwidth"),
            "downtime_limit_ms": q.get("downtime_limit_ms"),
            "autoinc": q.get("autoinc"),
            "avail_bw": q.get("avail_bw"),
            "buf_max_unix": q.get("buf_max_unix"),
            "buf_max_tcp": q.get("buf_max_tcp"),
            "ahead_max": q.get("ahead_max"),
            "ahead_stop": q.get("ahead_stop"),
            "qemu_version": q.get("qemu_version"),
            "client": q.get("client"),
            "dev_set": r.get("dev_set"),
            "rules": r.get("rules"),
            "link_mbit": r.get("link_mbit"),
            "guest": {k: q.get(k) for k in
                      ("mem_mib", "hot_kib", "fill_mib", "rate_mibs", "channels")},
        }
    for (g, _), v in rows.items():
        alone = (rows.get((g, "alone")) or {}).get("dest_s")
        v["qemu_total_over_dest"] = (v["qemu_total_s"] / v["dest_s"]
                                     if v["dest_s"] else None)
        v["dest_over_alone"] = v["dest_s"] / alone if alone else None
    return {"rows": rows, "skipped": skipped}


def qemu_json(q):
    """results.json form: keys "group/config"."""
    return {"rows": {f"{g}/{c}": v for (g, c), v in q["rows"].items()},
            "skipped": {f"{g}/{c}": v for (g, c), v in q["skipped"].items()}}


def qemu_markdown(q):
    L = []
    if not q["rows"] and not q["skipped"]:
        return L
    anyrow = next(iter(q["rows"].values()), {})
    g = anyrow.get("guest") or {}
    L.append("### PQ real QEMU migrations")
    L.append("")
    L.append(f"QEMU guest of {g.get('mem_mib', '?')} MiB ({g.get('fill_mib', '?')} MiB random, "
             f"{g.get('hot_kib', '?')} KiB hot set dirtied at {g.get('rate_mibs', '?')} MiB/s), "
             f"link {anyrow.get('link_mbit', '?')} Mbit/s. One migration per row.")
    L.append("")
    for grp, title in QEMU_GROUPS:
        keys = [c for c, _ in QEMU_ROWS if (grp, c) in q["rows"] or (grp, c) in q["skipped"]]
        if not keys:
            continue
        vers = {v["qemu_version"] for (gg, _), v in q["rows"].items() if gg == grp}
        L.append(f"#### {title} (QEMU {', '.join(sorted(x for x in vers if x)) or '?'})")
        L.append("")
        L.append("| row | destination time (s) | real downtime (s) | QEMU total (s) | QEMU downtime (s) "
                 "| downtime-limit at the end (ms) | QEMU total / destination | destination / alone |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for cfg, name in QEMU_ROWS:
            v = q["rows"].get((grp, cfg))
            if not v:
                if (grp, cfg) in q["skipped"]:
                    L.append(f"| {name} | skipped: {q['skipped'][(grp, cfg)]} | | | | | | |")
                continue
            L.append(f"| {name} | {v['dest_s']:.2f} | **{v['real_downtime_s']:.3f}** | "
                     f"{v['qemu_total_s']:.2f} | {v['qemu_downtime_s']:.3f} | "
                     f"{fmt(v['downtime_limit_ms'], '{:.0f}')} | "
                     f"{fmt(v['qemu_total_over_dest'])} | {fmt(v['dest_over_alone'])} |")
        L.append("")
        for cfg, name in QEMU_ROWS:
            v = q["rows"].get((grp, cfg))
            if v and v.get("dev_set"):
                extra = f", avail-switchover-bandwidth {v['avail_bw']} B/s" if v.get("avail_bw") else ""
                L.append(f"- {name}: `migprioctl dev set DEV {v['dev_set']}` + {v.get('rules') or 'rule add preset qemu'}{extra}")
        for cfg, name in QEMU_ROWS:
            v = q["rows"].get((grp, cfg))
            if v and v.get("buf_max_unix") is not None:
                ahead, at_stop = v.get("ahead_max"), v.get("ahead_stop")
                L.append(f"- {name}: QEMU at most {fmt(ahead and ahead / 1024, '{:.0f}')} KiB ahead "
                         f"of what the peer acknowledged, "
                         f"{fmt(at_stop and at_stop / 1024, '{:.0f}')} KiB at the last sample before "
                         f"it stopped the guest; on the source at most "
                         f"{v['buf_max_unix'] / 1024:.0f} KiB unread in the unix socket and "
                         f"{v['buf_max_tcp'] / 1024:.0f} KiB in TCP send queues (the rest inside "
                         f"ssh or the proxy, or in flight); downtime-limit increases: {v.get('autoinc')}")
        L.append("")
    return L


def qemu_plot(q, out):
    """qemu.dat + qemu.png (gnuplot) when PQ has rows; returns the png."""
    if not q["rows"]:
        return None
    dat = os.path.join(out, "qemu.dat")
    with open(dat, "w") as f:
        f.write("# row dest_s real_downtime_s qemu_total_s qemu_downtime_s\n")
        for grp, _ in QEMU_GROUPS:
            for cfg, name in QEMU_ROWS:
                v = q["rows"].get((grp, cfg))
                if v:
                    label = f"{QEMU_SHORT[grp]} {'Linux' if cfg == 'linux' else cfg}"
                    f.write(f'"{label}" {v["dest_s"]} '
                            f'{v["real_downtime_s"]} {v["qemu_total_s"]} {v["qemu_downtime_s"]}\n')
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-qemu.gp")
    try:
        subprocess.run(["gnuplot", "-e", f"dir='{out}'", gp], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench-report: qemu plot: {e}", file=sys.stderr)
        return None
    return os.path.join(out, "qemu.png")


def timeline(r):
    """(migration [(t, mbit)], bulk [(t, mbit)]) relative to migration start."""
    t0 = r["t_start"]
    mig, bulk = [], []
    tl = (r.get("recv") or {}).get("timeline") or []
    for (ta, ba), (tb, bb) in zip(tl, tl[1:]):
        if tb > ta:
            mig.append(((ta + tb) / 2 - t0, (bb - ba) * 8 / (tb - ta) / 1e6))
    if mig:
        mig.insert(0, (mig[0][0] - 0.25, 0.0))
        mig.append((mig[-1][0] + 0.25, 0.0))
    for a, b, v in r.get("bulk_intervals") or []:
        bulk.append(((a + b) / 2 - t0, v))
    return mig, bulk


def write_plot_data(res, out):
    made = []
    for r in res["raw"]:
        if r.get("scenario") != "p1" or r.get("rep") != 1 or \
                r.get("config") not in ("b", "c") or "skipped" in r:
            continue
        mig, bulk = timeline(r)
        for name, pts in (("mig", mig), ("bulk", bulk)):
            with open(os.path.join(out, f"tl-{r['config']}-{name}.dat"), "w") as f:
                f.write("# t_s mbit\n")
                for t, v in pts:
                    f.write(f"{t:.3f} {v:.2f}\n")
        made.append(r["config"])
    return made


def host_block(L, title, text, missing):
    """A host benchmark's own text output under its heading."""
    L.append(f"### {title}")
    L.append("")
    if text:
        L.append("```")
        L.append(text.rstrip())
        L.append("```")
    else:
        L.append(f"Not run ({missing}).")
    L.append("")


def markdown(res):
    env = res.get("env", {})
    cal = res.get("calibrate", {})
    link = res.get("link_mbit")
    L = []
    L.append(f"Measured {res['date']} on {res.get('machine') or 'unknown machine'}; "
             f"guest kernel {env.get('kernel', '?')} under QEMU TCG "
             f"({env.get('nproc', '?')} vCPUs), mode `{env.get('mode', '?')}`, "
             f"{env.get('migprioctl_version') or 'migprioctl not present'}.")
    L.append(f"Bare veth capacity inside the VM: {cal.get('capacity_mbit', '?')} Mbit/s "
             f"(4 flows); link emulated at **{link} Mbit/s**.")
    L.append("")
    L.append("### P1 contention (D = 0)")
    L.append("")
    L.append("| config | M (MiB) | runs | time (s, median) | T/T_alone | bulk share | migration Mbit/s |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for cfg in "abcd":
        s = res["p1"]["summary"].get(cfg)
        if not s:
            why = res["p1"]["skipped"].get(cfg, "not run")
            L.append(f"| {cfg}: {CONFIG_NAMES[cfg]} | | | | skipped: {why} | | |")
            continue
        L.append(f"| {cfg}: {s['name']} | {s['mem_mib']:.0f} | {s['reps']} | "
                 f"{fmt(s['time_s_median'])} | {fmt(s['t_over_alone'])} | "
                 f"{fmt(s['bulk_share'], '{:.0%}', '-')} | {fmt(s['bandwidth_mbit_s'], '{:.1f}')} |")
    L.append("")
    L.append("### P1b convergence (D = 60% of the link, 4 bulk flows)")
    L.append("")
    pr = next((r for r in res["raw"] if r.get("scenario") == "p1b-rate"), None)
    if pr and pr["effective_mbit"] < pr["link_mbit"]:
        L.append(f"The migration reached only {pr['effective_mbit']} Mbit/s alone on the "
                 f"{pr['link_mbit']} Mbit/s link (P1 a, CPU-bound), so D is 60% of that.")
        L.append("")
    L.append("| config | M (MiB) | D (MiB/s) | converged | live rounds (max) | total time (s) | downtime (ms) | migration Mbit/s |")
    L.append("|---|---:|---:|---|---:|---:|---:|---:|")
    for cfg in "bcd":
        m = res["p1b"].get(cfg)
        if not m:
            continue
        if "skipped" in m:
            L.append(f"| {cfg}: {CONFIG_NAMES[cfg]} | | | skipped: {m['skipped']} | | | | |")
            continue
        L.append(f"| {cfg}: {m['name']} | {m['mem_mib']:.0f} | {m['dirty_mib_s']:.2f} | "
                 f"{'yes' if m['converged'] else '**no**'} | {m['rounds']} ({m['max_rounds']}) | "
                 f"{fmt(m['total_time_s'])} | {fmt(m['downtime_ms'], '{:.0f}')}"
                 f"{'' if m['converged'] else ' (forced)'} | {fmt(m['bandwidth_mbit_s'], '{:.1f}')} |")
    L.append("")
    if res.get("p6"):
        L.append("### P6 layouts (D = 0, 4 bulk flows from a tenant behind the bridge or beside the macvlan; target: migprio <= 1.15)")
        L.append("")
        L.append("| layout | M (MiB) | alone (s) | no migprio: T/T_alone | bulk share | "
                 "migprio: T/T_alone | bulk share |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for lay in ("br", "bond", "vlan", "macvlan"):
            d = res["p6"].get(lay)
            if not d:
                continue
            s = d.get("summary", {})
            a, b, c = s.get("alone"), s.get("linux"), s.get("migprio")

            def cell(x, key, f, row):
                if x:
                    return fmt(x.get(key), f, "-")
                why = d["skipped"].get(row) or d["skipped"].get("all")
                return f"skipped: {why}" if why else "not run"
            L.append(f"| {P6_NAMES.get(lay, lay)} | "
                     f"{fmt((a or b or c or {}).get('mem_mib'), '{:.0f}', '')} | "
                     f"{cell(a, 'time_s_median', '{:.2f}', 'alone')} | "
                     f"{cell(b, 't_over_alone', '{:.2f}', 'linux')} | "
                     f"{cell(b, 'bulk_share', '{:.0%}', 'linux')} | "
                     f"{cell(c, 't_over_alone', '{:.2f}', 'migprio')} | "
                     f"{cell(c, 'bulk_share', '{:.0%}', 'migprio')} |")
        L.append("")
    L.append("### P2 overhead (bare veth, CPU-bound, alternating runs)")
    L.append("")
    p2 = res["p2"]
    if "skipped" in p2:
        L.append(f"Skipped: {p2['skipped']}.")
    else:
        L.append("| flow | module unloaded | loaded, no designated dev | designated (on) | on/off | on/unloaded | runs on+off+unloaded | hook calls/s (on) |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for k, name in (("other", "non-migration flow, 1024 rules loaded"),
                        ("mig", "migration flow (preset qemu)")):
            d = p2.get(k)
            if d:
                L.append(f"| {name} | {fmt(d['median_unloaded_mbit'], '{:.0f}')} | "
                         f"{fmt(d['median_off_mbit'], '{:.0f}')} | "
                         f"{fmt(d['median_on_mbit'], '{:.0f}')} | {fmt(d['ratio'], '{:.3f}')} | "
                         f"{fmt(d['ratio_unloaded'], '{:.3f}')} | "
                         f"{len(d['on'])}+{len(d['off'])}+{len(d['unloaded'])} | "
                         f"{fmt(d.get('hook_calls_per_s'), '{:.0f}')} |")
        L.append("")
        L.append("Throughput in Mbit/s (medians of iperf3 receiver rates). Hook calls/s:"
                 " the sender's vsrc packets (tx + rx, a GSO/GRO packet once) per"
                 " second in the designated runs, an upper bound on classifier lookups.")
    L.append("")
    host_block(L, "P2b classifier (host, userspace build of module/classify.c)",
               res["p2b"]["text"],
               "build/userspace/bench/classify_bench missing")
    host_block(L, "P2c hook fast path (host, callgrind, userspace build of the packet path)",
               res["p2c"]["text"],
               "scripts/bench-hook.sh: valgrind or build/userspace/bench/hook_bench missing")
    L.append(f"### P3 long fat pipe (400 ms RTT, {link} Mbit/s, one migration-port flow)")
    L.append("")
    L.append("| buffers | Mbit/s (whole run) | fraction of link | Mbit/s (2nd half) | fraction (2nd half) | seconds |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for cfg, name in (("off", "kernel defaults"), ("on", "migprio")):
        d = res["p3"].get(cfg)
        if not d:
            continue
        if "skipped" in d:
            L.append(f"| {name} | skipped: {d['skipped']} | | | | |")
            continue
        L.append(f"| {name} | {fmt(d['mbit'], '{:.1f}')} | {fmt(d['fraction'], '{:.0%}')} | "
                 f"{fmt(d['steady_mbit'], '{:.1f}')} | {fmt(d['steady_fraction'], '{:.0%}')} | {d['seconds']} |")
    L.append("")
    if res.get("p5"):
        L.append(f"### P5 QEMU's view ({link} Mbit/s, 4 bulk flows, migprio, 4 channels)")
        L.append("")
        L.append("| buffers | migsim mode | converged | reported total (s) | destination total (s) | "
                 "reported downtime (ms) | real downtime (ms) | real / reported |")
        L.append("|---|---|---|---:|---:|---:|---:|---:|")
        for cfg, d in res["p5"].items():
            buf, _, mode = cfg.rpartition("-")
            if "skipped" in d:
                L.append(f"| {buf} | {mode} | skipped: {d['skipped']} | | | | | |")
                continue
            rep, real = d.get("downtime_ms"), d.get("real_downtime_ms")
            ratio = real / rep if rep and real is not None else None
            L.append(f"| {buf} | {mode} | {'yes' if d.get('converged') else 'no'} | {fmt(d.get('total_time_s'))} | "
                     f"{fmt(d.get('dest_total_time_s'))} | {fmt(rep, '{:.0f}')} | "
                     f"{fmt(real, '{:.0f}')} | {fmt(ratio, '{:.1f}x')} |")
        L.append("")
    L.append("### P4 control plane")
    L.append("")
    p4 = res["p4"]
    if "skipped" in p4:
        L.append(f"Skipped: {p4['skipped']}.")
    else:
        r = p4.get("apply_1024")
        if r:
            L.append(f"- `migprioctl apply` of {r['rules']} rules (during P2): "
                     f"**{r['apply_s']:.1f} s** ({r['listed']} listed after).")
        r = p4.get("rules")
        if r and r.get("timed_out"):
            L.append(f"- `migprioctl apply` of {r['rules']} rules: **not finished after "
                     f"{r['limit_s']} s** (stopped; {r['listed']} rules were in place).")
        elif r:
            L.append(f"- `migprioctl apply` of {r['rules']} rules: **{r['apply_s']:.1f} s** "
                     f"(exit {r['rc']}); `rule list` {r['list_s']:.2f} s ({r['listed']} listed); "
                     f"`rule flush` {r['flush_s']:.2f} s.")
        f = p4.get("flows")
        if f:
            L.append(f"- {f['flows_opened']} connections held open (ready: {f['ready']}, "
                     f"{f['connect_s']:.1f} s to open): `flow list` **{f['list_text_s']:.2f} s** "
                     f"({f['listed_text']} flows listed, {f['list_bytes']} bytes), "
                     f"`-j flow list` {f['list_json_s']:.2f} s.")
    L.append("")
    p7 = res.get("p7") or {}
    if p7.get("runs") or p7.get("skipped"):
        L.append("### P7 SYN path (SYN flood to a covered port, alternating runs)")
        L.append("")
        if "skipped" in p7:
            L.append(f"Skipped: {p7['skipped']}.")
        else:
            L.append("| listener records | runs | SYN-ACKs/s (median) | listener rb |")
            L.append("|---|---:|---:|---:|")
            for cfg, name in (("records0", "none (the listener needs no tuning)"),
                              ("records", "the listener's and 16 others")):
                runs = p7["runs"].get(cfg, {})
                rb = next(iter(runs.values()), {}).get("listener_rb")
                L.append(f"| {name} | {len(runs)} | "
                         f"{fmt(p7['rate_median'].get(cfg), '{:.0f}')} | {rb} |")
            L.append("")
            L.append(f"Ratio with records / without: **{fmt(p7['ratio'], '{:.3f}')}** "
                     f"(median of the runs' ratios: "
                     f"{', '.join(f'{x:.3f}' for x in p7['ratio_runs'])}).")
        L.append("")
    L += qemu_markdown(res["qemu"])
    L.append("")
    L.append("### Invalid rows")
    L.append("")
    if res.get("invalid"):
        L.append("Runs in which a bulk flow was in the migration class: left out of the tables above.")
        L.append("")
        for r in res["invalid"]:
            L.append(f"- {r['scenario']} {r.get('config') or ''} rep {r.get('rep') or 1}: {r['skipped']}")
    else:
        L.append("None: no bulk flow was in the migration class in any run "
                 "(migprio's flow events, the bulk connections' ports).")
    return "\n".join(L)


def demo_table(res):
    s = res["p1"]["summary"]
    rows = [("", "without migprio", "with migprio")]
    b, c = s.get("b"), s.get("c")
    rb = res["p1"]["runs"].get("b", {}).get(1)
    rc = res["p1"]["runs"].get("c", {}).get(1)
    a = s.get("a")

    def col(x, key, f):
        return f.format(x[key]) if x and x.get(key) is not None else "n/a"
    rows.append(("migration time (s)", col(rb, "total_time_s", "{:.1f}"),
                 col(rc, "total_time_s", "{:.1f}")))
    rows.append(("  vs. link all to itself", col(b, "t_over_alone", "{:.2f}x"),
                 col(c, "t_over_alone", "{:.2f}x")))
    rows.append(("rounds", col(rb, "rounds", "{}"), col(rc, "rounds", "{}")))
    rows.append(("converged", "yes" if rb and rb["converged"] else "no",
                 "yes" if rc and rc["converged"] else "no"))
    rows.append(("migration bandwidth (Mbit/s)", col(rb, "bandwidth_mbit_s", "{:.1f}"),
                 col(rc, "bandwidth_mbit_s", "{:.1f}")))
    rows.append(("bulk flows' share of the link", col(rb, "bulk_share", "{:.0%}"),
                 col(rc, "bulk_share", "{:.0%}")))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    out = []
    for i, r in enumerate(rows):
        out.append(f"  {r[0]:<{w[0]}}   {r[1]:>{w[1]}}   {r[2]:>{w[2]}}")
        if i == 0:
            out.append("  " + "-" * (w[0] + w[1] + w[2] + 6))
    if a and a.get("time_s_median"):
        out.append(f"  (the same migration alone on the link took {a['time_s_median']:.1f} s)")
    return "\n".join(out)


def host_result(path):
    """The text of a host benchmark (FILE.txt) and its JSON (FILE.json)."""
    text = data = None
    if path and os.path.exists(path):
        with open(path) as f:
            text = f.read()
        jpath = path.replace(".txt", ".json")
        if os.path.exists(jpath):
            try:
                with open(jpath) as f:
                    data = json.load(f)
            except json.JSONDecodeError:
                pass
    return text, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmlog")
    ap.add_argument("outdir")
    ap.add_argument("--classify")
    ap.add_argument("--hook")
    ap.add_argument("--machine")
    ap.add_argument("--demo", action="store_true")
    a = ap.parse_args()
    recs = load(a.vmlog)
    for r in invalidate(recs):
        print(f"bench-report: {r.get('scenario')} {r.get('config')}: {r['skipped']}",
              file=sys.stderr)
    if a.demo:
        for r in recs:
            if r.get("scenario") == "demo":
                r["scenario"] = "p1"
    ctext, cjson = host_result(a.classify)
    htext, hjson = host_result(a.hook)
    res = analyse(recs, ctext, cjson, a.machine, htext, hjson)
    if a.demo:
        print(demo_table(res))
        return 0
    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.join(a.outdir, "results.json"), "w") as f:
        json.dump({**res, "qemu": qemu_json(res["qemu"])}, f, indent=1)
    md = markdown(res)
    with open(os.path.join(a.outdir, "results.md"), "w") as f:
        f.write(md + "\n")
    made = write_plot_data(res, a.outdir)
    qemu_plot(res["qemu"], a.outdir)
    with open(os.path.join(a.outdir, "plot-configs"), "w") as f:
        f.write(" ".join(made) + "\n")
    print(md)
    return 0 if recs else 1


if __name__ == "__main__":
    sys.exit(main())
