#!/usr/bin/env python3
"""keystroke.py - keystroke echo latency of an interactive shell run through
a real pseudo-terminal (pty_drive.py's Pty), for bench/link.sh and
e2e/link-delay.

    keystroke.py KEYS -- CMD ARGS...

Starts CMD (an `rdev shell`, an `ssh -t HOST docker exec -it CID bash`) on a
new pty, waits until its shell answers a command, then types KEYS letters one
at a time, each once the previous one's echo came back (and 20 ms later, a
typist's pace), and times each from the write to the pty until the letter
shows in the output (the remote terminal's echo: the local one is raw). Every
20 letters the line is erased (^U). Then `exit`. Prints
"P50_MS P99_MS MEAN_MS MAX_MS N".
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pty_drive import Pty  # noqa: E402


def pct(v, p):
    k = max(1, -(-len(v) * p // 100))
    return v[int(k) - 1]


def main(argv):
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    keys = int(argv[0])
    p = Pty(argv[2:], rows=24, cols=200)
    try:
        p.send(b"echo rdev-ready-$((6*7))\r")
        p.expect(r"rdev-ready-42", 60)
        time.sleep(0.3)
        p._pump(0.1)
        p.pos = len(p.output)
        times = []
        for i in range(keys):
            if i > 0 and i % 20 == 0:
                p.send(b"\x15")  # ^U: erase the line
                time.sleep(0.3)
                p._pump(0.05)
                p.pos = len(p.output)
            c = bytes([ord("a") + i % 26])
            t0 = time.perf_counter()
            p.send(c)
            p.expect(c.decode(), 10)
            times.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)
        p.send(b"\x15exit\r")
        p.wait(10)
    finally:
        p.close()
    times.sort()
    print("%.1f %.1f %.1f %.1f %d" % (pct(times, 50), pct(times, 99),
                                      sum(times) / len(times), times[-1], len(times)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
