#!/usr/bin/env python3
"""tests/bench/traffic.py - make bench's real traffic: one TCP connection.

  serve  --addr A --port P --mode rr|bulk|down --size S [--n N]
  client --addr A --port P --mode rr|bulk|down --size S --n N [--timeout T]

rr: N round trips of S bytes each way (TCP_NODELAY); bulk: N bytes sent by
the client in 64 KiB writes, then the client shuts its side and waits for the
server's EOF; down: the same from the server to the client (the direction of
an LVS real server's replies), the client checking that N bytes came.
Each side prints one JSON line with cpu_ns, its own CPU time (user + system,
CLOCK_PROCESS_CPUTIME_ID) over the exchange only (not its start-up); the
client adds ksoftirqd_ns, the runtime of every CPU's ksoftirqd over the same
span (/proc/PID/schedstat), and wall_ns.
"""
import argparse
import glob
import json
import socket
import sys
import time

CHUNK = 65536


def ksoftirqd_ns():
    total = 0
    for comm in glob.glob("/proc/[0-9]*/comm"):
        try:
            with open(comm) as f:
                if not f.read().startswith("ksoftirqd/"):
                    continue
            with open(comm[:-4] + "schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def recv_exact(s, buf):
    view, got = memoryview(buf), 0
    while got < len(buf):
        n = s.recv_into(view[got:])
        if n == 0:
            raise SystemExit("traffic: connection closed early")
        got += n


def drain(s):
    """Receive until EOF; the byte count."""
    buf, count = bytearray(CHUNK), 0
    while True:
        n = s.recv_into(buf)
        if n == 0:
            return count
        count += n


def send_bulk(s, total):
    """Send total bytes in CHUNK writes, then shut the sending side."""
    chunk, left = b"b" * CHUNK, total
    while left > 0:
        s.sendall(chunk[:min(left, CHUNK)])
        left -= min(left, CHUNK)
    s.shutdown(socket.SHUT_WR)
    return total


def serve(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    s, _ = ls.accept()
    s.settimeout(a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0, count = time.process_time_ns(), 0
    if a.mode == "rr":
        buf = bytearray(a.size)
        while True:
            n = s.recv_into(buf)
            if n == 0:
                break
            if n < a.size:
                recv_exact(s, memoryview(buf)[n:])
            s.sendall(buf)
            count += 1
    elif a.mode == "bulk":
        count = drain(s)
    else:
        count = send_bulk(s, a.n)
        if s.recv(1):
            raise SystemExit("traffic: the client sent data in down mode")
    s.close()
    print(json.dumps({"cpu_ns": time.process_time_ns() - t0, "count": count}))


def connect(a):
    deadline = time.monotonic() + a.timeout
    while True:  # the server may not listen yet: poll, bounded in time
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect((a.addr, a.port))
            return s
        except ConnectionRefusedError:
            s.close()
            if time.monotonic() > deadline:
                raise SystemExit("traffic: the server never listened")
            time.sleep(0.01)


def client(a):
    s = connect(a)
    s.settimeout(a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    k0, w0, t0 = ksoftirqd_ns(), time.monotonic_ns(), time.process_time_ns()
    if a.mode == "rr":
        msg, buf = b"r" * a.size, bytearray(a.size)
        for _ in range(a.n):
            s.sendall(msg)
            recv_exact(s, buf)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
    elif a.mode == "bulk":
        send_bulk(s, a.n)
        if s.recv(1):
            raise SystemExit("traffic: the server sent data in bulk mode")
    else:
        got = drain(s)
        if got != a.n:
            raise SystemExit("traffic: down mode: %d bytes came, not %d" % (got, a.n))
        s.shutdown(socket.SHUT_WR)
    cpu = time.process_time_ns() - t0
    print(json.dumps({"cpu_ns": cpu, "wall_ns": time.monotonic_ns() - w0,
                      "ksoftirqd_ns": ksoftirqd_ns() - k0, "n": a.n}))
    s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=("serve", "client"))
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=("rr", "bulk", "down"), required=True)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--n", type=int, default=0)
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    serve(a) if a.role == "serve" else client(a)


if __name__ == "__main__":
    sys.exit(main())
