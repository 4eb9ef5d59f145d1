#!/usr/bin/env python3
"""exec_reader_gone.py RDEV TARGET CID unix|tcp MIN_BYTES: the status of an
`rdev exec TARGET` whose stdout's reader goes away only after the command
(status 3) has ended and its status waits in rdev's socket.

stdout is a full pipe, so rdev blocks writing the command's "out"; its reader
is closed once the command has ended (a mark file in container CID) and at
least MIN_BYTES wait in rdev's sockets of that kind (`ss`: unix to the
broker, tcp to the relay), or 30 s have passed (rdev may have read the status
with the output). Prints rdev's exit status; rdev is killed if it does not
end within 30 s more.
"""
import fcntl
import os
import subprocess
import sys
import time

rdev, target, cid, kind, min_bytes = sys.argv[1:6]
min_bytes = int(min_bytes)
ss_args, queue_field = {"unix": (["ss", "-Hxpn"], 2),
                        "tcp": (["ss", "-Htnp"], 1)}[kind]
r, w = os.pipe()
fl = fcntl.fcntl(w, fcntl.F_GETFL)
fcntl.fcntl(w, fcntl.F_SETFL, fl | os.O_NONBLOCK)
for chunk in (4096, 1):
    try:
        while True:
            os.write(w, b"x" * chunk)
    except BlockingIOError:
        pass
fcntl.fcntl(w, fcntl.F_SETFL, fl)
mark = "/tmp/ended-%d" % os.getpid()
p = subprocess.Popen([rdev, "exec", target, "--", "sh", "-c",
                      "echo out; touch %s; exit 3" % mark],
                     stdin=subprocess.DEVNULL, stdout=w)
os.close(w)
for _ in range(300):
    if subprocess.run(["docker", "exec", cid, "test", "-e", mark]).returncode == 0:
        break
    time.sleep(0.1)


def queued():
    out = subprocess.run(ss_args, capture_output=True, text=True).stdout
    return sum(int(line.split()[queue_field]) for line in out.splitlines()
               if "pid=%d," % p.pid in line)


for _ in range(300):
    if queued() >= min_bytes:
        break
    time.sleep(0.1)
os.close(r)
try:
    print(p.wait(timeout=30))
finally:
    p.kill()
