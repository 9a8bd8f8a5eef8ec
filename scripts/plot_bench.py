#!/usr/bin/env python3
"""Turn a `vmalloc-bench --json FILE` report into PNG charts with gnuplot.

usage: scripts/plot_bench.py REPORT.json OUTDIR

Writes OUTDIR/ops.png (ops/s by workload and contender, one thread, log scale),
OUTDIR/scaling.png (throughput at each thread count relative to one thread, geometric mean over
the workloads every contender ran) and OUTDIR/latency.png (p50 and p99 per operation, one thread,
log scale). Only runs whose status is "passed" are drawn.
"""
import json
import math
import os
import subprocess
import sys


def variant(r):
    return r["workload"].replace("_alloc_test", "").replace("_test", "") + (
        f" {r['nr_pages']}p" if r.get("nr_pages") else "")


def table(path, rows, header):
    with open(path, "w") as f:
        f.write(" ".join(f'"{h}"' for h in header) + "\n")
        for row in rows:
            f.write(" ".join(f'"{c}"' if isinstance(c, str) else ("NaN" if c is None else repr(c)) for c in row) + "\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    report, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    results = [r for r in json.load(open(report))["results"] if r["status"] == "passed" and r["ops_per_sec"] > 0]
    if not results:
        sys.exit(f"{report}: no passed results to plot")
    contenders = list(dict.fromkeys(r["contender"] for r in results))
    variants = list(dict.fromkeys(variant(r) for r in results))
    threads = sorted({r["threads"] for r in results})
    by = {(variant(r), r["contender"], r["threads"]): r for r in results}

    def one_thread(field):
        return [[v] + [by[(v, c, 1)][field] if (v, c, 1) in by else None for c in contenders] for v in variants]

    table(f"{out}/ops.dat", one_thread("ops_per_sec"), ["variant"] + contenders)
    table(f"{out}/p50.dat", one_thread("p50_ns"), ["variant"] + contenders)
    table(f"{out}/p99.dat", one_thread("p99_ns"), ["variant"] + contenders)

    # Scaling: for each contender, the geometric mean over variants it ran at every thread count.
    rows = []
    for t in threads:
        row = [t]
        for c in contenders:
            vs = [v for v in variants if all((v, c, u) in by for u in threads)]
            ratios = [by[(v, c, t)]["ops_per_sec"] / by[(v, c, 1)]["ops_per_sec"] for v in vs]
            row.append(math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else None)
        rows.append(row)
    table(f"{out}/scaling.dat", rows, ["threads"] + contenders)

    n = len(contenders)
    hist = lambda dat: ", ".join(
        f"'{out}/{dat}' using {i + 2}:xtic(1) title columnheader({i + 2})" for i in range(n))
    scaling_curves = ", ".join(
        f"'{out}/scaling.dat' using 1:{i + 2} title columnheader({i + 2}) lw 2" for i in range(n)
    )
    script = f"""
set terminal pngcairo size 1400,700 font 'sans,10' noenhanced
set datafile missing 'NaN'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key outside right top
set grid ytics
set xtics rotate by -30
set logscale y

set output '{out}/ops.png'
set title 'vmalloc-bench: operations per second, 1 thread (log scale, higher is better)'
set ylabel 'ops/s'
plot {hist('ops.dat')}

set output '{out}/latency.png'
set multiplot layout 2,1
set title 'p50 ns per operation, 1 thread (log scale, lower is better)'
set ylabel 'ns'
plot {hist('p50.dat')}
set title 'p99 ns per operation, 1 thread (log scale, lower is better)'
plot {hist('p99.dat')}
unset multiplot

set output '{out}/scaling.png'
unset logscale y
unset xtics
set xtics ({', '.join(str(t) for t in threads)}) norotate
set style data linespoints
set xlabel 'threads'
set ylabel 'throughput / throughput at 1 thread'
set title 'vmalloc-bench: thread scaling (geometric mean over workloads; ideal = threads)'
plot {scaling_curves}, x title 'ideal' dt 2 lc rgb 'gray'
"""
    with open(f"{out}/plot.gp", "w") as f:
        f.write(script)
    subprocess.run(["gnuplot", f"{out}/plot.gp"], check=True)
    for name in ("ops", "latency", "scaling"):
        print(f"{out}/{name}.png")


if __name__ == "__main__":
    main()
