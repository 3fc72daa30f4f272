#!/usr/bin/env python3
"""db_pg_pipeline.py - a minimal PostgreSQL client (protocol 3.0, trust
authentication, no TLS) that sends a pipeline of extended-protocol
statements in one write and reads every answer up to the ReadyForQuery of
its Sync, so what the server skipped after an error is read too.

    db_pg_pipeline.py HOST PORT USER DATABASE SQL...

Each SQL becomes Parse + Bind + Execute (unnamed statement and portal); one
Sync ends the batch. Prints one line per backend message of interest
(C tag, E sqlstate, Z status) and exits 0 when the final ReadyForQuery came.
"""
import socket
import struct
import sys


def msg(t, body):
    return t + struct.pack("!I", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


def read_msg(sock, buf):
    while len(buf) < 5 or len(buf) < 1 + struct.unpack("!I", buf[1:5])[0]:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("server closed")
        buf += chunk
    n = 1 + struct.unpack("!I", buf[1:5])[0]
    return buf[0:1], buf[5:n], buf[n:]


def main():
    host, port, user, db = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    sock = socket.create_connection((host, port))
    body = struct.pack("!I", 196608) + cstr("user") + cstr(user) + cstr("database") + cstr(db) + b"\0"
    sock.sendall(struct.pack("!I", len(body) + 4) + body)
    buf = b""
    while True:
        t, b, buf = read_msg(sock, buf)
        if t == b"E":
            sys.exit("login failed: %r" % b)
        if t == b"Z":
            break
    batch = b""
    for sql in sys.argv[5:]:
        batch += msg(b"P", cstr("") + cstr(sql) + struct.pack("!H", 0))
        batch += msg(b"B", cstr("") + cstr("") + struct.pack("!HHH", 0, 0, 0))
        batch += msg(b"E", cstr("") + struct.pack("!I", 0))
    batch += msg(b"S", b"")
    sock.sendall(batch)
    while True:
        t, b, buf = read_msg(sock, buf)
        if t == b"C":
            print("C", b.rstrip(b"\0").decode())
        elif t == b"E":
            fields = dict((f[0:1], f[1:]) for f in b.split(b"\0") if f)
            print("E", fields.get(b"C", b"").decode())
        elif t == b"Z":
            print("Z", b.decode())
            break
    sock.sendall(msg(b"X", b""))
    sock.close()


if __name__ == "__main__":
    main()
