#!/usr/bin/env python3
"""Turns bench/run.sh's results into the table: prints it and writes it,
with the machine description, between the markers in docs/performance.md.

The results file has one "PATH METRIC VALUE" line per measurement
(PATH: direct, tendril, openvpn, openvpn48k, tendril_tls).
"""
import argparse
import math
import os
import sys

BEGIN = "<!-- bench:begin (written by bench/report.py; edits here are overwritten) -->"
END = "<!-- bench:end -->"

# The ratio columns use the first three; tendril_tls (--seal off, TLS
# records) is for comparison with the default's sealed records.
PATHS = [("direct", "direct veth"), ("tendril", "tendril"),
         ("openvpn", "OpenVPN tun-mtu 1500"), ("openvpn48k", "OpenVPN tun-mtu 48000"),
         ("tendril_tls", "tendril, TLS records")]

# metric key, label, unit, decimals
ROWS = [
    ("tput_1_fwd", "iperf3 1 stream, seed→shoot", "Gbit/s", 2),
    ("tput_1_rev", "iperf3 1 stream, shoot→seed (-R)", "Gbit/s", 2),
    ("tput_4_fwd", "iperf3 4 streams, seed→shoot", "Gbit/s", 2),
    ("tput_4_rev", "iperf3 4 streams, shoot→seed (-R)", "Gbit/s", 2),
    ("udp_gso", "UDP, 40 × 1400 B per write (UDP_SEGMENT), seed→shoot", "Gbit/s", 2),
    ("ping_idle_p50", "ping idle, median", "ms", 3),
    ("ping_idle_p99", "ping idle, p99", "ms", 3),
    ("ping_load_p50", "ping under 1-stream load, median", "ms", 3),
    ("ping_load_p99", "ping under 1-stream load, p99", "ms", 3),
    ("ping_load_loss", "ping under load, lost", "%", 1),
    ("rr_mean", "1-byte request/response, mean", "µs", 0),
    ("rr_p50", "1-byte request/response, p50", "µs", 0),
    ("rr_p99", "1-byte request/response, p99", "µs", 0),
    ("cpu_s_per_gb", "CPU of both endpoints per GB (1-stream runs)", "s/GB", 2),
    ("rss_idle_server", "RSS idle, seed side (server)", "MiB", 1),
    ("rss_idle_shoot", "RSS idle, shoot side (client)", "MiB", 1),
    ("rss_anon_server", "RSS idle, private (RssAnon), seed side", "MiB", 2),
    ("rss_anon_shoot", "RSS idle, private (RssAnon), shoot side", "MiB", 2),
    ("rss_peak_server", "peak RSS (VmHWM), seed side", "MiB", 1),
    ("rss_peak_shoot", "peak RSS (VmHWM), shoot side", "MiB", 1),
    ("rss_tunnel_server", "RSS per extra idle tunnel, seed side", "KiB", 0),
    ("rss_tunnel_shoot", "RSS per extra idle tunnel, shoot side (HA servers)", "KiB", 0),
    ("start_ms", "client start → first ping", "ms", 1),
]


def load(path):
    res = {}
    with open(path) as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) == 3:
                res[(parts[0], parts[1])] = parts[2].strip()
    return res


def num(res, path, key):
    v = res.get((path, key))
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        return float("nan")


def fmt(v, dec):
    if v is None:
        return "n/a"
    if math.isnan(v):
        return "failed"
    return "%.*f" % (dec, v)


def ratio(a, b):
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    if r is None:
        return "—"
    if r >= 10:
        return "%.0f×" % r
    if r >= 0.1:
        return "%.2f×" % r
    return "%.3f×" % r


def fmt_ratio2(r):
    """A target's ratio: two decimals always, so that 11.95× does not
    read as 12× next to "not yet"."""
    if r is None:
        return "—"
    return "%.3f×" % r if r < 1 else "%.2f×" % r


def table(res):
    head = ["metric", "unit"] + [p[1] for p in PATHS] + \
        ["tendril ÷ OpenVPN 1500", "tendril ÷ direct"]
    rows = []
    for key, label, unit, dec in ROWS:
        vals = [num(res, p, key) for p, _ in PATHS]
        t, o, d = vals[1], vals[2], vals[0]
        rows.append([label, unit] + [fmt(v, dec) for v in vals] +
                    [fmt_ratio(ratio(t, o)), fmt_ratio(ratio(t, d))])
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]))
        return "| " + " | ".join(out) + " |"
    sep = "|" + "|".join(("-" * (w + 1) + ":" if i >= 2 else "-" * (w + 2))
                         for i, w in enumerate(widths)) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in rows])


def targets(res):
    """Issue 5's targets, checked against this run."""
    g = lambda p, k: num(res, p, k)
    out = []

    def check(text, ok, detail):
        if ok is None:
            mark = "not measured"
        else:
            mark = "holds" if ok else "not yet"
        out.append("- %s: **%s** (%s)" % (text, mark, detail))

    def cmp(a, b, f):
        if a is None or b is None or math.isnan(a) or math.isnan(b):
            return None
        return f(a, b)

    for d, name in (("fwd", "seed→shoot"), ("rev", "shoot→seed")):
        t, o, o48, dr = (g("tendril", "tput_1_" + d), g("openvpn", "tput_1_" + d),
                         g("openvpn48k", "tput_1_" + d), g("direct", "tput_1_" + d))
        check("1-stream %s ≥ 12× OpenVPN 1500" % name, cmp(t, o, lambda a, b: a >= 12 * b),
              "%s" % fmt_ratio2(ratio(t, o)))
        check("1-stream %s above OpenVPN 48000" % name, cmp(t, o48, lambda a, b: a > b),
              "%s" % fmt_ratio2(ratio(t, o48)))
        check("1-stream %s ≥ 40%% of direct" % name, cmp(t, dr, lambda a, b: a >= 0.4 * b),
              "%s" % fmt_ratio2(ratio(t, dr)))
    t, o = g("tendril", "cpu_s_per_gb"), g("openvpn", "cpu_s_per_gb")
    check("CPU s/GB ≤ 1/10 of OpenVPN 1500", cmp(t, o, lambda a, b: a <= b / 10),
          fmt_ratio2(ratio(t, o)))
    t, o = g("tendril", "rr_p50"), g("openvpn", "rr_p50")
    check("1-byte request/response p50 below OpenVPN's", cmp(t, o, lambda a, b: a < b),
          fmt_ratio2(ratio(t, o)))
    t, i = g("tendril", "ping_load_p50"), g("tendril", "ping_idle_p50")
    check("ping under load within 5 ms of idle (medians)", cmp(t, i, lambda a, b: a - b <= 5),
          "+%s ms" % fmt(None if t is None or i is None else t - i, 3))
    for side in ("server", "shoot"):
        t, o = g("tendril", "rss_idle_" + side), g("openvpn", "rss_idle_" + side)
        check("idle RSS of the %s side below OpenVPN's" % ("seed" if side == "server" else "shoot"),
              cmp(t, o, lambda a, b: a < b), fmt_ratio2(ratio(t, o)))
    t, o = g("tendril", "start_ms"), g("openvpn", "start_ms")
    check("client start → first ping below OpenVPN's", cmp(t, o, lambda a, b: a < b),
          fmt_ratio2(ratio(t, o)))
    return "\n".join(out)


def runs(res):
    out = []
    for p, name in PATHS:
        for key, label, _, _ in ROWS[:5]:
            v = res.get((p, key + "_runs"))
            if v:
                out.append("- %s, %s: %s Gbit/s" % (name, label, v.replace(",", ", ")))
    for p, name in PATHS:
        v = res.get((p, "load_gbit"))
        if v:
            out.append("- %s, the saturating stream during the ping: %s Gbit/s" % (name, v))
    for p, name in PATHS:
        if (p, "died") in res:
            out.append("- **%s: a tunnel process died during the run**" % name)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    for a in ("results", "doc", "cpu", "cores", "kernel", "date", "elapsed", "openvpn",
              "iperf3", "tendril", "load", "seconds", "runs", "pings", "rr-n", "rr-rounds", "starts"):
        ap.add_argument("--" + a, required=True)
    a = ap.parse_args()
    res = load(a.results)
    tbl = table(res)
    machine = ("%s, %s cores, Linux %s; run %s, took %s s; load average "
               "(1/5/15 min) at start / end: %s" %
               (a.cpu, a.cores, a.kernel, a.date, a.elapsed, a.load))
    print()
    print(machine)
    print()
    print(tbl)
    print()
    print("Targets of issue 5 (for the product to reach; measured, not asserted):")
    print(targets(res))
    print()

    if a.doc == "-":
        return 0
    section = "\n".join([
        BEGIN,
        "",
        "## Latest run",
        "",
        "- Machine: %s, %s cores, Linux %s" % (a.cpu, a.cores, a.kernel),
        "- Run: %s, %s s in all; load average (1/5/15 min) at start / end: %s "
        "(anything else running on the machine skews the numbers)" % (a.date, a.elapsed, a.load),
        "- Versions: %s; OpenVPN %s; iperf3 %s" % (a.tendril, a.openvpn, a.iperf3),
        "- Settings: iperf3 runs of %s s, median of %s each; %s pings every 10 ms; "
        "%s request/response round trips in %s runs taking turns across the paths; "
        "median of %s client starts" % (a.seconds, a.runs, a.pings, a.rr_n, a.rr_rounds, a.starts),
        "- OpenVPN: TLS mode with certificates (tls-server/tls-client, EC P-256 CA, "
        "server and client certificates from tests/pki.sh), no tls-auth",
        "",
        tbl,
        "",
        "### Targets of issue 5",
        "",
        targets(res),
        "",
        "<details><summary>Every iperf3 run (Gbit/s)</summary>",
        "",
        runs(res),
        "",
        "</details>",
        "",
        END,
    ])
    text = ""
    if os.path.exists(a.doc):
        with open(a.doc) as f:
            text = f.read()
    if BEGIN in text and END in text:
        pre = text[:text.index(BEGIN)]
        post = text[text.index(END) + len(END):]
        text = pre + section + post
    else:
        if not text:
            text = "# Performance\n\n"
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    tmp = a.doc + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, a.doc)
    print("wrote %s" % a.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
