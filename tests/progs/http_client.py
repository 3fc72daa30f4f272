#!/usr/bin/env python3
"""Python HTTP client for the promshim HTTP tests.

    http_client.py urllib    HOST PORT [opts] PATH...   one urllib request
                                                        (its own connection,
                                                        Connection: close) per
                                                        PATH, in order
    http_client.py keepalive HOST PORT [opts] PATH...   http.client on one
                                                        keep-alive connection
                                                        (reopened only when
                                                        the server closes it)

    --method M      request method (default GET)
    --timeout S     socket timeout in seconds (default 10)
    --range A:B     every PATH holding "{i}" is expanded to A..B inclusive
    --sleep MS      pause between requests
    --linger SECS   sleep at the end (so the process's exporter can be read)

A PATH of the form "@sleep=MS" is no request: the client sleeps MS
milliseconds there.

Prints one summary line: "requests=N" then "CODE=COUNT" for each status seen
and "error:NAME=COUNT" for requests that raised (no response, reset,
timeout), sorted. Exits 0 (an error status or a failed request is a result,
not a failure of this program).
"""
import argparse
import collections
import http.client
import socket
import sys
import time
import urllib.error
import urllib.request


def expand(paths, rng):
    out = []
    for p in paths:
        if "{i}" in p and rng:
            a, b = (int(x) for x in rng.split(":"))
            out.extend(p.replace("{i}", str(i)) for i in range(a, b + 1))
        else:
            out.append(p)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["urllib", "keepalive"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--method", default="GET")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--range")
    ap.add_argument("--sleep", type=float, default=0)
    ap.add_argument("--linger", type=float, default=0)
    args = ap.parse_args()
    paths = expand(args.paths, args.range)
    seen = collections.Counter()
    conn = None
    if args.mode == "keepalive":
        conn = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
    nreq = 0
    for i, path in enumerate(paths):
        if path.startswith("@sleep="):
            time.sleep(int(path[7:]) / 1000.0)
            continue
        nreq += 1
        if i and args.sleep:
            time.sleep(args.sleep / 1000.0)
        try:
            if conn is None:
                req = urllib.request.Request(f"http://{args.host}:{args.port}{path}", method=args.method)
                try:
                    with urllib.request.urlopen(req, timeout=args.timeout) as r:
                        r.read()
                        seen[str(r.status)] += 1
                except urllib.error.HTTPError as e:
                    e.read()
                    e.close()
                    seen[str(e.code)] += 1
            else:
                conn.request(args.method, path)
                r = conn.getresponse()
                r.read()
                seen[str(r.status)] += 1
        except urllib.error.URLError as e:
            reason = e.reason if isinstance(e.reason, BaseException) else e
            seen["error:" + type(reason).__name__] += 1
        except (OSError, http.client.HTTPException) as e:
            seen["error:" + type(e).__name__] += 1
            if conn is not None:
                conn.close()
    if conn is not None:
        conn.close()
    summary = " ".join(f"{k}={v}" for k, v in sorted(seen.items()))
    print(f"requests={nreq} {summary}", flush=True)
    if args.linger > 0:
        time.sleep(args.linger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
