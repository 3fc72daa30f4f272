#!/usr/bin/env python3
"""A small raw-socket HTTP/1.1 server for the promshim HTTP tests.

    http_server.py PORT [--host 127.0.0.1]

One thread per connection, keep-alive (HTTP/1.1 default; "Connection:
close" or HTTP/1.0 without keep-alive closes after the response). The
request head is read up to the empty line, a Content-Length or chunked body
is read and discarded. Query strings are ignored when dispatching. Endpoints:

    /length/N        200, a Content-Length body of N bytes ("x" * N)
    [/PREFIX]/status/CODE
                     CODE with a short Content-Length body ("status CODE\\n";
                     none for 1xx, 204, 304); a 429 carries Retry-After: 1.
                     A PREFIX gives the same status on another route
    /chunked         200, Transfer-Encoding: chunked: chunks of 6, 8 and 6
                     bytes (20 data bytes), two with chunk extensions, then
                     a trailer section (X-Checksum: abc)
    /close           200 with no Content-Length and no chunking: the body
                     ("closing body\\n", 13 bytes) runs until the server
                     closes the connection (HTTP/1.0 style), with an
                     HTTP/1.1 status line and Connection: close
    /close10         the same with an "HTTP/1.0 200 OK" status line and no
                     Connection header
    /slow/MS         sleep MS milliseconds, then 200 "slow\\n"
    /reset           read the request, then close with SO_LINGER 0 (RST), no
                     response
    /noreply         read the request, then close (FIN), no response
    /flaky/KEY/N     503 for the first N requests naming KEY, 200 after
    /echo            200, body "got N\\n" where N is the request body size
    anything else    404 "not found\\n"

HEAD requests get the headers only. Prints "listening HOST PORT" once it
accepts.
"""
import argparse
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback

REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently",
    304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 418: "I'm a teapot",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}

flaky_lock = threading.Lock()
flaky_seen = {}


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Closed()
        self.buf += chunk

    def read_head(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head, self.buf = self.buf[:end], self.buf[end + 4:]
                return head
            if len(self.buf) > 1 << 20:
                raise Closed()
            self.fill()

    def read_line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_chunked(self):
        body = b""
        while True:
            size = int(self.read_line().split(b";", 1)[0], 16)
            if size == 0:
                while self.read_line():  # trailers, then the empty line
                    pass
                return body
            body += self.read_body(size)
            self.read_body(2)

    def read_body(self, n):
        while len(self.buf) < n:
            self.fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return body


def response(code, body=b"", headers=(), head_only=False, close=False):
    lines = [f"HTTP/1.1 {code} {REASONS.get(code, 'Status')}"]
    bodyless = code < 200 or code in (204, 304)
    if not bodyless:
        lines.append(f"Content-Length: {len(body)}")
    lines.extend(headers)
    if close:
        lines.append("Connection: close")
    out = ("\r\n".join(lines) + "\r\n\r\n").encode()
    if not head_only and not bodyless:
        out += body
    return out


def handle_one(conn, sock):
    """Serve one request; return False when the connection must close."""
    head = conn.read_head()
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        sock.sendall(response(400, b"bad request\n", close=True))
        return False
    method, target, version = parts
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    if "chunked" in hdrs.get("transfer-encoding", "").lower():
        body = conn.read_chunked()
    else:
        body = conn.read_body(int(hdrs.get("content-length", "0") or 0))
    conn_tokens = hdrs.get("connection", "").lower()
    close = "close" in conn_tokens or (version == "HTTP/1.0" and "keep-alive" not in conn_tokens)
    head_only = method == "HEAD"
    path = target.split("?", 1)[0]
    seg = [s for s in path.split("/") if s]

    def send(code, payload=b"", extra=()):
        sock.sendall(response(code, payload, extra, head_only, close))

    if len(seg) == 2 and seg[0] == "length" and seg[1].isdigit():
        send(200, b"x" * int(seg[1]))
    elif len(seg) >= 2 and seg[-2] == "status" and seg[-1].isdigit():
        code = int(seg[-1])
        extra = ("Retry-After: 1",) if code == 429 else ()
        send(code, f"status {code}\n".encode(), extra)
    elif seg == ["chunked"]:
        out = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n"
               + (b"Connection: close\r\n" if close else b"") + b"\r\n")
        if not head_only:
            out += (b"6;name=first\r\nhello \r\n"
                    b"8\r\nchunked \r\n"
                    b"6;last;q=\"x y\"\r\nworld\n\r\n"
                    b"0\r\nX-Checksum: abc\r\n\r\n")
        sock.sendall(out)
    elif seg in (["close"], ["close10"]):
        if seg == ["close"]:
            out = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
        else:
            out = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
        if not head_only:
            out += b"closing body\n"
        sock.sendall(out)
        return False
    elif len(seg) == 2 and seg[0] == "slow" and seg[1].isdigit():
        time.sleep(int(seg[1]) / 1000.0)
        send(200, b"slow\n")
    elif seg == ["reset"]:
        # Closed here, before socketserver's shutdown(SHUT_WR) could send a
        # FIN ahead of the RST.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return False
    elif seg == ["noreply"]:
        return False
    elif len(seg) == 3 and seg[0] == "flaky" and seg[2].isdigit():
        with flaky_lock:
            n = flaky_seen.get(seg[1], 0)
            flaky_seen[seg[1]] = n + 1
        if n < int(seg[2]):
            send(503, b"try again\n", ("Retry-After: 0",))
        else:
            send(200, b"ok\n")
    elif seg == ["echo"]:
        send(200, f"got {len(body)}\n".encode())
    else:
        send(404, b"not found\n")
    return not close


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            conn = Conn(self.request)
            try:
                while handle_one(conn, self.request):
                    pass
            except (Closed, OSError):
                pass
            except Exception:  # a bug here: say so, drop the connection
                traceback.print_exc()

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = 1024
        address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET

        def handle_error(self, request, client_address):
            pass

    with Server((args.host, args.port), Handler) as srv:
        print("listening", args.host, args.port, flush=True)
        try:
            srv.serve_forever(poll_interval=0.1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
