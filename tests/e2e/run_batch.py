#!/usr/bin/env python3
"""run_batch.py - run many short commands from one process, one after another.

    run_batch.py [--cwd DIR] [--env NAME=VALUE]... [--timeout S] <LINES

Each line of standard input is one command's argv, its words separated by
tabs. Each runs with standard input and output on /dev/null, in DIR, with the
environment plus the NAME=VALUEs; after it, standard output gets its exit
status as a shell gives it (128 + N for signal N; 124 when it ran past S
seconds, default 20, as timeout(1) says, then killed), a newline, what it
wrote on standard error (without its trailing newlines), and a NUL: `while IFS= read -r -d '' rec` reads them.

For tests that make hundreds of runs of a program (cli-help-options): a fork of
the test's shell and an exec of timeout(1) a run cost about as much CPU as the
program's own start; here a run is one spawn of the program.
"""
import os
import subprocess
import sys


def main():
    cwd, env, timeout = None, dict(os.environ), 20.0
    args = sys.argv[1:]
    while args:
        opt = args.pop(0)
        if opt == "--cwd":
            cwd = args.pop(0)
        elif opt == "--env":
            name, _, value = args.pop(0).partition("=")
            env[name] = value
        elif opt == "--timeout":
            timeout = float(args.pop(0))
        else:
            sys.exit("run_batch.py: unknown option " + opt)
    out = sys.stdout.buffer
    for line in sys.stdin.read().splitlines():
        argv = line.split("\t")
        try:
            p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=timeout)
            rc, err = p.returncode, p.stderr
            if rc < 0:
                rc = 128 - rc
        except subprocess.TimeoutExpired as e:
            rc, err = 124, e.stderr or b""
        # (as a shell's $(...) has it: no NUL, no trailing newlines)
        err = err.replace(b"\0", b"").rstrip(b"\n")
        out.write(b"%d\n" % rc + err + b"\0")
    out.flush()


main()
