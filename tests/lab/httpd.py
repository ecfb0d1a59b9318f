#!/usr/bin/env python3
"""A real server's HTTP server for the LVS-DR lab: answers every GET with its
own name, listens on [::]:PORT for IPv6 and IPv4 alike (so on the VIPs on lo
too), and logs one line per request to LOG: "NAME CLIENT PATH".

    httpd.py NAME PORT LOG
"""
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
