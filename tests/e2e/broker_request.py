#!/usr/bin/env python3
"""broker_request.py - send one request to this test's broker, as `rdev`
would for an SSH host (docs/PROTOCOL.md), and print its answer (JSON).

  broker_request.py HOST OP FIELDS_JSON

The host's fields are the ones the client adds (client/remote.c,
remote_host_request): "host", "sshConfig" ($RDEV_SSH_CONFIG), "knownHosts"
($RDEV_KNOWN_HOSTS), "authSock" ($SSH_AUTH_SOCK). For a request the CLI
cannot make while a host is away (`rdev forward --auto` reads the
configuration from the host first). Exits 1 when the answer is not ok.
"""
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proto_client import CONTROL, HELLO, frame  # noqa: E402


def read_frame(s):
    def exactly(n):
        b = b""
        while len(b) < n:
            chunk = s.recv(n - len(b))
            if not chunk:
                raise EOFError("the broker closed the connection")
            b += chunk
        return b

    length, _, ftype, ch = struct.unpack(">IHHI", exactly(12))
    return ftype, ch, exactly(length) if length else b""


def main():
    host, op, fields = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    req = {"id": 1, "op": op, "host": host, "acceptNewHostKey": False}
    for field, env in (("sshConfig", "RDEV_SSH_CONFIG"), ("knownHosts", "RDEV_KNOWN_HOSTS")):
        if os.environ.get(env):
            req[field] = os.path.realpath(os.environ[env])
    if os.environ.get("SSH_AUTH_SOCK"):
        req["authSock"] = os.path.abspath(os.environ["SSH_AUTH_SOCK"])
    req.update(fields)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(os.path.join(os.environ["RDEV_RUNTIME_DIR"], "broker.sock"))
    s.sendall(frame(HELLO, 0, {"versions": [1, 1], "software": "broker_request.py"}))
    ftype, _, _ = read_frame(s)
    assert ftype == HELLO, "first frame is %d, not HELLO" % ftype
    s.sendall(frame(CONTROL, 0, req))
    while True:
        ftype, _, payload = read_frame(s)
        if ftype != CONTROL:
            continue
        msg = json.loads(payload)
        if msg.get("id") == 1 and "event" not in msg:
            print(json.dumps(msg))
            sys.exit(0 if msg.get("ok") else 1)


if __name__ == "__main__":
    main()
