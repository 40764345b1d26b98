#!/usr/bin/env python3
"""Sends one command to a daemon's stats socket and prints the answer.

    statsq.py SOCKET COMMAND...

The stats protocol (CONTRACT.md): the client writes one command line; the
daemon answers and ends the answer with an empty line, keeping the
connection open. We read up to that empty line, so a query costs no
timeout. Exit 1 if the socket cannot be reached or the answer does not end
within --timeout; the answer (without the empty line) goes to stdout.
"""
import argparse
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("socket")
    ap.add_argument("command", nargs="+")
    a = ap.parse_args()
    deadline = time.monotonic() + a.timeout
    buf = b""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        s.connect(a.socket)
        s.sendall((" ".join(a.command) + "\n").encode())
        while not (buf.startswith(b"\n") or b"\n\n" in buf):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no empty line ending the answer")
            s.settimeout(left)
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
    except OSError as e:
        sys.stderr.write("statsq: %s: %s\n" % (a.socket, e))
        if buf:
            sys.stdout.write(buf.decode("utf-8", "replace"))
        return 1
    answer = buf.split(b"\n\n", 1)[0] if not buf.startswith(b"\n") else b""
    text = answer.decode("utf-8", "replace")
    if text:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
