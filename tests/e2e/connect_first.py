#!/usr/bin/env python3
"""connect_first.py - a "connect" request to this test's broker (docs/
PROTOCOL.md) and the server's first line after its answer:

  connect_first.py HOST WORKSPACE PORT

Prints the answer's route and the line ("route LINE"); exits 1 when the
first frame after HELLO is not the request's CONTROL answer (the server's
bytes came before it) or the answer is not ok.
"""
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proto_client import CONTROL, HELLO, frame  # noqa: E402


def exactly(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("the broker closed the connection after %r" % b)
        b += chunk
    return b


def main():
    host, ws, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    req = {"id": 1, "op": "connect", "host": host, "acceptNewHostKey": False,
           "workspace": ws, "containerPort": port}
    for field, env in (("sshConfig", "RDEV_SSH_CONFIG"), ("knownHosts", "RDEV_KNOWN_HOSTS")):
        if os.environ.get(env):
            req[field] = os.path.realpath(os.environ[env])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(os.path.join(os.environ["RDEV_RUNTIME_DIR"], "broker.sock"))
    s.sendall(frame(HELLO, 0, {"versions": [1, 1], "software": "connect_first.py"}))
    length, _, ftype, _ = struct.unpack(">IHHI", exactly(s, 12))
    assert ftype == HELLO, "first frame is %d, not HELLO" % ftype
    exactly(s, length)
    s.sendall(frame(CONTROL, 0, req))
    hdr = exactly(s, 12)
    length, _, ftype, _ = struct.unpack(">IHHI", hdr)
    if ftype != CONTROL or length > 65536:
        print("not the answer first: %r" % hdr)
        sys.exit(1)
    msg = json.loads(exactly(s, length))
    if not msg.get("ok"):
        print(json.dumps(msg))
        sys.exit(1)
    got = b""
    while not got.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        got += d
    print(msg["result"]["route"], got.decode(errors="replace").strip())


if __name__ == "__main__":
    main()
