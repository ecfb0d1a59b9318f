#!/usr/bin/env python3
"""A real server's HTTP server for the LVS-DR lab: answers every GET with its
own name, listens on [::]:PORT for IPv6 and IPv4 alike (so on the VIPs on lo
too), and logs one line per request to LOG: "NAME CLIENT PATH". For the
LVS-TUN lab's MSS tests (tests/lab/mss_wire.py): GET /bytes/N answers N bytes
of i % 251, a POST answers "NAME LENGTH SHA256" of the body it received.

    httpd.py NAME PORT LOG
"""
import hashlib
import http.server
import socket
import sys

NAME = sys.argv[1]
PORT = int(sys.argv[2])
LOG = open(sys.argv[3], "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        body = (NAME + "\n").encode()
        if self.path.startswith("/bytes/") and self.path[7:].isdigit():
            body = bytes(i % 251 for i in range(min(int(self.path[7:]), 1 << 20)))
        self.answer(body)

    def do_POST(self):
        data = self.rfile.read(min(int(self.headers.get("Content-Length", 0)), 1 << 20))
        self.answer(("%s %d %s\n" % (NAME, len(data), hashlib.sha256(data).hexdigest())).encode())

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print(NAME, self.client_address[0], self.path, file=LOG, flush=True)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


Server(("::", PORT), Handler).serve_forever()
