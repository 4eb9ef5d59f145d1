#!/usr/bin/env python3
"""exec_reader_gone.py RDEV TARGET CID unix|tcp STATUS_BYTES HELD_BYTES socket|read:
the status of an `rdev exec TARGET` whose stdout's reader goes away only after
the command (status 3) has ended and its status has come to rdev.

stdout is a full pipe, so rdev blocks writing the command's "out"; its reader
is closed once the command has ended (a mark file in container CID) and its
status is with rdev, in one of two places (MODE), each made sure of:

  socket  the status waits in rdev's socket (`ss`: unix to the broker, tcp to
          the relay): the command prints, then waits until rdev is blocked
          writing its output, then ends; the reader is closed once at least
          STATUS_BYTES wait in that socket.
  read    rdev has read the status with the output: rdev is stopped (SIGSTOP)
          while the command prints and ends, until both frames wait in its
          socket (at least HELD_BYTES), then continued; the reader is closed
          once rdev is blocked writing the output with its socket empty (one
          read took both).

No step waits for a time: each polls for its state, for at most 30 s (then
goes on, and a wrong state shows as a wrong status). Prints rdev's exit
status; rdev is killed if it does not end within 30 s after the close.
"""
import fcntl
import os
import signal
import subprocess
import sys
import time

rdev, target, cid, kind, status_bytes, held_bytes, mode = sys.argv[1:8]
status_bytes, held_bytes = int(status_bytes), int(held_bytes)
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
tag = "/tmp/reader-gone-%d" % os.getpid()
wait_go = "until [ -e %s.go ]; do sleep 0.02; done" % tag
body = {"socket": "echo out; %s; touch %s.ended; exit 3" % (wait_go, tag),
        "read": "touch %s.started; %s; echo out; touch %s.ended; exit 3"
        % (tag, wait_go, tag)}[mode]
p = subprocess.Popen([rdev, "exec", target, "--", "sh", "-c", body],
                     stdin=subprocess.DEVNULL, stdout=w)
os.close(w)


def until(cond, step=0.05):
    for _ in range(int(30 / step)):
        if cond():
            return True
        time.sleep(step)
    return False


def in_container(*cmd):
    return subprocess.run(["docker", "exec", cid] + list(cmd)).returncode == 0


def queued():
    out = subprocess.run(ss_args, capture_output=True, text=True).stdout
    return sum(int(line.split()[queue_field]) for line in out.splitlines()
               if "pid=%d," % p.pid in line)


def writing():
    """rdev is blocked writing to its stdout (the full pipe)."""
    try:
        with open("/proc/%d/wchan" % p.pid) as f:
            return "pipe_write" in f.read()
    except OSError:
        return False


try:
    if mode == "socket":
        until(writing)
        in_container("touch", tag + ".go")
        until(lambda: in_container("test", "-e", tag + ".ended"), 0.1)
        until(lambda: queued() >= status_bytes)
    else:
        until(lambda: in_container("test", "-e", tag + ".started"), 0.1)
        os.kill(p.pid, signal.SIGSTOP)
        in_container("touch", tag + ".go")
        until(lambda: in_container("test", "-e", tag + ".ended"), 0.1)
        until(lambda: queued() >= held_bytes)
        os.kill(p.pid, signal.SIGCONT)
        until(lambda: writing() and queued() == 0)
    os.close(r)
    print(p.wait(timeout=30))
finally:
    p.kill()
