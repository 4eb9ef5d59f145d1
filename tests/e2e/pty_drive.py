#!/usr/bin/env python3
"""pty_drive.py - drive a command through a real pseudo-terminal, for tests.

Runs CMD in a new session whose controlling terminal is the slave side of a
new pty (stdin, stdout and stderr all on it), with the window size and TERM
given, then plays a script of steps against it: type text, wait for output
matching a regular expression, resize the window, send ^C / ^D, and check the
exit status. Python standard library only.

    pty_drive.py [--rows 24] [--cols 80] [--term xterm-256color] [--timeout 10]
                 [--log FILE] [--echo] (--steps FILE | --step STEP ...) -- CMD ARGS...

Steps (one a line in FILE, or one per --step; blank lines and lines starting
with # are skipped; TEXT takes the \\r \\n \\t \\e \\0 \\\\ \\xHH escapes):

    expect REGEX        wait until the output not yet consumed matches REGEX
                        (Python re, on the bytes as UTF-8 text; the output up
                        to the end of the match is consumed)
    expect-not REGEX    fail if the output not yet consumed matches REGEX now
    send TEXT           type TEXT (no newline added)
    sendline TEXT       type TEXT and a carriage return (what Enter sends)
    intr                type ^C (the terminal's VINTR)
    eof                 type ^D (the terminal's VEOF)
    resize ROWS COLS    set the window size (TIOCSWINSZ on the master; the
                        kernel sends SIGWINCH to the terminal's foreground
                        process group)
    signal NAME         send signal NAME (TERM, INT, HUP, ...) to CMD itself
    sleep SECONDS       pause (output keeps being read)
    timeout SECONDS     the time limit of later expect and exitstatus steps
    expect-eof          wait until CMD and every process holding the terminal
                        have closed it
    exitstatus N        wait for CMD to exit, and check its status N (a number
                        0-255; death by signal S counts as 128+S, as in sh)

Exit status: with an exitstatus step, 0 when every step passed; without one,
CMD's own exit status (waited for after the last step, within the timeout).
255 when a step fails: the message names the step and its line and shows the
last output received (escaped), and CMD is killed.

As a module: Pty(argv, rows, cols, term) offers expect(), send(), resize(),
wait(), output and close().
"""
import argparse
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time

FAIL_STATUS = 255


class StepFailed(Exception):
    pass


def unescape(text):
    """Bytes for TEXT with \\r \\n \\t \\e \\a \\b \\0 \\\\ \\xHH escapes; other
    characters as UTF-8."""
    out = bytearray()
    simple = {"r": b"\r", "n": b"\n", "t": b"\t", "e": b"\x1b", "a": b"\x07",
              "b": b"\x08", "0": b"\x00", "\\": b"\\"}
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 == len(text):
            out += c.encode()
            i += 1
            continue
        n = text[i + 1]
        if n in simple:
            out += simple[n]
            i += 2
        elif n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("unknown escape \\%s in %r" % (n, text))
    return bytes(out)


def status_of(wstatus):
    """An exit status as sh reports it: the code, or 128 + the signal."""
    if os.WIFEXITED(wstatus):
        return os.WEXITSTATUS(wstatus)
    if os.WIFSIGNALED(wstatus):
        return 128 + os.WTERMSIG(wstatus)
    return FAIL_STATUS


def show(data, limit=1500):
    """The tail of some output, escaped so that control characters show."""
    tail = data[-limit:]
    prefix = "..." if len(data) > limit else ""
    return prefix + repr(tail)[2:-1].replace("\\r\\n", "\\r\\n\n    ")


class Pty:
    """A child process on a new pseudo-terminal."""

    def __init__(self, argv, rows=24, cols=80, term="xterm-256color", log=None, echo=False):
        self.output = bytearray()  # everything the child wrote
        self.pos = 0               # how much of it expect() consumed
        self.status = None         # exit status once reaped
        self.closed = False        # the master saw EOF/EIO
        self.log = log
        self.echo = echo
        master, slave = os.openpty()
        self._set_winsize(master, rows, cols)
        env = dict(os.environ)
        env["TERM"] = term
        env["LINES"], env["COLUMNS"] = str(rows), str(cols)
        # An error from exec comes back through a close-on-exec pipe.
        rpipe, wpipe = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            try:
                os.close(master)
                os.close(rpipe)
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                if slave > 2:
                    os.close(slave)
                for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGWINCH,
                          signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGCHLD):
                    signal.signal(s, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                os.set_inheritable(wpipe, False)
                os.execvpe(argv[0], argv, env)
            except BaseException as e:  # noqa: B902 - report anything, then die
                try:
                    os.write(wpipe, ("%s: %s" % (argv[0], e)).encode())
                finally:
                    os._exit(127)
        os.close(slave)
        os.close(wpipe)
        err = b""
        while True:
            chunk = os.read(rpipe, 4096)
            if not chunk:
                break
            err += chunk
        os.close(rpipe)
        self.pid = pid
        self.master = master
        fl = fcntl.fcntl(master, fcntl.F_GETFL)
        fcntl.fcntl(master, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        if err:
            self.wait(5)
            raise StepFailed("cannot run the command: %s" % err.decode(errors="replace"))

    @staticmethod
    def _set_winsize(fd, rows, cols):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _pump(self, timeout):
        """Read what is there (waiting up to timeout seconds for something)
        and reap the child if it exited. Returns once anything happened."""
        if self.closed:
            self._reap(False)
            if self.status is None:
                time.sleep(min(timeout, 0.05))
            return
        r, _, _ = select.select([self.master], [], [], max(0.0, min(timeout, 0.2)))
        if r:
            try:
                data = os.read(self.master, 65536)
            except BlockingIOError:
                data = None
            except OSError:  # EIO: every holder of the slave closed it
                data = b""
            if data == b"":
                self.closed = True
            elif data:
                self.output += data
                if self.log:
                    self.log.write(data)
                    self.log.flush()
                if self.echo:
                    sys.stderr.buffer.write(data)
                    sys.stderr.buffer.flush()
        self._reap(False)

    def _reap(self, block):
        if self.status is not None:
            return
        pid, wstatus = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        if pid == self.pid:
            self.status = status_of(wstatus)

    def pending(self):
        return bytes(self.output[self.pos:])

    def expect(self, regex, timeout):
        """Wait until the unconsumed output matches regex (str); consume up to
        the end of the match and return the match."""
        rx = re.compile(regex.encode())
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.output, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise StepFailed("no output matched /%s/ within %g s" % (regex, timeout))
            if self.closed and self.status is not None:
                raise StepFailed("no output matched /%s/ and the command exited with status %d"
                                 % (regex, self.status))
            self._pump(left)

    def send(self, data):
        """Type data (bytes) into the terminal."""
        view = memoryview(data)
        deadline = time.monotonic() + 10
        while view:
            try:
                n = os.write(self.master, view)
                view = view[n:]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StepFailed("the terminal took no input for 10 s")
                self._pump(0.05)  # drain output so the child can go on
            except OSError as e:
                raise StepFailed("cannot write to the terminal: %s" % e)

    def control_char(self, index):
        """The terminal's current character for VINTR, VEOF, ... (as the line
        discipline sees it, so that it works in raw mode's readers too)."""
        cc = termios.tcgetattr(self.master)[6][index]
        return cc if isinstance(cc, bytes) else bytes([cc])

    def resize(self, rows, cols):
        self._set_winsize(self.master, rows, cols)

    def wait(self, timeout):
        """Wait for the child to exit (reading output meanwhile); its status or
        None on timeout."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._pump(left)
        self._drain()
        return self.status

    def _drain(self):
        """Read what the exited child left in the terminal's buffer: it can
        write its last lines and exit between two reads, and _pump reaps it
        after reading only the first of them."""
        deadline = time.monotonic() + 1.0  # a process left behind may write on
        while not self.closed and time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0)
            if not r:
                return
            self._pump(0)

    def wait_closed(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._pump(left)
        return True

    def close(self):
        """Kill the child if it still runs, reap it, close the master."""
        if self.status is None:
            for sig, grace in ((signal.SIGHUP, 1.0), (signal.SIGKILL, 5.0)):
                try:
                    os.kill(self.pid, sig)
                except ProcessLookupError:
                    pass
                if self.wait(grace) is not None:
                    break
            if self.status is None:
                self._reap(True)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def parse_steps(lines):
    """[(lineno, verb, arg)] from the script's lines."""
    steps = []
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        line = line.lstrip()
        verb, _, arg = line.partition(" ")
        steps.append((n, verb, arg))
    return steps


def run_step(p, verb, arg, state):
    if verb == "expect":
        p.expect(arg, state["timeout"])
    elif verb == "expect-not":
        p._pump(0)
        if re.search(arg.encode(), p.pending()):
            raise StepFailed("output matched /%s/" % arg)
    elif verb == "send":
        p.send(unescape(arg))
    elif verb == "sendline":
        p.send(unescape(arg) + b"\r")
    elif verb == "intr":
        p.send(p.control_char(termios.VINTR))
    elif verb == "eof":
        p.send(p.control_char(termios.VEOF))
    elif verb == "resize":
        rows, cols = (int(x) for x in arg.split())
        p.resize(rows, cols)
    elif verb == "signal":
        name = arg.strip().upper()
        sig = getattr(signal, name if name.startswith("SIG") else "SIG" + name)
        os.kill(p.pid, sig)
    elif verb == "sleep":
        end = time.monotonic() + float(arg)
        while time.monotonic() < end:
            p._pump(end - time.monotonic())
    elif verb == "timeout":
        state["timeout"] = float(arg)
    elif verb == "expect-eof":
        if not p.wait_closed(state["timeout"]):
            raise StepFailed("the terminal was still open after %g s" % state["timeout"])
    elif verb == "exitstatus":
        want = int(arg)
        got = p.wait(state["timeout"])
        state["checked_status"] = True
        if got is None:
            raise StepFailed("the command had not exited after %g s" % state["timeout"])
        if got != want:
            raise StepFailed("exit status %d, want %d" % (got, want))
    else:
        raise StepFailed("unknown step '%s'" % verb)


def main(argv):
    ap = argparse.ArgumentParser(
        prog="pty_drive.py", description="Drive a command through a pseudo-terminal.",
        usage="%(prog)s [options] (--steps FILE | --step STEP ...) -- CMD ARGS...")
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--term", default="xterm-256color")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds an expect or exitstatus step may wait (default 10)")
    ap.add_argument("--steps", help="a file of steps, one a line ('-' for stdin)")
    ap.add_argument("--step", action="append", default=[], help="one step (repeatable)")
    ap.add_argument("--log", help="write everything the command printed to this file")
    ap.add_argument("--echo", action="store_true", help="copy the output to stderr as it comes")
    ap.add_argument("-q", "--quiet", action="store_true", help="no 'ok' line per step")
    if "--" not in argv:
        ap.error("the command goes after --")
    split = argv.index("--")
    opts = ap.parse_args(argv[:split])
    cmd = argv[split + 1:]
    if not cmd:
        ap.error("no command after --")
    lines = []
    if opts.steps:
        with (sys.stdin if opts.steps == "-" else open(opts.steps)) as f:
            lines = f.readlines()
    steps = parse_steps(lines) + [(0, *s.partition(" ")[::2]) for s in opts.step]

    def say(msg):
        if not opts.quiet:
            print("pty_drive: %s" % msg, file=sys.stderr, flush=True)

    log = open(opts.log, "wb") if opts.log else None
    state = {"timeout": opts.timeout, "checked_status": False}
    p = None
    step = None
    try:
        p = Pty(cmd, opts.rows, opts.cols, opts.term, log, opts.echo)
        for step in steps:
            n, verb, arg = step
            run_step(p, verb, arg, state)
            say("ok   %s %s" % (verb, arg))
        if state["checked_status"]:
            return 0
        step = (0, "exitstatus", "(any)")
        if p.wait(state["timeout"]) is None:
            raise StepFailed("the command had not exited after %g s" % state["timeout"])
        return p.status
    except (StepFailed, ValueError, re.error, OSError) as e:
        where = ""
        if step is not None:
            n, verb, arg = step
            where = " at step %s'%s %s'" % ("%d " % n if n else "", verb, arg)
        msg = "pty_drive: FAIL%s: %s\n" % (where, e)
        if p is not None:
            p._pump(0)
            msg += "  command: %s\n  output not yet consumed (%d bytes):\n    %s\n" % (
                " ".join(cmd), len(p.pending()), show(p.pending()))
            if p.pos:
                msg += "  (output consumed by earlier steps ended with: %s)\n" % show(
                    bytes(p.output[:p.pos]), 300)
        sys.stderr.write(msg)
        return FAIL_STATUS
    finally:
        if p is not None:
            p.close()
        if log:
            log.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
