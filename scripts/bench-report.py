#!/usr/bin/env python3
"""Turns scripts/bench's raw results into BENCHMARKS.md and the fan-out chart.

Usage: bench-report.py RESULTS_DIR REPORT.md CHART.svg COMMAND "SIZES" SLOW_SIZE

RESULTS_DIR holds NAME.RUN.json files written by `gavel-swarm --json`. Every
figure is the median of its runs, shown with min and max; each is set against
its baseline from the same run and against the target of issue 4. Where
scripts/bench runs a figure and its baseline as pairs, one right after the
other (fan-out and the broadcaster, the slow reader and the fan-out before
it), the ratio is the median of the pairs' own ratios. Standard library only,
so that the benchmark needs nothing but Python 3.
"""

import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from datetime import datetime, timezone


def load(results):
    """{name: {run number: report}} from the NAME.RUN.json files."""
    runs = {}
    for path in glob.glob(os.path.join(results, "*.json")):
        match = re.fullmatch(r"(.+)\.(\d+)\.json", os.path.basename(path))
        if match is None:
            continue
        with open(path) as f:
            runs.setdefault(match[1], {})[int(match[2])] = json.load(f)
    return runs


def value(report, pick):
    """pick(report) as a float, or None where the run has no such figure."""
    try:
        v = pick(report)
    except (KeyError, TypeError):
        return None
    return None if v is None else float(v)


def spread(values):
    """(median, min, max, n) of values, or None if there are none."""
    if not values:
        return None
    return statistics.median(values), min(values), max(values), len(values)


def figure(runs, name, pick):
    """(median, min, max, n) of pick(report) over the runs of `name`, or None."""
    return spread([v for r in runs.get(name, {}).values() if (v := value(r, pick)) is not None])


def paired(runs, name, base, pick, pick_base=None):
    """The ratios pick(name) / pick_base(base) (pick_base defaults to pick) of
    the runs that share a run number, in run order: scripts/bench runs each
    pair in the same minutes, so each ratio is free of the host's drift
    between pairs."""
    pick_base = pick_base or pick
    ratios = []
    for run in sorted(runs.get(name, {}).keys() & runs.get(base, {}).keys()):
        a, b = value(runs[name][run], pick), value(runs[base][run], pick_base)
        if a is not None and b:
            ratios.append(a / b)
    return ratios


def paired_text(ratios):
    """The ratio column for paired runs: the median, then every pair's ratio."""
    if not ratios:
        return "—"
    pairs = ", ".join(f"{r:.2f}" for r in ratios)
    return f"{statistics.median(ratios):.2f} (pairs: {pairs})"


def fmt(fig, unit=""):
    if fig is None:
        return "not measured"
    med, lo, hi, n = fig
    digits = 0 if med >= 100 else 1
    text = f"{med:,.{digits}f}{unit}"
    if n > 1:
        text += f" ({lo:,.{digits}f}–{hi:,.{digits}f}, {n} runs)"
    return text


def ratio(a, b):
    if a is None or b is None or b[0] == 0:
        return None
    return a[0] / b[0]


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**not met**")


def machine(started):
    def cpu():
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or "unknown"

    def memory():
        try:
            with open("/proc/meminfo") as f:
                kib = int(f.readline().split()[1])
            return f"{kib / 1024 / 1024:.1f} GiB"
        except (OSError, ValueError, IndexError):
            return "unknown"

    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return [
        ("cores (`nproc`)", nproc),
        ("CPU", cpu()),
        ("memory", memory()),
        ("kernel", platform.release()),
        ("runs started", started.strftime("%Y-%m-%d %H:%M UTC")),
    ]


def chart(runs, sizes, path):
    """time-to-last-tablet p99 against tablets: Gavel and the minimal broadcaster."""
    series = [
        ("Gavel", "fanout", "#1f6feb"),
        ("minimal broadcaster", "broadcast", "#8b949e"),
    ]
    points = {}
    for label, prefix, _ in series:
        points[label] = [
            (n, figure(runs, f"{prefix}-{n}", lambda r: r["time_to_last_tablet_ms"]["p99"]))
            for n in sizes
        ]
    top = max([f[0] for pts in points.values() for _, f in pts if f] + [1.0]) * 1.15
    width, height, left, right, bottom, tail = 640, 360, 70, 20, 50, 30
    plot_w, plot_h = width - left - right, height - bottom - tail

    def x(i):
        return left + (plot_w * (i + 0.5) / len(sizes))

    def y(v):
        return tail + plot_h * (1 - v / top)

    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Tally update: time to the last tablet, p99 (ms)</text>',
        f'<line x1="{left}" y1="{tail + plot_h}" x2="{width - right}" y2="{tail + plot_h}" stroke="black"/>',
        f'<line x1="{left}" y1="{tail}" x2="{left}" y2="{tail + plot_h}" stroke="black"/>',
    ]
    for k in range(5):
        v = top * k / 4
        svg.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
        svg.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" stroke="#eee"/>'
        )
    for i, n in enumerate(sizes):
        svg.append(
            f'<text x="{x(i):.1f}" y="{tail + plot_h + 18}" text-anchor="middle">{n:,} tablets</text>'
        )
    bar = plot_w / len(sizes) / (len(series) + 1)
    for s, (label, _, colour) in enumerate(series):
        for i, (_, fig) in enumerate(points[label]):
            if fig is None:
                continue
            bx = x(i) - bar * len(series) / 2 + s * bar
            svg.append(
                f'<rect x="{bx:.1f}" y="{y(fig[0]):.1f}" width="{bar * 0.9:.1f}" '
                f'height="{tail + plot_h - y(fig[0]):.1f}" fill="{colour}"/>'
            )
            svg.append(
                f'<text x="{bx + bar * 0.45:.1f}" y="{y(fig[0]) - 4:.1f}" '
                f'text-anchor="middle">{fig[0]:.0f}</text>'
            )
        lx = left + 10 + s * 200
        svg.append(f'<rect x="{lx}" y="{height - 16}" width="12" height="12" fill="{colour}"/>')
        svg.append(f'<text x="{lx + 18}" y="{height - 6}">{label}</text>')
    svg.append("</svg>")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


# Per kind of target: the findings.md section on it (title, anchor).
FINDINGS = {
    "fan-out": ("Fan-out at 10,000: the gap that is left", "fan-out-at-10000-the-gap-that-is-left"),
    "fan-out-small": ("Fan-out at 1,000: the ballots' hand-offs", "fan-out-at-1000-the-ballots-hand-offs"),
    "verify": (
        "the server's CPU per ballot against one verify_strict",
        "the-servers-cpu-per-ballot-against-one-verify_strict-2026-12-07",
    ),
    # The absolute targets move with the host's speed, and a run's noise
    # can fail one: the latest run's reading of each is there.
    "throughput": ("Where each target stands", "where-each-target-stands"),
    "latency": ("Where each target stands", "where-each-target-stands"),
    "slow-reader": ("Where each target stands", "where-each-target-stands"),
    "papers": ("Where each target stands", "where-each-target-stands"),
    "checkin": (
        "Documents at check-in: the vote waits behind the downloads",
        "documents-at-check-in-the-vote-waits-behind-the-downloads",
    ),
}


def ballot_round(report, ballot):
    """The round of a papers report whose ballot starts with `ballot`
    ("yes/no", "rating"); a KeyError where the run has none."""
    for r in report["rounds"]:
        if r["ballot"].startswith(ballot):
            return r
    raise KeyError(ballot)


def main():
    results, report_path, chart_path, command, sizes, slow = sys.argv[1:7]
    sizes = [int(n) for n in sizes.split()]
    slow = int(slow)
    runs = load(results)
    # scripts/bench names the results directory after the runs' start (UTC).
    try:
        started = datetime.strptime(os.path.basename(os.path.normpath(results)), "%Y%m%d-%H%M%S")
    except ValueError:
        started = datetime.now(timezone.utc)
    p99 = lambda r: r["time_to_last_tablet_ms"]["p99"]  # noqa: E731
    p99_read = lambda r: r["time_to_last_tablet_read_ms"]["p99"]  # noqa: E731
    rows = []
    # Where findings.md explains each kind of target, for the ones not met.
    unmet = []

    for n in sizes:
        pairs = paired(runs, f"fanout-{n}", f"broadcast-{n}", p99)
        r = statistics.median(pairs) if pairs else None
        rows.append((
            f"tally update, time to the last of {n:,} tablets (p99)",
            "≤ 1.2 × minimal broadcaster",
            fmt(figure(runs, f"fanout-{n}", p99), " ms"),
            "broadcaster " + fmt(figure(runs, f"broadcast-{n}", p99), " ms"),
            paired_text(pairs), verdict(None if r is None else r <= 1.2),
        ))
        if r is not None and r > 1.2:
            unmet.append((rows[-1], "fan-out" if n >= 10_000 else "fan-out-small"))
        rows.append((
            f"same, {n:,} tablets, until the swarm's tablet tasks have read it",
            "—",
            fmt(figure(runs, f"fanout-{n}", p99_read), " ms"),
            "broadcaster " + fmt(figure(runs, f"broadcast-{n}", p99_read), " ms"),
            paired_text(paired(runs, f"fanout-{n}", f"broadcast-{n}", p99_read)), "—",
        ))
        cpu = {
            (who, side): figure(runs, f"{who}-{n}", lambda r, side=side: r[f"{side}_cpu_ms_per_update"])
            for who in ("fanout", "broadcast")
            for side in ("server", "swarm")
        }
        rows.append((
            f"same, {n:,} tablets: CPU time per update (the server; the swarm's tablets)",
            "—",
            f"Gavel {fmt(cpu['fanout', 'server'], ' ms')}; swarm {fmt(cpu['fanout', 'swarm'], ' ms')}",
            f"broadcaster {fmt(cpu['broadcast', 'server'], ' ms')}; "
            f"its clients {fmt(cpu['broadcast', 'swarm'], ' ms')}",
            "—", "—",
        ))

    # The audience on a relay node (two nodes on PostgreSQL): the largest
    # hall's number of public viewers on the node that does not host the
    # meeting, each tally timed from the host, against the broadcaster at
    # the pace the viewers got tallies in that run.
    big = sizes[-1]
    pairs = paired(runs, f"relay-{big}", f"relay-broadcast-{big}", p99)
    rows.append((
        f"audience: tally update, time to the last of {big:,} public viewers "
        "served by a relay node (p99; two nodes, PostgreSQL)",
        "—",
        fmt(figure(runs, f"relay-{big}", p99), " ms"),
        "broadcaster " + fmt(figure(runs, f"relay-broadcast-{big}", p99), " ms"),
        paired_text(pairs), "—",
    ))
    rows.append((
        f"same, {big:,} viewers, until the swarm's viewer tasks have read it",
        "—",
        fmt(figure(runs, f"relay-{big}", p99_read), " ms"),
        "broadcaster " + fmt(figure(runs, f"relay-broadcast-{big}", p99_read), " ms"),
        paired_text(paired(runs, f"relay-{big}", f"relay-broadcast-{big}", p99_read)), "—",
    ))
    relay_p50 = figure(runs, f"relay-{big}", lambda r: r["time_to_last_tablet_ms"]["p50"])
    broadcast_p50 = figure(runs, f"relay-broadcast-{big}", lambda r: r["time_to_last_tablet_ms"]["p50"])
    rows.append((
        f"same, {big:,} viewers (p50)",
        "—",
        fmt(relay_p50, " ms"),
        "broadcaster " + fmt(broadcast_p50, " ms"),
        paired_text(paired(runs, f"relay-{big}", f"relay-broadcast-{big}",
                           lambda r: r["time_to_last_tablet_ms"]["p50"])), "—",
    ))

    # Failover (two nodes on PostgreSQL): the meeting's node killed in each
    # of 20 bursts of ballots and started again; from the kill to the first
    # ballot the new owner acknowledged, and what the closed round counts
    # against what was acknowledged.
    failover = lambda pick: figure(runs, "failover", pick)
    rows.append((
        "failover: the meeting's node killed mid-vote (20 kills a run), kill to the "
        "first ballot acknowledged by the new owner (p50; two nodes, PostgreSQL)",
        "—",
        fmt(failover(lambda r: r["failover_ms"]["p50"]), " ms"),
        "—", "—", "—",
    ))
    rows.append((
        "same, the slowest of the kills",
        "—",
        fmt(failover(lambda r: r["failover_ms"]["max"]), " ms"),
        "—", "—", "—",
    ))
    lost, twice = failover(lambda r: r["ballots_lost"]), failover(lambda r: r["ballots_counted_twice"])
    rows.append((
        "same: acknowledged ballots lost, counted twice",
        "0, 0",
        f"{fmt(lost)}, {fmt(twice)}",
        "—", "—",
        verdict(None if lost is None or twice is None else lost[2] == 0 and twice[2] == 0),
    ))

    # The floor, in the smaller hall: each change of turn to every tablet
    # against the broadcaster at the same pace, and each request to the
    # chair's queue against the bound a ballot's acknowledgement has.
    pairs = paired(runs, f"floor-{slow}", f"floor-broadcast-{slow}", p99)
    r = statistics.median(pairs) if pairs else None
    rows.append((
        f"change of the floor (a turn given or ended), time to the last of {slow:,} tablets (p99)",
        "≤ 1.2 × minimal broadcaster, as a tally",
        fmt(figure(runs, f"floor-{slow}", p99), " ms"),
        "broadcaster of the same frames " + fmt(figure(runs, f"floor-broadcast-{slow}", p99), " ms"),
        paired_text(pairs), verdict(None if r is None else r <= 1.2),
    ))
    if r is not None and r > 1.2:
        unmet.append((rows[-1], "fan-out-small"))
    cpu = {
        who: figure(runs, f"{who}-{slow}", lambda r: r["server_cpu_ms_per_update"])
        for who in ("floor", "floor-broadcast")
    }
    rows.append((
        f"same, {slow:,} tablets: the server's CPU time per change",
        "—",
        "Gavel " + fmt(cpu["floor"], " ms"),
        "broadcaster " + fmt(cpu["floor-broadcast"], " ms"),
        "—", "—",
    ))
    request = figure(runs, f"floor-{slow}", lambda r: r["request_to_chair_ms"]["p99"])
    rows.append((
        f"request for the floor to the chair's queue, {slow:,} tablets connected (p99)",
        "≤ 100 ms, as a ballot's acknowledgement",
        fmt(request, " ms"), "—", "—",
        verdict(None if request is None else request[0] <= 100),
    ))
    if request is not None and request[0] > 100:
        unmet.append((rows[-1], "latency"))

    # The CPU time of one `verify_strict`, in µs, as the verify baseline
    # measured it: on a quiet host its threads over its rate, but unlike
    # that it stays put when other programs share the cores.
    verify_us = lambda r: r["cpu_us_per_verify"]  # noqa: E731
    verify = figure(runs, "verify", verify_us)
    for store, target in (("postgres", 10_000), ("sqlite", 5_000)):
        acks = figure(runs, f"saturated-{store}", lambda r: r["acks_per_second"])
        ceiling = figure(runs, f"store-{store}", lambda r: r["rows_per_second"])
        r = ratio(acks, ceiling)
        rows.append((
            f"ballots verified and durably committed, sustained, {store} (20,000/s offered)",
            f"≥ {target:,} /s",
            fmt(acks, " /s"), "batched inserts " + fmt(ceiling, " rows/s"),
            "—" if r is None else f"{r:.3f}",
            verdict(None if acks is None else acks[0] >= target),
        ))
        if acks is not None and acks[0] < target:
            unmet.append((rows[-1], "throughput"))
        server_cpu = figure(runs, f"saturated-{store}", lambda r: r["server_cpu_us_per_ack"])
        pairs = paired(runs, f"saturated-{store}", "verify",
                       lambda r: r["server_cpu_us_per_ack"], verify_us)
        r = statistics.median(pairs) if pairs else None
        rows.append((
            f"same, {store}: the server's CPU time per acknowledged ballot, "
            "in `verify_strict`s (CPU time, same run)",
            "≤ 2.0",
            "server " + fmt(server_cpu, " µs"), "one verify_strict " + fmt(verify, " µs"),
            paired_text(pairs), verdict(None if r is None else r <= 2.0),
        ))
        if r is not None and r > 2.0:
            unmet.append((rows[-1], "verify"))
        swarm_cpu = figure(runs, f"saturated-{store}", lambda r: r["swarm_cpu_us_per_ack"])
        cpu_ceiling = figure(runs, f"saturated-{store}", lambda r: r["cpu_ceiling_per_second"])
        r = ratio(acks, cpu_ceiling)
        rows.append((
            f"same, {store}: CPU time per acknowledged ballot (server + swarm on the same cores)",
            "—",
            f"server {fmt(server_cpu, ' µs')}; swarm {fmt(swarm_cpu, ' µs')}",
            "the cores' ceiling at that cost " + fmt(cpu_ceiling, " /s"),
            "—" if r is None else f"{r:.2f}", "—",
        ))
        latency = figure(runs, f"sustained-{store}", lambda r: r["ack_ms"]["p99"])
        rows.append((
            f"sign-to-ack latency at 5,000 ballots/s offered, {store} (p99)",
            "≤ 100 ms",
            fmt(latency, " ms"), "—", "—",
            verdict(None if latency is None else latency[0] <= 100),
        ))
        if latency is not None and latency[0] > 100:
            unmet.append((rows[-1], "latency"))
        latency_read = figure(runs, f"sustained-{store}", lambda r: r["ack_read_ms"]["p99"])
        rows.append((
            f"same, {store}, until the swarm's tablet task has read the acknowledgement",
            "—",
            fmt(latency_read, " ms"), "—", "—", "—",
        ))

    big = sizes[-1]
    acked = figure(runs, f"burst-{big}", lambda r: r["ballots_acked"])
    close = figure(runs, f"burst-{big}", lambda r: r["close_to_last_tablet_ms"])
    saw = figure(runs, f"burst-{big}", lambda r: r["tablets_with_result"])
    all_acked = acked is not None and acked[1] >= big
    rows.append((
        f"burst: {big:,} tablets vote within one second",
        "every ballot acknowledged; close → result at every tablet ≤ 300 ms",
        f"acked (min of runs) {fmt(acked)}; result at {fmt(saw)} tablets after {fmt(close, ' ms')}",
        "—", "—",
        verdict(None if close is None or saw is None else all_acked and saw[1] >= big and close[0] <= 300),
    ))

    # The confidence paper (issue 22): every tablet casts one signed rating
    # paper of 30 officials in a secret round, after a secret yes/no round
    # from the same tablets in the same run, the baseline; a counting board
    # of three confirms each count at once and the chair announces it.
    for store in ("postgres", "sqlite"):
        name = f"papers-{store}"
        if name not in runs:
            continue
        n = int(figure(runs, name, lambda r: r["tablets"])[0])
        paper = lambda key: lambda r: ballot_round(r, "rating")[key]  # noqa: E731
        yes_no = lambda key: lambda r: ballot_round(r, "yes/no")[key]  # noqa: E731
        acked = figure(runs, name, paper("acked"))
        to_ack = figure(runs, name, paper("open_to_last_ack_ms"))
        close = "close_to_closed_at_last_tablet_ms"
        to_result = figure(runs, name, paper(close))
        ok = None
        if acked is not None and to_ack is not None and to_result is not None:
            ok = acked[1] >= n and to_ack[0] <= 10_000 and to_result[0] <= 300
        rows.append((
            f"30-official confidence ballot from {n:,} tablets, {store} "
            "(each cast within 1 s of seeing the round)",
            "all acknowledged within 10 s; close → result under the same bound as yes/no "
            "(≤ 300 ms at every tablet, as the burst)",
            f"acked (min of runs) {fmt(acked)} of {n:,}, the last {fmt(to_ack, ' ms')} after "
            f"the open; close → result (provisional) at every tablet {fmt(to_result, ' ms')}",
            f"yes/no, same tablets: the last ack {fmt(figure(runs, name, yes_no('open_to_last_ack_ms')), ' ms')}; "
            f"close → result {fmt(figure(runs, name, yes_no(close)), ' ms')}",
            paired_text(paired(runs, name, name, paper(close), yes_no(close))), verdict(ok),
        ))
        if ok is False:
            unmet.append((rows[-1], "papers"))
        announced = "close_to_result_at_last_tablet_ms"
        rows.append((
            f"same, {store}: close → the announced result at every tablet (a counting board "
            "of three confirming at once, the chair announcing as soon as it may)",
            "—",
            fmt(figure(runs, name, paper(announced)), " ms"),
            "yes/no, same tablets: " + fmt(figure(runs, name, yes_no(announced)), " ms"),
            paired_text(paired(runs, name, name, paper(announced), yes_no(announced))), "—",
        ))

    per = figure(runs, f"idle-{big}", lambda r: r["rss_per_tablet_bytes"] / 1024)
    rows.append((
        f"memory per idle connected tablet at {big:,}",
        "≤ 16 KiB of server RSS",
        fmt(per, " KiB"), "—", "—", verdict(None if per is None else per[0] <= 16),
    ))

    slow_p99 = figure(runs, f"slow-reader-{slow}", p99)
    without = figure(runs, f"fanout-{slow}", p99)
    slow_rss = figure(runs, f"slow-reader-{slow}", lambda r: r["server_rss_after_kib"] / 1024)
    plain_rss = figure(runs, f"fanout-{slow}", lambda r: r["server_rss_after_kib"] / 1024)
    pairs = paired(runs, f"slow-reader-{slow}", f"fanout-{slow}", p99)
    r = statistics.median(pairs) if pairs else None
    rows.append((
        f"one tablet that stops reading ({slow:,} others)",
        "others' p99 within 10% of the run without it; server memory bounded",
        f"p99 {fmt(slow_p99, ' ms')}; server RSS {fmt(slow_rss, ' MiB')}",
        f"without it: p99 {fmt(without, ' ms')}; RSS {fmt(plain_rss, ' MiB')}",
        paired_text(pairs), verdict(None if r is None else r <= 1.1),
    ))
    if r is not None and r > 1.1:
        unmet.append((rows[-1], "slow-reader"))

    # The documents at check-in: the downloads against a static-file server
    # serving the same bytes to as many clients, the vote's acknowledgements
    # against the same vote alone, each pair from the same minutes.
    fetched = figure(runs, "checkin-downloads", lambda r: r["documents_fetched"])
    wrong = figure(runs, "checkin-downloads", lambda r: r["documents_wrong"])
    took = figure(runs, "checkin-downloads", lambda r: r["download_seconds"])
    static_took = figure(runs, "static-downloads", lambda r: r["download_seconds"])
    report = next(iter(runs.get("checkin-downloads", {}).values()), None)
    if report is not None:
        tablets = report["tablets"]
        mib = report.get("download_bytes", 0) / max(1, tablets) / 1048576
        pairs = paired(runs, "checkin-downloads", "static-downloads", lambda r: r["download_seconds"])
        r = statistics.median(pairs) if pairs else None
        intact = wrong is not None and wrong[2] == 0
        rows.append((
            f"{tablets:,} tablets each fetch the meeting's {mib:.0f} MiB of documents at check-in "
            "while a vote runs: total download time",
            "every document byte-identical; ≤ 1.3 × a static-file server",
            f"{fmt(took, ' s')}; {fmt(fetched)} documents intact, {fmt(wrong)} not",
            "tower-http ServeDir " + fmt(static_took, " s"),
            paired_text(pairs), verdict(None if r is None else intact and r <= 1.3),
        ))
        if r is not None and not (intact and r <= 1.3):
            unmet.append((rows[-1], "checkin"))
        ack = lambda r: r["ack_ms"]["p99"]  # noqa: E731
        pairs = paired(runs, "checkin-downloads", "checkin-vote", ack)
        r = statistics.median(pairs) if pairs else None
        rows.append((
            f"same: the vote's sign-to-ack latency while the documents download (p99, "
            f"{fmt(figure(runs, 'checkin-vote', lambda r: r['offered_per_second']), '/s')} offered)",
            "≤ 1.5 × the same vote without downloads",
            fmt(figure(runs, "checkin-downloads", ack), " ms"),
            "the vote alone " + fmt(figure(runs, "checkin-vote", ack), " ms"),
            paired_text(pairs), verdict(None if r is None else r <= 1.5),
        ))
        if r is not None and r > 1.5:
            unmet.append((rows[-1], "checkin"))
        peak = lambda r: (r["server_rss_peak_kib"] - r["server_rss_before_kib"]) / 1024  # noqa: E731
        grew = figure(runs, "checkin-downloads", peak)
        bound = 2 * mib + 32
        rows.append((
            "same: the server's memory, from before the tablets log in to its peak during the downloads",
            f"bounded: ≤ twice the document set plus 32 MiB ({bound:.0f} MiB), not a copy per tablet",
            "Gavel +" + fmt(grew, " MiB"),
            "static-file server +" + fmt(figure(runs, "static-downloads", peak), " MiB"),
            "—", verdict(None if grew is None else grew[0] <= bound),
        ))
        if grew is not None and grew[0] > bound:
            unmet.append((rows[-1], "checkin"))

    chart(runs, sizes, chart_path)
    chart_link = os.path.relpath(chart_path, os.path.dirname(os.path.abspath(report_path)))
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (scripts/bench, issue 4). Swarm and server run on the "
        "same machine over loopback; every figure is the median of its runs with "
        "(min–max). The fan-out and slow-reader runs are taken in pairs, each right after "
        "the run it is compared with (Gavel's fan-out, then the broadcaster; Gavel's fan-out, "
        "then the same with one tablet that stops reading), because the host's speed drifts "
        "from one minute to the next; their ratio is the median of the pairs' own ratios, "
        "and every pair's ratio is shown. Fan-out times run from the `server_time_us` of each "
        "`tally` frame (the server's clock when it sent the update, in microseconds) to the "
        "frame's arrival. The minimal broadcaster sends its frames at "
        "the pace Gavel's tally updates went out in the fan-out run just before it, so that "
        "both deliver as many updates to as many clients. The floor's changes are timed "
        "the same way from the `server_time` of each `floor` frame, which is in "
        "milliseconds, and the broadcaster it is paired with sends, every 100 ms, the "
        "delegate's `floor` frame that run kept from the middle of its turns (a floor frame "
        "carries the next requests and every waiting seat's place, several times a tally's "
        "bytes), timed by the same millisecond clock.",
        "",
        "The audience rows run two `gavel serve` nodes on one PostgreSQL database: the "
        "public viewers watch through the node that does not host the meeting, which serves "
        "them from what the host publishes (docs/architecture.md, \"The audience on every "
        "node\"), while 20 voters on the host cast 200 ballots a second. Each tally is timed "
        "from the host's `server_time_us` to the viewer's socket, so the time includes the "
        "write to PostgreSQL, its notification and the relay's read; the broadcaster it is "
        "paired with sends at the pace the viewers got tallies in that run.",
        "",
        "A frame reaches a tablet when it reaches the tablet's socket: the kernel's receive "
        "timestamp (`SO_TIMESTAMPNS`), the moment a real tablet, with a processor of its own, "
        "would have it. The swarm's tablets are thousands of tasks on the server's own two "
        "cores, and when a tally reaches all of them at once a task may read its frame a "
        "hundred milliseconds later; the rows headed \"until the swarm's tablet tasks have "
        "read it\" give that figure too, for Gavel and the broadcaster alike. The time a "
        "ballot falls due is taken in the swarm, so its own delay in sending still counts.",
        "",
        "The server's CPU time per acknowledged ballot, at saturation, is set against the "
        "CPU time of one `verify_strict` (the verify baseline's CPU time over its checks, in "
        "the same round of runs; on a quiet host, its threads over its rate): checking a ballot's signature is the one thing the server "
        "cannot skip, and the rest of a ballot's cost (its receipt's signature, the store, "
        "the frames) should stay within another such check. This replaces a target on the "
        "rate (at least 0.5 × `verify_strict`'s rate on the same cores), which the server "
        "could not meet with the swarm on its two cores: the swarm's own work takes a share "
        "of the cores that the baseline has to itself.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in machine(started)]
    lines += [
        "",
        "## Targets",
        "",
        "| what | target | measured | baseline (same run) | ratio | |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += [
        "",
        "## Fan-out against the number of tablets",
        "",
        f"![time to the last tablet, p99, Gavel and a minimal broadcaster]({chart_link})",
        "",
        "## Why a target is not met",
        "",
        "The analysis of every target this run does not meet, with the measurements and "
        "profiles that show where the time goes and what would change it, is in "
        "[docs/bench/findings.md](docs/bench/findings.md) (written by hand, not by this "
        "script):",
        "",
    ]
    lines += [
        f"- {row[0]}: {row[2]} — [{FINDINGS[kind][0]}](docs/bench/findings.md#{FINDINGS[kind][1]})"
        for row, kind in unmet
    ] or ["- every target is met in this run."]
    lines += [
        "",
        "## Every run",
        "",
        f"Raw JSON reports of every run: `{results}` (not checked in).",
        "",
    ]
    with open(report_path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
