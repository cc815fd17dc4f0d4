#!/usr/bin/env python3
"""CPU time and context switches of each kind of thread in a process.

    scripts/thread-cpu.py PID SECONDS

Reads /proc/PID/task/*/stat and status twice, SECONDS apart, and prints the
difference summed by thread name (tokio-rt-worker, sqlx-sqlite-wor,
gavel-signature, ...). docs/bench/findings.md uses it on a running
`gavel serve` (find it with `pgrep -f "gavel serve"`) to see which threads
a ballot's hand-offs wake: on a shared VM a context switch costs more than
most of the work between two of them.
"""
import collections
import os
import sys
import time


def snapshot(pid):
    tick = os.sysconf("SC_CLK_TCK")
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = dict(line.split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue  # the thread ended between listing and reading
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu_ms = (int(fields[11]) + int(fields[12])) * 1000 / tick
        switches = int(status["voluntary_ctxt_switches"]) + int(status["nonvoluntary_ctxt_switches"])
        threads[tid] = (name, cpu_ms, switches)
    return threads


def main():
    pid, seconds = sys.argv[1], float(sys.argv[2])
    before = snapshot(pid)
    time.sleep(seconds)
    after = snapshot(pid)
    by_name = collections.defaultdict(lambda: [0, 0.0, 0])
    for tid, (name, cpu_ms, switches) in after.items():
        _, cpu_before, switches_before = before.get(tid, (name, 0.0, 0))
        total = by_name[name]
        total[0] += 1
        total[1] += cpu_ms - cpu_before
        total[2] += switches - switches_before
    for name, (count, cpu_ms, switches) in sorted(by_name.items(), key=lambda kv: -kv[1][1]):
        print(f"{name:18} {count:3} threads  CPU {cpu_ms:7.0f} ms  context switches {switches:7}")


if __name__ == "__main__":
    main()
