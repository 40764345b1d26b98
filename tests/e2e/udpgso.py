#!/usr/bin/env python3
"""UDP sent as super-packets (UDP_SEGMENT), echoed back the same way.

    udpgso.py echo ADDR PORT [--seconds S]
    udpgso.py send HOST PORT [--size N] [--count N] [--rounds N]

echo: a UDP echo server that answers with super-packets too: it takes in
what has arrived (up to 64 datagrams), and sends the datagrams of one size
to one client back with a single sendmsg() and UDP_SEGMENT. Exits after S
seconds without a datagram (default 30).

send: each round writes COUNT datagrams of SIZE bytes, each with a unique
random payload, with one sendmsg() and UDP_SEGMENT, so the kernel hands
them on as one super-packet; then waits up to 1 s for the echoes and
sends what is missing again (at most 3 times). Prints "echoed N/N" and
exits 0 only if every datagram came back unchanged. Bounded by rounds *
3 seconds.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

UDP_SEGMENT = 103  # linux/udp.h
SOL_UDP = getattr(socket, "SOL_UDP", 17)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def send_segmented(s, payloads, addr=None):
    """All payloads (of one size) in one sendmsg: one super-packet."""
    size = len(payloads[0])
    anc = [(SOL_UDP, UDP_SEGMENT, struct.pack("=H", size))] if len(payloads) > 1 else []
    if addr is None:
        s.sendmsg([b"".join(payloads)], anc)
    else:
        s.sendmsg([b"".join(payloads)], anc, 0, addr)


def echo(a):
    s = socket.socket(family_of(a.addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.port))
    s.setblocking(False)
    while True:
        r, _, _ = select.select([s], [], [], a.seconds)
        if not r:
            return 0
        groups = {}
        for _ in range(64):
            try:
                data, addr = s.recvfrom(65536)
            except BlockingIOError:
                break
            groups.setdefault((addr, len(data)), []).append(data)
        for (addr, size), datas in groups.items():
            # A super-packet holds at most 64 KB of payload.
            per = max(1, 60000 // max(size, 1))
            for i in range(0, len(datas), per):
                try:
                    send_segmented(s, datas[i:i + per], addr)
                except OSError as e:
                    print("echo to %s: %s" % (addr, e), file=sys.stderr)


def send(a):
    s = socket.socket(family_of(a.host), socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    s.setblocking(False)
    ok = total = 0
    for _ in range(a.rounds):
        want = {os.urandom(a.size) for _ in range(a.count)}
        total += len(want)
        for _try in range(3):
            try:
                send_segmented(s, sorted(want))
            except OSError as e:
                print("send: %s" % e, file=sys.stderr)
            deadline = time.monotonic() + 1.0
            while want and time.monotonic() < deadline:
                r, _, _ = select.select([s], [], [], max(0.01, deadline - time.monotonic()))
                if not r:
                    continue
                try:
                    data = s.recv(65536)
                except (BlockingIOError, ConnectionRefusedError):
                    continue
                if data in want:
                    want.discard(data)
                    ok += 1
            if not want:
                break
        if want:
            print("%d datagrams of a round lost 3 times" % len(want))
            break
    print("echoed %d/%d" % (ok, total))
    return 0 if ok == total else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo")
    e.add_argument("addr")
    e.add_argument("port", type=int)
    e.add_argument("--seconds", type=float, default=30)
    c = sub.add_parser("send")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--size", type=int, default=1000)
    c.add_argument("--count", type=int, default=40)
    c.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    if a.cmd == "echo":
        return echo(a)
    if not 1 <= a.size <= 1400 or not 1 <= a.count or a.size * a.count > 60000:
        ap.error("--size 1..1400 and --count with size * count <= 60000")
    return send(a)


if __name__ == "__main__":
    sys.exit(main())
