#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/<target>/.

Run it again after a wire format changes; the seeds are small valid and
invalid inputs that give each fuzz target a head start.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def tlv(t, v):
    return struct.pack(">HH", t, len(v)) + v


def hello(vmin=1, vmax=1, caps=3, tlvs=b""):
    return struct.pack(">HHI", vmin, vmax, caps) + tlvs


def welcome(v=1, caps=3, tlvs=b""):
    return struct.pack(">HI", v, caps) + tlvs


def frame(t, p):
    return bytes([t]) + len(p).to_bytes(3, "big") + p


ADDR = bytes.fromhex("fd8f6d53b97a00010000000000000002")
HELLO_FULL = hello(1, 1, 3, tlv(1, struct.pack(">H", 1400)) + tlv(2, b"vpn-shoot-0"))
WELCOME_FULL = welcome(1, 3, tlv(3, ADDR + bytes([96])) + tlv(4, struct.pack(">I", 1000)) + tlv(1, struct.pack(">H", 1500)))
CLOSE = struct.pack(">H", 1) + b"shutting down"


def ip4(proto, l4, ihl=5, frag=0):
    hl = ihl * 4
    h = bytearray(hl)
    h[0] = 0x40 | ihl
    h[2:4] = struct.pack(">H", hl + len(l4))
    h[6:8] = struct.pack(">H", frag)
    h[8] = 64
    h[9] = proto
    h[12:16] = bytes([10, 0, 0, 1])
    h[16:20] = bytes([10, 0, 0, 2])
    return bytes(h) + l4


def ip6(nh, payload, dst=bytes.fromhex("fd000000000000000000000000000002")):
    h = bytearray(40)
    h[0] = 0x60
    h[4:6] = struct.pack(">H", len(payload))
    h[6] = nh
    h[7] = 64
    h[8:24] = bytes.fromhex("fd000000000000000000000000000001")
    h[24:40] = dst
    return bytes(h) + payload


TCP = struct.pack(">HHIIBBHHH", 1234, 80, 0, 0, 0x50, 0x02, 65535, 0, 0)
UDP = struct.pack(">HHHH", 1234, 53, 8, 0)
ICMP = bytes([8, 0, 0, 0, 0xBE, 0xEF, 0, 1])
ICMP6 = bytes([128, 0, 0, 0, 0xBE, 0xEF, 0, 1])
# SYNs with options: MSS first; after NOP, SACK-permitted and timestamps
# (odd offset); a SYN-ACK whose option list ends early.
SYN_MSS = struct.pack(">HHIIBBHHH", 1234, 80, 0, 0, 0x60, 0x02, 65535, 0x1234, 0) + bytes([2, 4, 5, 0xB4])
SYN_OPTS = (struct.pack(">HHIIBBHHH", 1234, 80, 0, 0, 0xA0, 0x02, 65535, 0xBEEF, 0)
            + bytes([1, 4, 2, 8, 10]) + b"\1\2\3\4\0\0\0\0" + bytes([2, 4, 0x23, 0x28, 3, 3, 7]))
SYNACK_EOL = struct.pack(">HHIIBBHHH", 80, 1234, 0, 1, 0x70, 0x12, 65535, 0, 0) + bytes([0, 2, 4, 5, 0xB4, 0, 0, 0])

CORPUS = {
    "frame": {
        "hello": frame(1, HELLO_FULL),
        "welcome": frame(2, WELCOME_FULL),
        "data": frame(3, ip4(6, TCP)),
        "ping-pong": frame(4, b"\0" * 8) + frame(5, b"\0" * 8),
        "close": frame(6, CLOSE),
        "stream": frame(1, HELLO_FULL) + frame(2, WELCOME_FULL) + frame(3, ip6(17, UDP)) + frame(6, CLOSE),
        "bad-type": bytes([0, 0, 0, 4]) + b"abcd",
        "too-long": bytes([3, 0xFF, 0xFF, 0xFF]),
        "cut-header": bytes([3, 0]),
        "cut-payload": frame(3, ip4(17, UDP))[:-5],
        "hello-bad-tlv": frame(1, hello(tlvs=tlv(1, b"\x05"))),
    },
    "hello": {
        "hello-full": b"\0" + HELLO_FULL,
        "hello-min": b"\0" + hello(),
        "hello-unknown-tlv": b"\0" + hello(tlvs=tlv(0x7FFF, b"xyz") + tlv(4, struct.pack(">I", 5))),
        "hello-min-above-max": b"\0" + hello(2, 1),
        "hello-cut-tlv": b"\0" + hello(tlvs=tlv(2, b"name"))[:-2],
        "hello-ctrl-name": b"\0" + hello(tlvs=tlv(2, b"a\nb\x1b[0m\x00")),
        "welcome-full": b"\x01" + WELCOME_FULL,
        "welcome-prefix-129": b"\x01" + welcome(tlvs=tlv(3, ADDR + bytes([129]))),
        "close": b"\x02" + CLOSE,
        "close-short": b"\x02\x00",
    },
    "cidr": {
        "v4": b"10.0.0.0/8",
        "v6": b"2001:db8::/32",
        "transfer": b"fd8f:6d53:b97a:1::/96",
        "host": b"10.1.2.3",
        "host-bits": b"10.0.0.1/8",
        "list": b"10.0.0.0/8, 192.168.0.0/16,2001:db8::/64",
        "junk": b"abc",
        "empty": b"",
        "prefix-33": b"10.0.0.0/33",
        "mapped": b"::ffff:10.0.0.0/104",
        "all": b"0.0.0.0/0,::/0",
    },
    "config": {
        "mtu": b"--mtu\x001400",
        "allowed": b"--allowed-client\x00a\x00--allowed-client\x00b",
        "allowed-env": b"ALLOWED_CLIENTS=a, b\x00--allowed-client\x00c",
        "networks-env": b"SHOOT_POD_NETWORKS=100.64.0.0/12\x00SHOOT_NODE_NETWORKS=10.250.0.0/16, 2001:db8::/64",
        "endpoint-v6": b"ENDPOINT=2001:db8::1\x00VPN_PORT=443",
        "server": b"--server\x00vpn.example:1194\x00--proxy-header\x00X-Key: v",
        "reversed-header": b"REVERSED_VPN_HEADER_KEY=K\x00REVERSED_VPN_HEADER=v\x00--server\x00h:1",
        "bad-mtu": b"--mtu\x00abc",
        "unknown": b"--bogus",
        "help": b"--help",
        "keepalive": b"--keepalive\x005\x00--keepalive-timeout\x005",
        "cluster": b"-xy",
        "seconds": b"KEEPALIVE=0.25\x00--reconnect-max\x0030\x00--server\x00[::1]:1",
    },
    "pkt": {
        "v4-tcp": ip4(6, TCP),
        "v4-udp-options": ip4(17, UDP, ihl=7),
        "v4-fragment": ip4(17, UDP, frag=0x2000 | 10),
        "v4-icmp": ip4(1, ICMP),
        "v4-multicast": ip4(17, UDP)[:16] + bytes([224, 0, 0, 1]) + UDP,
        "v6-udp": ip6(17, UDP),
        "v6-hop-frag-udp": ip6(0, bytes([44, 0]) + b"\0" * 6 + bytes([17, 0, 0, 1]) + b"\0\0\0\x2a" + UDP),
        "v6-icmp6": ip6(58, ICMP6),
        "v6-link-local": ip6(58, ICMP6, bytes.fromhex("fe800000000000000000000000000001")),
        "v6-cut": ip6(17, UDP)[:30],
        "v5": bytes([0x50]) + b"\0" * 39,
        "v4-syn-mss": ip4(6, SYN_MSS),
        "v4-syn-options": ip4(6, SYN_OPTS + b"data!"),
        "v6-synack-eol": ip6(6, SYNACK_EOL),
    },
    "ctl": {
        "help": b"help",
        "info": b"show info",
        "info-json": b"show info json",
        "several": b"show rows json; show stat",
        "blank-and-unknown": b"bogus; ;show silent",
        "blanks": b"show\tinfo\r json",
        "fail": b"fail json;show rows",
    },
}

for target, seeds in CORPUS.items():
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
