#!/usr/bin/env python3
"""Sends UDP datagrams to an echo server and checks every one comes back.

    udpcheck.py HOST PORT [--count N]

Datagrams of several sizes (1 to 1400 bytes), each with a unique random
payload; each is sent up to 3 times (1 s apart) until its echo arrives.
Prints "echoed N/N" and exits 0 only if all came back unchanged. Stops at
the first datagram lost three times; bounded by count * 3 seconds.
"""
import argparse
import os
import socket
import sys
import time

SIZES = [1, 64, 512, 1200, 1400]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=20)
    a = ap.parse_args()
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    ok = 0
    for i in range(a.count):
        size = SIZES[i % len(SIZES)]
        payload = os.urandom(size)
        for _ in range(3):
            s.send(payload)
            deadline = time.monotonic() + 1.0
            got = False
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    time.sleep(0.1)
                    break
                if data == payload:
                    got = True
                    break
            if got:
                ok += 1
                break
        else:
            # Lost three times: the path is broken; do not spend
            # count * 3 s proving it.
            print("datagram %d (%d bytes) lost 3 times" % (i + 1, size))
            break
    print("echoed %d/%d" % (ok, a.count))
    return 0 if ok == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
