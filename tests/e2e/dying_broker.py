#!/usr/bin/env python3
"""dying_broker.py SOCKET MODE - a listener at a broker's socket path that is no
broker, as a broker being killed looks to a client: it takes connections and
drops them. MODE close: each connection is closed at once (before HELLO);
hello: it answers the client's HELLO, then closes when the request comes.
Prints "conn N" per connection taken; runs until killed."""
import json
import os
import socket
import struct
import sys

MAGIC, HELLO = 0x5244, 1


def read_frame(c):
    hdr = b""
    while len(hdr) < 12:
        b = c.recv(12 - len(hdr))
        if not b:
            return None
        hdr += b
    length = struct.unpack(">IHHI", hdr)[0]
    body = b""
    while len(body) < length:
        b = c.recv(length - len(body))
        if not b:
            return None
        body += b
    return body


def main():
    path, mode = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o600)
    s.listen(16)
    print("ready", flush=True)
    n = 0
    while True:
        c, _ = s.accept()
        n += 1
        print("conn %d" % n, flush=True)
        if mode == "hello" and read_frame(c) is not None:
            hello = json.dumps({"versions": [1, 1], "software": "dying_broker.py"}).encode()
            c.sendall(struct.pack(">IHHI", len(hello), MAGIC, HELLO, 0) + hello)
            read_frame(c)
        c.close()


main()
