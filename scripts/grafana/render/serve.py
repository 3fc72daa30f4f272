#!/usr/bin/env python3
"""Serves the built dashboard renderer on loopback, as Grafana would serve a
dashboard: the page from DIST, the dashboard JSON at /promshim.json, and the
Prometheus HTTP API proxied under /prom/ (GET only; Grafana proxies its data
source the same way, so the page needs no cross-origin requests).

usage: serve.py PORT DIST DASHBOARD.json PROMETHEUS_BASE_URL
"""
import http.server
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def main():
    port, dist, dash, prom = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].rstrip("/")
    host = urllib.parse.urlsplit(prom).hostname
    # straight to loopback, whatever *_proxy says
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    if host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("serve.py: Prometheus must be on loopback, not %r" % host)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=dist, **kw)

        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path)
            if path.path == "/promshim.json":
                with open(dash, "rb") as f:
                    return self.reply(200, "application/json", f.read())
            if path.path.startswith("/prom/api/v1/"):
                url = prom + path.path[len("/prom"):] + ("?" + path.query if path.query else "")
                try:
                    with opener.open(url, timeout=30) as r:
                        return self.reply(r.status, "application/json", r.read())
                except urllib.error.HTTPError as e:
                    return self.reply(e.code, "application/json", e.read())
                except OSError as e:
                    return self.reply(502, "text/plain", str(e).encode())
            return super().do_GET()

        def reply(self, code, ctype, body):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    os.chdir(dist)
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
