#!/usr/bin/env python3
"""Loopback "reply" server for the promshim tests.

    echo_server.py PORT [--host 127.0.0.1] [--req-len 64] [--reply-len 1000]

For each connection (one thread each): read until REQ_LEN bytes arrived or
the client closed; when anything arrived, send a fixed REPLY_LEN-byte reply;
close. A client that connects and closes without sending gets no reply, so
connect-only clients work too, and a client that holds an idle connection is
held until it goes. Prints "listening HOST PORT" once it accepts.
"""
import argparse
import socket
import socketserver
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--req-len", type=int, default=64)
    ap.add_argument("--reply-len", type=int, default=1000)
    args = ap.parse_args()
    reply = b"r" * args.reply_len

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            got = 0
            try:
                while got < args.req_len:
                    chunk = self.request.recv(args.req_len - got)
                    if not chunk:
                        break
                    got += len(chunk)
                if got:
                    self.request.sendall(reply)
            except OSError:
                pass

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = 4096
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
