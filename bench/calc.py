#!/usr/bin/env python3
"""Small number crunching for bench/run.sh (no third-party modules).

    calc.py iperf FILE          iperf3 -J output -> "GBIT_PER_S BYTES" (received side)
    calc.py ping FILE COUNT     ping output -> "P50_MS P99_MS LOSS_PERCENT"
    calc.py median X...         median of the numbers ("nan" ones are skipped)
    calc.py firstping FILE T0   ping -D output, T0 in ms since the epoch ->
                                ms from T0 to the first echo reply
    calc.py div A B             A / B
    calc.py rr FILE             round trips (µs, one a line) -> "MEAN P50 P99 MAX",
                                as bench/rr.c computes them
"""
import json
import math
import re
import sys


def pct(xs, p):
    """Nearest-rank percentile of a non-empty list."""
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, math.ceil(p / 100.0 * len(xs)) - 1))
    return xs[k]


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return float("nan")
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def num(s):
    try:
        return float(s)
    except ValueError:
        return float("nan")


def main(argv):
    cmd = argv[1]
    if cmd == "iperf":
        with open(argv[2]) as f:
            d = json.load(f)
        if "error" in d:
            print("nan 0")
            return 0
        s = d["end"]["sum_received"]
        print("%.3f %d" % (s["bits_per_second"] / 1e9, s["bytes"]))
    elif cmd == "ping":
        count = int(argv[3])
        with open(argv[2], errors="replace") as f:
            rtts = [float(m.group(1)) for m in re.finditer(r"time=([0-9.]+) ms", f.read())]
        loss = 100.0 * (count - len(rtts)) / count
        if not rtts:
            print("nan nan %.1f" % loss)
        else:
            print("%.3f %.3f %.1f" % (median(rtts), pct(rtts, 99), loss))
    elif cmd == "median":
        xs = [x for x in map(num, argv[2:]) if not math.isnan(x)]
        print("%.3f" % median(xs) if xs else "nan")
    elif cmd == "firstping":
        t0 = float(argv[3])
        with open(argv[2], errors="replace") as f:
            for line in f:
                m = re.match(r"\[([0-9.]+)\] .*bytes from", line)
                if m:
                    print("%.1f" % (float(m.group(1)) * 1000 - t0))
                    return 0
        print("nan")
    elif cmd == "rr":
        with open(argv[2]) as f:
            lat = sorted(float(x) for x in f.read().split())
        if not lat:
            print("nan nan nan nan")
        else:
            n = len(lat)
            print("%.1f %.1f %.1f %.1f" % (sum(lat) / n, lat[n // 2],
                                           lat[int((n - 1) * 0.99)], lat[-1]))
    elif cmd == "div":
        a, b = num(argv[2]), num(argv[3])
        print("%.3f" % (a / b) if b else "nan")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
