#!/usr/bin/env python3
"""Seeds for tests/fuzz/corpus/flow/ (format in tests/fuzz/fuzz_flow.c).
Meant to become the "flow" section of tests/fuzz/gen-corpus.py."""
import os
import struct
import sys


def ip4(proto, l4, ihl=5, frag=0, src=bytes([10, 1, 0, 5]), dst=bytes([100, 64, 0, 10])):
    hl = ihl * 4
    h = bytearray(hl)
    h[0] = 0x40 | ihl
    h[2:4] = struct.pack(">H", hl + len(l4))
    h[6:8] = struct.pack(">H", frag)
    h[8] = 64
    h[9] = proto
    h[12:16] = src
    h[16:20] = dst
    return bytes(h) + l4


SEED6 = bytes.fromhex("fd005eed000000000000000000000005")
SHOOT6 = bytes.fromhex("fd00540000000000000000000000000a")


def ip6(nh, payload, src=SEED6, dst=SHOOT6):
    h = bytearray(40)
    h[0] = 0x60
    h[4:6] = struct.pack(">H", len(payload))
    h[6] = nh
    h[7] = 64
    h[8:24] = src
    h[24:40] = dst
    return bytes(h) + payload


# ---- flow: records of op, time step, arguments (see fuzz_flow.c) ----

def tcp(flags, sport=40000, dport=443):
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 65535, 0, 0)


def udp(sport=40000, dport=53):
    return struct.pack(">HHHH", sport, dport, 12, 0) + b"ping"


def echo(t, ident=0x4242):
    return bytes([t, 0, 0, 0]) + struct.pack(">HH", ident, 1)


def out(p, tunnel=1, dt=1):
    return bytes([0 | tunnel << 3, dt]) + struct.pack(">H", len(p)) + p


def inb(p, tunnel=1, dt=1):
    return bytes([1 | tunnel << 3, dt]) + struct.pack(">H", len(p)) + p


def answer(arg, tunnel=1, dt=1):
    return bytes([2 | tunnel << 3, dt, arg])


def error(t, code, qlen, tunnel=1, dt=1):
    return bytes([3 | tunnel << 3, dt, t, code, qlen])


def expire(budget, dt=1):
    return bytes([4, dt, budget])


def show(dt=0):
    return bytes([5, dt])


SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
HOUR = 255  # 55 minutes

FLOW = {
    "tcp-v4": b"\x0f" + out(ip4(6, tcp(SYN))) + answer(SYN | ACK) + out(ip4(6, tcp(ACK)))
    + answer(PSH | ACK) + answer(FIN | ACK) + out(ip4(6, tcp(FIN | ACK))) + answer(ACK) + show(),
    "tcp-v6": b"\x0f" + out(ip6(6, tcp(SYN))) + answer(SYN | ACK) + out(ip6(6, tcp(ACK)))
    + answer(RST) + out(ip6(6, tcp(ACK))) + answer(ACK) + show(),
    "tcp-bad-state": b"\x0f" + out(ip4(6, tcp(SYN))) + answer(ACK) + answer(SYN) + answer(RST | ACK)
    + answer(SYN | ACK) + show(),
    "udp-v4": b"\x0f" + inb(ip4(17, udp(53, 40000), src=bytes([100, 64, 0, 10]), dst=bytes([10, 1, 0, 5])))
    + out(ip4(17, udp())) + answer(0) + answer(0, dt=HOUR) + expire(16) + show(),
    "udp-v6": b"\x0f" + out(ip6(17, udp())) + answer(0) + expire(255, dt=HOUR) + show(),
    "ping-v4": b"\x0f" + out(ip4(1, echo(8))) + answer(0) + answer(8) + show(),
    "ping-v6": b"\x0f" + out(ip6(58, echo(128))) + answer(129) + answer(128) + show(),
    "errors-v4": b"\x0f" + out(ip4(17, udp())) + error(3, 3, 28) + out(ip4(6, tcp(ACK)))
    + error(3, 4, 40) + out(ip4(1, echo(8))) + error(11, 0, 28) + error(5, 1, 28),
    "errors-v6": b"\x0f" + out(ip6(6, tcp(ACK))) + error(2, 0, 60) + out(ip6(17, udp()))
    + error(1, 4, 48) + error(3, 0, 20) + error(137, 0, 48),
    "wrong-tunnel": b"\x0f" + out(ip4(6, tcp(SYN)), tunnel=1) + answer(SYN | ACK, tunnel=2)
    + answer(SYN | ACK, tunnel=1) + out(ip4(6, tcp(ACK)), tunnel=2) + answer(ACK, tunnel=1),
    "evict": b"\x01" + out(ip4(17, udp(1001))) + out(ip4(17, udp(1002))) + out(ip6(17, udp(1003)))
    + answer(0) + show(),
    "v6-ext": b"\x0f" + out(ip6(0, bytes([60, 0]) + b"\0" * 6 + bytes([17, 0]) + b"\0" * 6 + udp()))
    + inb(ip6(43, bytes([17, 0]) + b"\0" * 6 + udp(53, 40000), src=SHOOT6, dst=SEED6)),
    "fragments": b"\x0f" + out(ip4(17, udp())) + inb(ip4(17, udp(53, 40000), frag=185, src=bytes([100, 64, 0, 10]), dst=bytes([10, 1, 0, 5])))
    + inb(ip6(44, bytes([17, 0, 0x05, 0xc8]) + b"\0" * 4 + udp(53, 40000), src=SHOOT6, dst=SEED6)),
    "shoot-syn": b"\x0f" + inb(ip4(6, tcp(SYN, 443, 40000), src=bytes([100, 64, 0, 10]), dst=bytes([10, 1, 0, 5])))
    + inb(ip6(6, tcp(SYN, 443, 40000), src=SHOOT6, dst=SEED6)),
    "garbage": b"\x07" + out(bytes(range(64))) + inb(b"\x45" + b"\xff" * 30) + out(b"") + answer(0xff)
    + error(3, 3, 255),
}

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
for name, data in FLOW.items():
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
