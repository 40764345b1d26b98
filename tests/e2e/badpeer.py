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
FRAME_HELLO, FRAME_WELCOME, FRAME_DATA, FRAME_PING, FRAME_PONG, FRAME_CLOSE = range(1, 7)
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
                                     "sealforged", "sealtls"])
    ap.add_argument("--connect", required=True, help="HOST:PORT of vpn-server")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca")
    ap.add_argument("--server-name", default="vpn-server")
    ap.add_argument("--vmin", type=int, default=1)
    ap.add_argument("--vmax", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=1, help="of the random bytes")
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
