#!/usr/bin/env python3
"""A kubelet-like HTTP server for the end-to-end tests (stdlib only).

GET /healthz answers "ok"; any other path answers one line naming the host
(--name), the address the request came in on and the client's address, so a
test can tell which server answered and what source address it saw.
With --tls CERT KEY it serves HTTPS (as a real kubelet does on 10250).

    kubelet.py --name node --bind 10.250.0.10 --bind 2001:db8:250::10 --port 10250
    kubelet.py --name node --bind 10.250.0.10 --port 10250 --tls kubelet.crt kubelet.key
"""
import argparse
import http.server
import socket
import socketserver
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "kubelet-like/1"
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/healthz":
            body = b"ok\n"
        else:
            local = self.connection.getsockname()[0]
            body = ("%s: %s from %s at %s\n" % (
                self.server.host_name, self.path, self.client_address[0],
                local)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError) as e:
            if isinstance(e, ssl.SSLError):
                sys.stderr.write("%s TLS: %s\n" % (self.client_address[0], e))
            self.close_connection = True

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))


def make_server(addr, port, name, tls=None):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET

    class Server(http.server.ThreadingHTTPServer):
        address_family = family
        allow_reuse_address = True
        daemon_threads = True

        def server_bind(self):
            # HTTPServer.server_bind() looks the address up in DNS, which
            # hangs in a namespace without a resolver.
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = addr, port

    srv = Server((addr, port), Handler)
    srv.host_name = name
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        # The handshake runs in the request's thread, on its first read,
        # so that a slow client cannot stall accept().
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    return srv


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bind", action="append", required=True,
                    help="address to listen on (repeatable)")
    ap.add_argument("--port", type=int, default=10250)
    ap.add_argument("--name", default=socket.gethostname())
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                    help="serve HTTPS with this certificate and key")
    a = ap.parse_args()

    servers = [make_server(b, a.port, a.name, a.tls) for b in a.bind]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    sys.stderr.write("listening on %s port %d%s\n" % (
        ", ".join(a.bind), a.port, " (HTTPS)" if a.tls else ""))
    sys.stderr.flush()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
