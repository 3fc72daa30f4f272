#!/usr/bin/env python3
"""Python client for the promshim tests: N connections, each its own.

    py_client.py HOST PORT N                 raw socket: connect, sendall a
                                             64-byte request, recv until EOF,
                                             close
    py_client.py HOST PORT N --http PATH     N urllib GETs of http://HOST:PORT
                                             PATH (urllib sends Connection:
                                             close: one connection each)
    [--linger SECS]                          then sleep, so the process's own
                                             exporter can be scraped

Prints "connections=N sent=S received=R" (raw) or "requests=N bytes=B"
(body bytes, --http) and exits 0, or 1 when anything failed.
"""
import argparse
import socket
import sys
import time
import urllib.request

REQ = b"PROMSHIM-PY-REQUEST".ljust(63, b"p") + b"\n"


def raw(host, port, n):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sent = received = 0
    for _ in range(n):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.connect((host, port))
            s.sendall(REQ)
            sent += len(REQ)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += len(chunk)
    print(f"connections={n} sent={sent} received={received}", flush=True)


def http(host, port, n, path):
    total = 0
    for _ in range(n):
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as r:
            total += len(r.read())
    print(f"requests={n} bytes={total}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--http", metavar="PATH")
    ap.add_argument("--linger", type=float, default=0)
    args = ap.parse_args()
    try:
        if args.http:
            http(args.host, args.port, args.n, args.http)
        else:
            raw(args.host, args.port, args.n)
    except OSError as e:
        print(f"py_client: {e}", file=sys.stderr, flush=True)
        return 1
    if args.linger > 0:
        time.sleep(args.linger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
