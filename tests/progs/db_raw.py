#!/usr/bin/env python3
"""db_raw.py - a raw TCP client for the db suite: sends exactly the bytes it
is told to, one write per step, and reads each reply to its end before the
next step, so a test knows what went over the wire and in which calls.

    db_raw.py HOST PORT STEP...

Steps (BYTES use Python escapes: \\r \\n \\x00 ...):
    s:BYTES      send BYTES in one write
    r:BYTES      read until the bytes received since the last read step
                 end with BYTES (the reply's terminator)
    l:N          read until N more lines (CRLF-terminated) arrived
    p:BYTES      send BYTES, then read one CRLF line (a one-line reply)
    x:SECS       sleep
    close        close the connection (the default at the end)

Prints every reply on stdout (repr), exits 1 when the server closed before
a reply ended, 2 on a timeout (5 s per read).
"""
import codecs
import socket
import sys
import time


def unescape(s):
    return codecs.escape_decode(s.encode())[0]


def read_until(sock, pred):
    buf = b""
    deadline = time.monotonic() + 5
    while not pred(buf):
        left = deadline - time.monotonic()
        if left <= 0:
            print("timeout; got %r" % buf)
            sys.exit(2)
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            print("timeout; got %r" % buf)
            sys.exit(2)
        if not chunk:
            print("closed; got %r" % buf)
            sys.exit(1)
        buf += chunk
    print(repr(buf))
    return buf


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for step in sys.argv[3:]:
        if step == "close":
            break
        kind, _, arg = step.partition(":")
        if kind == "s":
            sock.sendall(unescape(arg))
        elif kind == "r":
            term = unescape(arg)
            read_until(sock, lambda b: b.endswith(term))
        elif kind == "l":
            n = int(arg)
            read_until(sock, lambda b: b.count(b"\r\n") >= n)
        elif kind == "p":
            sock.sendall(unescape(arg))
            read_until(sock, lambda b: b.endswith(b"\r\n"))
        elif kind == "x":
            time.sleep(float(arg))
        else:
            sys.exit("db_raw.py: unknown step " + step)
    sock.close()


if __name__ == "__main__":
    main()
