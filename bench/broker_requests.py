#!/usr/bin/env python3
"""broker_requests.py - cheap host requests through the broker, for
bench/ssh-dest-key.sh (stdlib only).

    broker_requests.py SOCKET HOST N
        N times, one after the other: connect to the broker's SOCKET, HELLO,
        an "unforward" of a port nobody forwards on HOST (the broker computes
        HOST's session key on its loop, hands the connection to the host's
        session, which answers {"stopped":0}), read the answer, close.
        Print "N SECONDS REQ_PER_S".
"""
import json
import socket
import struct
import sys
import time

MAGIC = 0x5244
HELLO, CONTROL = 1, 16


def frame(t, obj):
    p = json.dumps(obj).encode()
    return struct.pack(">IHHI", len(p), MAGIC, t, 0) + p


def read_frame(s, buf):
    while True:
        if len(buf) >= 12:
            n, magic, t, _ = struct.unpack(">IHHI", buf[:12])
            if magic != MAGIC:
                sys.exit("not an rdev stream")
            if len(buf) >= 12 + n:
                return t, json.loads(buf[12:12 + n]), buf[12 + n:]
        b = s.recv(65536)
        if not b:
            sys.exit("the broker closed the connection")
        buf += b


def one(path, host, i):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(frame(HELLO, {"versions": [1, 1], "software": "bench"}))
    buf = b""
    t, _, buf = read_frame(s, buf)
    if t != HELLO:
        sys.exit("expected HELLO")
    s.sendall(frame(CONTROL, {"id": i, "op": "unforward", "host": host,
                              "workspace": "/nonexistent-bench", "local": 1}))
    while True:
        t, msg, buf = read_frame(s, buf)
        if t == CONTROL and msg.get("id") == i and "ok" in msg:
            break
    s.close()
    if not msg["ok"]:
        sys.exit("request failed: %s" % msg.get("error"))


def main():
    path, host, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    one(path, host, 1)  # (the session is made and connected)
    t0 = time.monotonic()
    for i in range(n):
        one(path, host, i + 2)
    dt = time.monotonic() - t0
    print("%d %.3f %.0f" % (n, dt, n / dt))


main()
