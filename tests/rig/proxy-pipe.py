#!/usr/bin/env python3
"""proxy-pipe.py [--record FILE USER] [--hold STARTED GO] [--noise N] HOST PORT: an ssh
ProxyCommand that pipes its stdin and stdout to HOST:PORT (TCP), as
`ssh -W` would, for the tests of a host reached through one.

  --record FILE USER  first write "PID HOST PORT USER" to FILE (what the
                      command was given: %h %p %r, and its pid)
  --hold STARTED GO   first make the file STARTED, then connect only once
                      the file GO exists (a test holds the session between
                      its making and its connect); gives up after 60 s
                      (exit 1)
  --noise N           write a log line of N bytes on stderr (waiting for room
                      in the pipe, as a Go program's logging) for each chunk
                      passed on, in
                      both directions, up to 1 MiB in all

It ends when the host closes the connection; the end of stdin is passed on
as a half close.
"""
import argparse
import os
import select
import socket
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", nargs=2, metavar=("FILE", "USER"))
    ap.add_argument("--hold", nargs=2, metavar=("STARTED", "GO"))
    ap.add_argument("--noise", type=int, default=0)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    a = ap.parse_args()
    if a.record:
        with open(a.record[0], "w") as f:
            f.write("%d %s %d %s\n" % (os.getpid(), a.host, a.port, a.record[1]))
    if a.hold:
        open(a.hold[0], "w").close()
        deadline = time.monotonic() + 60
        while not os.path.exists(a.hold[1]):
            if time.monotonic() > deadline:
                sys.exit(1)
            time.sleep(0.05)
    s = socket.create_connection((a.host, a.port))
    lock = threading.Lock()
    said = [0]

    def noise():
        if a.noise <= 0:
            return
        with lock:
            if said[0] >= 1 << 20:
                return
            said[0] += a.noise
            line = b"noise %d " % said[0]
            buf = line + b"x" * max(0, a.noise - len(line) - 1) + b"\n"
            # (the pipe may be nonblocking: wait for room, as Go's runtime
            # does for its writes)
            while buf:
                try:
                    buf = buf[os.write(2, buf):]
                except BlockingIOError:
                    select.select([], [2], [])

    def up():
        while True:
            d = os.read(0, 65536)
            if not d:
                s.shutdown(socket.SHUT_WR)
                return
            noise()
            s.sendall(d)

    threading.Thread(target=up, daemon=True).start()
    while True:
        d = s.recv(65536)
        if not d:
            break
        noise()
        os.write(1, d)


main()
