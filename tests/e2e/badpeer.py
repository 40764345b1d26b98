#!/usr/bin/env python3
"""A misbehaving tendril peer for the end-to-end tests (stdlib only).

Speaks the wire protocol of tunnel/proto.h as far as a mode needs, then
breaks it, and prints one line "result: ..." saying how the server reacted:

    result: welcome version=V caps=C addr=A/P   the server let us in
    result: close code=N (NAME) reason=TEXT     the server sent CLOSE
    result: tls-error TEXT                      TLS alert or failure
    result: eof after S s                       the server closed the stream
    result: timeout after S s                   nothing happened in time

Modes:
    random      plain TCP: send random bytes, wait for the server to close
    silent      plain TCP: send nothing, wait for the server to close
    hello       TLS 1.3 + HELLO (versions --vmin..--vmax), print the answer
    oversize    hello, expect WELCOME, then a DATA header with a length
                FRAME_MAX_PAYLOAD + 1, wait for the server's reaction
    sealforged  hello with CAP_SEAL, expect WELCOME with it, then a sealed
                record (tunnel/seal.h) of random bytes on the bare TCP
                stream: it cannot authenticate
    sealtls     hello with CAP_SEAL, expect WELCOME with it, then a CLOSE
                frame in TLS where sealed records are due (what an agent
                that stops before reading WELCOME sends)
    gsohide     hello, expect WELCOME, wait for a UDP datagram from the seed
                (IPv6, to our transfer address), then answer it with a
                DATA_GSO frame whose virtio-net header starts the UDP
                segmentation inside the packet's hop-by-hop header: the
                answer itself passes the server's flow table, but cut where
                the header says, its second datagram is one we wrote, to
                --hide-port on the seed, which nothing there asked for

In modes oversize, sealforged and sealtls a line "welcome ..." comes before the result when the
server accepted the HELLO, so a test can tell that the bad frame was sent
inside a valid session.

Exit status: 0 when the mode ran (whatever the server did), 1 when it could
not connect, 2 for usage.
"""
import argparse
import random
import socket
import ssl
import struct
import sys
import time

ALPN = "tendril/1"
FRAME_HDR_LEN = 4
FRAME_MAX_PAYLOAD = 65536 + 64
FRAME_HELLO, FRAME_WELCOME, FRAME_DATA, FRAME_PING, FRAME_PONG, FRAME_CLOSE, FRAME_DATA_GSO = range(1, 8)
TLV_MTU, TLV_NAME, TLV_ADDR6, TLV_KEEPALIVE = 1, 2, 3, 4
CAP_ALL = 3
CAP_SEAL = 8
CLOSE_NAMES = {1: "shutdown", 2: "protocol", 3: "version", 4: "timeout",
               5: "no-address", 6: "replaced"}


class Result(Exception):
    pass


def frame(ftype, payload):
    return bytes([ftype]) + len(payload).to_bytes(3, "big") + payload


def tlv(t, value):
    return struct.pack("!HH", t, len(value)) + value


def hello_payload(vmin, vmax, caps=CAP_ALL):
    return (struct.pack("!HHI", vmin, vmax, caps)
            + tlv(TLV_MTU, struct.pack("!H", 1500))
            + tlv(TLV_NAME, b"badpeer"))


def parse_welcome(p):
    if len(p) < 6:
        return "short WELCOME (%d bytes)" % len(p)
    version, caps = struct.unpack("!HI", p[:6])
    out = "version=%d caps=%d" % (version, caps)
    p = p[6:]
    while len(p) >= 4:
        t, n = struct.unpack("!HH", p[:4])
        v = p[4:4 + n]
        p = p[4 + n:]
        if t == TLV_ADDR6 and n == 17:
            out += " addr=%s/%d" % (socket.inet_ntop(socket.AF_INET6, v[:16]), v[16])
        elif t == TLV_KEEPALIVE and n == 4:
            out += " keepalive_ms=%d" % struct.unpack("!I", v)[0]
        elif t == TLV_MTU and n == 2:
            out += " mtu=%d" % struct.unpack("!H", v)[0]
    return out


class Reader:
    """Reads frames from a (TLS) socket until a deadline."""

    def __init__(self, sock, deadline, t0):
        self.sock, self.deadline, self.t0, self.buf = sock, deadline, t0, b""

    def _fill(self, need):
        while len(self.buf) < need:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Result("timeout after %.2f s" % (time.monotonic() - self.t0))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ssl.SSLError as e:
                raise Result("tls-error %s" % (e.reason or e))
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Result("eof after %.2f s (%s)" % (time.monotonic() - self.t0, e.strerror))
            if not chunk:
                raise Result("eof after %.2f s" % (time.monotonic() - self.t0))
            self.buf += chunk

    def frame(self):
        self._fill(FRAME_HDR_LEN)
        ftype = self.buf[0]
        n = int.from_bytes(self.buf[1:4], "big")
        self._fill(FRAME_HDR_LEN + n)
        payload = self.buf[FRAME_HDR_LEN:FRAME_HDR_LEN + n]
        self.buf = self.buf[FRAME_HDR_LEN + n:]
        return ftype, payload

    def until_close(self):
        """Skips keepalives and data until CLOSE, EOF or the deadline."""
        while True:
            ftype, p = self.frame()
            if ftype == FRAME_CLOSE:
                raise Result(close_text(p))


def close_text(p):
    if len(p) < 2:
        return "close (short payload)"
    code = struct.unpack("!H", p[:2])[0]
    return "close code=%d (%s) reason=%s" % (
        code, CLOSE_NAMES.get(code, "?"), p[2:].decode("utf-8", "replace"))


def connect(addr, timeout):
    host, _, port = addr.rpartition(":")
    host = host.strip("[]")
    return socket.create_connection((host, int(port)), timeout=timeout)


def tls_wrap(raw, a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols([ALPN])
    ctx.load_verify_locations(a.ca)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    s = ctx.wrap_socket(raw, server_hostname=a.server_name,
                        do_handshake_on_connect=False)
    try:
        s.do_handshake()
    except ssl.SSLError as e:
        raise Result("tls-error %s" % (e.reason or e))
    except (ConnectionResetError, BrokenPipeError, socket.timeout) as e:
        raise Result("tls-error handshake: %s" % e)
    return s


def send(s, data):
    try:
        s.sendall(data)
    except ssl.SSLError as e:
        raise Result("tls-error %s" % (e.reason or e))
    except (ConnectionResetError, BrokenPipeError) as e:
        raise Result("eof (send: %s)" % e.strerror)


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def udp6(src, dst, sport, dport, payload):
    """A UDP header with a valid IPv6 checksum, then payload."""
    n = 8 + len(payload)
    pseudo = src + dst + struct.pack("!IxxxB", n, 17)
    c = 0xffff - csum16(pseudo + struct.pack("!HHHH", sport, dport, n, 0) + payload)
    return struct.pack("!HHHH", sport, dport, n, c or 0xffff) + payload


def gso_hidden(asked, hide_port):
    """The answer to asked (an IPv6 UDP packet from the seed) as a UDP
    super-packet whose header lies about where UDP starts (module doc)."""
    seed, mine = asked[8:24], asked[24:40]
    sport, dport = struct.unpack("!HH", asked[40:44])
    mss, start = 100, 41
    hdrlen = start + 8          # what each cut datagram repeats: 49 bytes
    # Hop-by-hop header (16 bytes, 40..55): next header UDP, then one
    # unknown option the receiver skips (type 0x1e, data 44..55), where
    # the cutting writes its UDP length and checksum (45..48). The real
    # UDP header is at 56, its payload from 64.
    hbh = bytes([17, 1, 0x1e, 12]) + b"\0" * 12
    # Cut at 41 + 8, the second datagram is bytes 0..48, then bytes
    # 149..248 of this packet: its byte 56, where the receiver finds
    # UDP, is our byte 156, payload byte 92. A datagram of our own goes
    # there, 93 bytes to the end of that cut.
    payload = bytearray(b"A" * (hdrlen + 3 * mss - 64))
    hidden = udp6(mine, seed, dport, hide_port, b"H" * 85)
    payload[92:92 + len(hidden)] = hidden
    pkt = hbh + udp6(mine, seed, dport, sport, bytes(payload))
    ip = struct.pack("!IHBB", 0x60000000, len(pkt), 0, 64) + mine + seed
    # virtio-net header, host (little-endian) order: NEEDS_CSUM, UDP_L4.
    vh = struct.pack("<BBHHHH", 1, 5, hdrlen, mss, start, 6)
    return vh + ip + pkt


def run(a):
    t0 = time.monotonic()
    deadline = t0 + a.wait
    raw = connect(a.connect, a.wait)
    if a.mode == "random":
        # Seeded, so that a failure can be reproduced byte for byte.
        send(raw, random.Random(a.seed).randbytes(a.bytes))
        Reader(raw, deadline, t0)._fill(1 << 30)
    if a.mode == "silent":
        Reader(raw, deadline, t0)._fill(1 << 30)

    s = tls_wrap(raw, a)
    print("tls: %s alpn=%s" % (s.version(), s.selected_alpn_protocol()), flush=True)
    seal = a.mode.startswith("seal")
    send(s, frame(FRAME_HELLO, hello_payload(a.vmin, a.vmax,
                                            CAP_ALL | (CAP_SEAL if seal else 0))))
    r = Reader(s, deadline, t0)
    while True:
        ftype, p = r.frame()
        if ftype == FRAME_CLOSE:
            raise Result(close_text(p))
        if ftype == FRAME_WELCOME:
            break
        # Anything else before WELCOME is the server's bug; say so.
        raise Result("unexpected frame type %d before WELCOME" % ftype)
    welcome = "welcome " + parse_welcome(p)
    if a.mode == "hello":
        raise Result(welcome)
    print(welcome, flush=True)
    if a.mode == "gsohide":
        while True:
            ftype, p = r.frame()
            if ftype == FRAME_CLOSE:
                raise Result(close_text(p))
            if ftype == FRAME_DATA and len(p) >= 48 and p[0] >> 4 == 6 and p[6] == 17:
                break
        send(s, frame(FRAME_DATA_GSO, gso_hidden(p, a.hide_port)))
        print("sent: an answer to port %d hiding a datagram to port %d" %
              (struct.unpack("!H", p[40:42])[0], a.hide_port), flush=True)
        r.deadline = time.monotonic() + 1
        r.until_close()
    if seal:
        if not struct.unpack("!HI", p[:6])[1] & CAP_SEAL:
            raise Result("welcome without CAP_SEAL")
        if a.mode == "sealtls":
            send(s, frame(FRAME_CLOSE, struct.pack("!H", 1) + b"stopping"))
        else:
            # Past the switch the stream is bare TCP: write beside TLS
            # on the same socket (wrap_socket took over raw's descriptor).
            raw = socket.fromfd(s.fileno(), socket.AF_INET, socket.SOCK_STREAM)
            body = random.Random(a.seed).randbytes(100 + 16)
            raw.sendall(struct.pack("!I", 100) + body)
        # The server answers in sealed records we cannot read: wait for it
        # to close the connection.
        raw = socket.fromfd(s.fileno(), socket.AF_INET, socket.SOCK_STREAM)
        Reader(raw, deadline, t0)._fill(1 << 30)
    # oversize: a DATA header announcing more than the maximum, then some
    # of the promised bytes; the server must not wait for the rest.
    send(s, bytes([FRAME_DATA]) + (FRAME_MAX_PAYLOAD + 1).to_bytes(3, "big")
         + b"\0" * 1024)
    r.until_close()


def main():
    ap = argparse.ArgumentParser(
        description="a misbehaving tendril peer",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("mode", choices=["random", "silent", "hello", "oversize",
                                     "sealforged", "sealtls", "gsohide"])
    ap.add_argument("--connect", required=True, help="HOST:PORT of vpn-server")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca")
    ap.add_argument("--server-name", default="vpn-server")
    ap.add_argument("--vmin", type=int, default=1)
    ap.add_argument("--vmax", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=1, help="of the random bytes")
    ap.add_argument("--hide-port", type=int, default=5353,
                    help="gsohide: the seed port of the hidden datagram")
    ap.add_argument("--wait", type=float, default=5.0,
                    help="seconds to wait for the server's reaction")
    a = ap.parse_args()
    if a.mode not in ("random", "silent") and not a.ca:
        ap.error("--ca is needed for mode " + a.mode)
    try:
        run(a)
    except Result as r:
        print("result: %s" % r, flush=True)
        return 0
    except OSError as e:
        print("badpeer: %s: %s" % (a.connect, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
