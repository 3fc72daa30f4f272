#!/usr/bin/env python3
"""Raw-socket HTTP/1.x client for the promshim tests: one connection, a
script of steps run in order.

    http_raw.py HOST PORT STEP...

Steps:
    send=BYTES     one sendall() of BYTES, written with Python escapes
                   (\\r \\n \\xff \\\\ \\" ...): every byte of the argument
                   goes out in a single write, so send='GET / ...GET / ...'
                   pipelines
    sendfile=PATH  one sendall() of the bytes of the file PATH
    recv=N         read and parse N responses (Content-Length, chunked, or
                   no body for 1xx/204/304); prints "status CODE body LEN"
                   for each
    recvhead=N     as recv, for responses to HEAD (no body whatever the
                   headers say)
    eof            read until the server closes; prints "eof BYTES" (the
                   bytes read after the last parsed response), or
                   "reset BYTES" when the connection was reset
    sleep=MS       sleep MS milliseconds
    rst            close the connection at once with a reset (SO_LINGER 0);
                   only linger= may follow
    linger=SECS    sleep, at the end, so a scrape can see this process

Exits 0 when every step worked, 1 otherwise (with a message on stderr).
"""
import codecs
import socket
import struct
import sys
import time


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self, head_only):
        while True:
            status = self.line()
            parts = status.split(b" ", 2)
            code = int(parts[1])
            hdrs = {}
            while True:
                ln = self.line()
                if not ln:
                    break
                k, v = ln.split(b":", 1)
                hdrs[k.strip().lower()] = v.strip().lower()
            if 100 <= code < 200 and code != 101:
                continue  # interim: the final response follows
            break
        if head_only or code < 200 or code in (204, 304):
            return code, 0
        if b"chunked" in hdrs.get(b"transfer-encoding", b""):
            total = 0
            while True:
                size = int(self.line().split(b";", 1)[0], 16)
                if size == 0:
                    while self.line():
                        pass
                    return code, total
                self.take(size)
                self.take(2)
                total += size
        n = int(hdrs.get(b"content-length", b"0"))
        self.take(n)
        return code, n


def main(argv):
    host, port, steps = argv[1], int(argv[2]), argv[3:]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect((host, port))
    rd = Reader(s)
    linger = 0.0
    try:
        for step in steps:
            name, _, arg = step.partition("=")
            if name == "send":
                s.sendall(codecs.escape_decode(arg.encode("utf-8"))[0])
            elif name == "sendfile":
                with open(arg, "rb") as f:
                    s.sendall(f.read())
            elif name in ("recv", "recvhead"):
                for _ in range(int(arg)):
                    code, n = rd.response(name == "recvhead")
                    print(f"status {code} body {n}", flush=True)
            elif name == "eof":
                got = len(rd.buf)
                rd.buf = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += len(chunk)
                    print(f"eof {got}", flush=True)
                except ConnectionResetError:
                    print(f"reset {got}", flush=True)
            elif name == "sleep":
                time.sleep(int(arg) / 1000.0)
            elif name == "rst":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            elif name == "linger":
                linger = float(arg)
            else:
                print(f"http_raw: unknown step {step!r}", file=sys.stderr)
                return 1
    except (OSError, EOFError, ValueError, IndexError) as e:
        print(f"http_raw: {step}: {e!r}", file=sys.stderr, flush=True)
        return 1
    finally:
        s.close()
    if linger > 0:
        time.sleep(linger)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
