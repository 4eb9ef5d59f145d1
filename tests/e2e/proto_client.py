#!/usr/bin/env python3
"""proto_client.py - a small rdev protocol client for tests (docs/PROTOCOL.md).

As a module: Client(argv) starts `argv` (e.g. ssh HOST rdev-agent serve),
exchanges HELLO, and offers request() and exec(). As a program:

  proto_client.py scenario WORKSPACE BUSYBOX_WS -- CMD...   the serve-ssh.sh checks
  proto_client.py signals WORKSPACE USER -- CMD...           the signal op
  proto_client.py vanish WORKSPACE BASE kill|close AGENT -- CMD...   a client gone
  proto_client.py raw HEXFILE -- CMD...                      send raw bytes, print frames

It prints "ok   what" per check and exits 1 on the first failure.
"""
import json
import os
import queue
import struct
import subprocess
import sys
import threading
import time

MAGIC = 0x5244
HELLO, FATAL, CONTROL, DATA, EOF, CLOSE = 1, 2, 16, 64, 65, 66


def frame(ftype, channel, payload):
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload).encode()
    return struct.pack(">IHHI", len(payload), MAGIC, ftype, channel) + payload


class Client:
    def __init__(self, argv, hello=None):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.frames = queue.Queue()
        self.lock = threading.Lock()
        self.next_id = 1
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.send(HELLO, 0, hello or {"versions": [1, 1], "software": "proto_client.py"})
        t, ch, payload = self.get()
        assert t == HELLO, "first frame is %d, not HELLO" % t
        self.peer_hello = json.loads(payload)
        # Frames not yet claimed by a request or an exec.
        self.pending = []

    def _read(self):
        f = self.p.stdout
        while True:
            hdr = f.read(12)
            if len(hdr) < 12:
                self.frames.put(None)
                return
            length, magic, ftype, ch = struct.unpack(">IHHI", hdr)
            payload = f.read(length) if length else b""
            self.frames.put((ftype, ch, payload))

    def get(self, timeout=300):
        item = self.frames.get(timeout=timeout)
        if item is None:
            raise EOFError("the agent closed its output")
        return item

    def send(self, ftype, channel, payload=b""):
        with self.lock:
            self.p.stdin.write(frame(ftype, channel, payload))
            self.p.stdin.flush()

    def new_id(self):
        self.next_id += 1
        return self.next_id - 1

    def next_matching(self, pred, timeout=300):
        for i, fr in enumerate(self.pending):
            if pred(fr):
                return self.pending.pop(i)
        deadline = time.time() + timeout
        while True:
            fr = self.get(timeout=max(0.1, deadline - time.time()))
            if pred(fr):
                return fr
            self.pending.append(fr)

    def request(self, op, **kw):
        """Send a request; returns (events, response)."""
        rid = self.new_id()
        req = {"id": rid, "op": op}
        req.update(kw)
        self.send(CONTROL, 0, req)
        return self.wait(rid)

    def wait(self, rid):
        events = []
        while True:
            _, _, payload = self.next_matching(
                lambda fr: fr[0] == CONTROL and json.loads(fr[2]).get("id") == rid)
            msg = json.loads(payload)
            if "event" in msg:
                events.append(msg)
            else:
                return events, msg

    def exec_start(self, channel, workspace, command, tty=False, **kw):
        rid = self.new_id()
        req = {"id": rid, "op": "exec", "workspace": workspace, "command": command,
               "tty": tty, "channel": channel}
        req.update(kw)
        self.send(CONTROL, 0, req)
        return rid

    def exec_collect(self, channel):
        """Read channel's output until its CLOSE: (stdout, stderr, close message)."""
        out, err = bytearray(), bytearray()
        while True:
            t, ch, payload = self.next_matching(
                lambda fr: fr[1] in (channel, channel + 1) and fr[0] in (DATA, EOF, CLOSE))
            if t == DATA:
                (out if ch == channel else err).extend(payload)
            elif t == CLOSE and ch == channel:
                return bytes(out), bytes(err), json.loads(payload) if payload else {}

    def exec(self, channel, workspace, command, stdin=b"", **kw):
        rid = self.exec_start(channel, workspace, command, **kw)
        for i in range(0, len(stdin), 65536):
            self.send(DATA, channel, stdin[i:i + 65536])
        self.send(EOF, channel)
        _, resp = self.wait(rid)
        if not resp.get("ok"):
            return resp, None, None, None
        out, err, close = self.exec_collect(channel)
        return resp, out, err, close

    def close(self):
        self.p.stdin.close()
        return self.p.wait(timeout=60)


CHECKS = 0


def check(what, cond, detail=""):
    global CHECKS
    if not cond:
        print("FAIL %s %s" % (what, detail), file=sys.stderr)
        sys.exit(1)
    CHECKS += 1
    print("ok   " + what, flush=True)


def scenario(ws, bb_ws, argv):
    c = Client(argv)
    check("agent HELLO names the agent", c.peer_hello.get("software", "").startswith("rdev-agent"))
    check("agent HELLO offers version 1", c.peer_hello.get("versions") == [1, 1])

    _, r = c.request("version")
    check("version", r.get("ok") and r["result"]["protocol"] == 1, r)
    _, r = c.request("info")
    res = r.get("result", {})
    check("info: cpus, memory, storage, docker", r.get("ok") and res["cpus"] >= 1 and
          res["memory"] > 0 and res["storage"] > 0 and
          isinstance(res["dockerVersion"], str) and
          isinstance(res["environments"], (int, float)), r)
    _, r = c.request("no-such-op")
    check("unknown op: an error, serve goes on", r.get("ok") is False and "unknown operation" in r["error"], r)

    _, r = c.request("read-configuration", workspace=ws)
    check("read-configuration of a workspace in ~", r.get("ok") and
          r["result"]["configuration"]["image"] and
          r["result"]["workspace"]["workspaceFolder"].startswith("/workspaces/"), r)
    _, r = c.request("read-configuration", workspace="~/no-such-dir")
    check("read-configuration of a missing folder fails cleanly", r.get("ok") is False and r["error"], r)

    ev, r = c.request("up", workspace=bb_ws)
    check("up of a busybox workspace succeeds", r.get("ok") and r["result"]["outcome"] == "success", r)
    check("up streamed progress events", any("Creating container" in e.get("text", "") for e in ev),
          [e.get("text") for e in ev])
    cid = r["result"]["containerId"]

    resp, out, err, close = c.exec(10, bb_ws, ["sh", "-c", "cat; echo to-err >&2; exit 3"],
                                   stdin=b"hello \x00 binary\n")
    check("exec answers with its channel", resp.get("ok") and resp.get("channel") == 10, resp)
    check("exec stdin reaches the command, stdout comes back", out == b"hello \x00 binary\n", out)
    check("exec stderr comes on channel + 1", err == b"to-err\n", err)
    check("exec exit status in CLOSE", close.get("status") == 3, close)

    blob = os.urandom(3 * 1024 * 1024)
    resp, out, err, close = c.exec(20, bb_ws, ["cat"], stdin=blob)
    check("3 MB of binary stdin round-trips", out == blob and close.get("status") == 0, close)

    # Two execs at once: each waits for a file the other creates.
    a = c.exec_start(30, bb_ws, ["sh", "-c", "touch /tmp/a; while [ ! -e /tmp/b ]; do sleep 0.1; done; echo A"])
    b = c.exec_start(40, bb_ws, ["sh", "-c", "touch /tmp/b; while [ ! -e /tmp/a ]; do sleep 0.1; done; echo B"])
    c.send(EOF, 30)
    c.send(EOF, 40)
    _, ra = c.wait(a)
    _, rb = c.wait(b)
    out_b, _, close_b = c.exec_collect(40)
    out_a, _, close_a = c.exec_collect(30)
    check("two concurrent execs both run", ra.get("ok") and rb.get("ok") and
          out_a == b"A\n" and out_b == b"B\n" and close_a.get("status") == 0 and
          close_b.get("status") == 0, (out_a, out_b))

    # An exec still running while an op is answered: version comes back first.
    e = c.exec_start(50, bb_ws, ["sh", "-c", "sleep 1; echo late"])
    _, v = c.request("version")
    c.send(EOF, 50)
    _, re_ = c.wait(e)
    out, _, close = c.exec_collect(50)
    check("requests are answered while an exec runs", v.get("ok") and out == b"late\n", out)

    # The initial size is set just after the command starts (as docker exec -t
    # does): the command waits a moment before looking.
    rid = c.exec_start(70, bb_ws, ["sh", "-c", "sleep 1; tty; echo $TERM; stty size; read x; stty size"],
                       tty=True, term="xterm-test", rows=33, cols=77)
    _, r = c.wait(rid)
    first = bytearray()
    while b"33 77" not in first and b"0 0" not in first and len(first) < 4096:
        t, ch, payload = c.next_matching(lambda fr: fr[1] == 70, timeout=30)
        if t != DATA:
            break
        first.extend(payload)
    _, r2 = c.request("resize", channel=70, rows=40, cols=100)
    time.sleep(0.5)
    c.send(DATA, 70, b"go\r")
    out, err, close = c.exec_collect(70)
    out = bytes(first) + out
    text = out.replace(b"\r", b"").decode()
    check("a TTY exec gets a terminal, TERM and its size", r.get("ok") and
          "/dev/pts/" in text and "xterm-test" in text and "33 77" in text, text)
    check("resize changes the size", r2.get("ok") and "40 100" in text and
          close.get("status") == 0 and err == b"", (text, close))

    resp, out, err, close = c.exec(60, "~/no-such-ws", ["true"])
    check("exec without a workspace: error with exitStatus 125",
          resp.get("ok") is False and resp.get("exitStatus") == 125, resp)

    _, r = c.request("ls")
    check("ls lists the container", r.get("ok") and any(x["containerId"] == cid for x in r["result"]), r)
    _, r = c.request("logs", workspace=bb_ws)
    check("logs answers", r.get("ok") and "log" in r["result"], r)
    _, r = c.request("stop", workspace=bb_ws)
    check("stop", r.get("ok") and r["result"]["stopped"] == 1, r)
    _, r = c.request("down", workspace=bb_ws)
    check("down", r.get("ok") and r["result"]["removed"] == 1, r)
    _, r = c.request("down", workspace=bb_ws)
    check("down again is a no-op", r.get("ok") and r["result"]["removed"] == 0, r)

    rc = c.close()
    check("serve ends with status 0 on end of input", rc == 0, rc)


def raw(path, argv):
    """Send a HELLO then the raw bytes of path; print the frames that come back."""
    p = subprocess.run(argv, input=frame(HELLO, 0, {"versions": [1, 1], "software": "raw"})
                       + open(path, "rb").read(), stdout=subprocess.PIPE)
    data = p.stdout
    while len(data) >= 12:
        length, _, ftype, ch = struct.unpack(">IHHI", data[:12])
        print(ftype, ch, data[12:12 + length].decode(errors="replace"))
        data = data[12 + length:]
    print("exit", p.returncode)


def up_and_leave(ws, argv):
    """up ws, start an exec that would run for a minute, then end the session."""
    c = Client(argv)
    _, r = c.request("up", workspace=ws)
    check("up before leaving", r.get("ok"), r)
    c.exec_start(7, ws, ["sleep", "60"])
    _, r = c.wait(c.next_id - 1)
    check("a long exec is running", r.get("ok"), r)
    rc = c.close()
    check("serve ends with status 0 on end of input, an exec running", rc == 0, rc)


def signals(ws, user, argv):
    """The signal op: INT, TERM, KILL reach a command without a TTY (128+N);
    INT reaches a shell on a TTY; errors for what cannot be signalled. The
    execs run as user."""
    c = Client(argv)
    _, r = c.request("up", workspace=ws)
    check("up before signalling", r.get("ok"), r)
    _, out, _, close = c.exec(5, ws, ["id", "-un"])
    check("execs run as %s" % user, out == user.encode() + b"\n", out)
    for ch, sig, want in ((10, "INT", 130), (12, "TERM", 143), (14, "KILL", 137)):
        rid = c.exec_start(ch, ws, ["sleep", "300"])
        _, r = c.wait(rid)
        time.sleep(0.3)
        t = time.time()
        _, r = c.request("signal", channel=ch, signal=sig)
        took = time.time() - t
        out, err, close = c.exec_collect(ch)
        check("signal %s: answered {} in %.2f s, CLOSE status %d" % (sig, took, want),
              r.get("ok") and r.get("result") == {} and close.get("status") == want,
              (r, close))
    # A shell on a TTY with a trap; its background child is in its group.
    rid = c.exec_start(20, ws, ["sh", "-c", 'trap "exit 7" INT; echo ready; sleep 300 & wait'],
                       tty=True)
    _, r = c.wait(rid)
    t, ch, payload = c.next_matching(lambda fr: fr[1] == 20 and fr[0] == DATA, timeout=30)
    _, r = c.request("signal", channel=20, signal="INT")
    out, err, close = c.exec_collect(20)
    check("signal INT to a shell on a TTY runs its trap", r.get("ok") and
          close.get("status") == 7, (payload, out, close))
    # The stdin of a command without a TTY: a shell that traps TERM and goes on.
    rid = c.exec_start(22, ws, ["sh", "-c", 'trap "echo got-term" TERM; echo ready; '
                                'while :; do sleep 0.1; done'])
    _, r = c.wait(rid)
    c.next_matching(lambda fr: fr[1] == 22 and fr[0] == DATA, timeout=30)
    _, r = c.request("signal", channel=22, signal="TERM")
    t, ch, payload = c.next_matching(lambda fr: fr[1] == 22 and fr[0] == DATA, timeout=30)
    check("a trapped TERM: the command goes on", r.get("ok") and payload == b"got-term\n",
          (r, payload))
    _, r = c.request("signal", channel=22, signal="WINCH")
    check("WINCH is allowed", r.get("ok"), r)
    _, r = c.request("signal", channel=22, signal="STOP")
    check("an unknown signal name is refused", r.get("ok") is False and
          "INT, TERM" in r.get("error", ""), r)
    _, r = c.request("signal", channel=23, signal="INT")
    check("signal on the stderr channel is refused", r.get("ok") is False, r)
    c.send(CLOSE, 22)
    out, err, close = c.exec_collect(22)
    check("CLOSE from the client: the agent's CLOSE says so",
          close.get("error") == "closed by the peer", close)
    _, r = c.request("signal", channel=22, signal="INT")
    check("signal after the exec ended: no exec on that channel", r.get("ok") is False and
          "no exec" in r.get("error", ""), r)
    rc = c.close()
    check("serve ends with status 0", rc == 0, rc)


def pgrep(pattern):
    """Pids of processes on this machine whose command line matches pattern."""
    p = subprocess.run(["pgrep", "-f", pattern], stdout=subprocess.PIPE, text=True)
    return [int(x) for x in p.stdout.split()]


def vanish(ws, base, how, agent_path, argv):
    """Start execs of `sleep BASE..BASE+3` (no TTY, a TTY, a shell whose
    children ignore SIGHUP), then make the client vanish (how: kill = SIGKILL
    the client-side process, close = CLOSE on each channel); all the sleeps
    and the run's serve processes must be gone soon after."""
    base = int(base)
    serve_pat = "^%s serve$" % agent_path
    c = Client(argv)
    _, r = c.request("up", workspace=ws)
    check("up before vanishing", r.get("ok"), r)
    execs = ((10, ["sleep", str(base)], False),
             (20, ["sleep", str(base + 1)], True),
             (30, ["sh", "-c", "trap '' HUP; sleep %d & sleep %d & wait" % (base + 2, base + 3)],
              False))
    for ch, cmd, tty in execs:
        rid = c.exec_start(ch, ws, cmd, tty=tty)
        _, r = c.wait(rid)
        check("exec %s%s runs" % (" ".join(cmd), " (TTY)" if tty else ""), r.get("ok"), r)
    pat = "^sleep %d|^sleep %d|^sleep %d|^sleep %d" % (base, base + 1, base + 2, base + 3)
    deadline = time.time() + 10
    while len(pgrep(pat)) < 4 and time.time() < deadline:
        time.sleep(0.05)
    check("4 sleeps run on this machine", len(pgrep(pat)) == 4, pgrep(pat))
    t0 = time.time()
    if how == "kill":
        c.p.kill()
    else:
        for ch, _, _ in execs:
            c.send(CLOSE, ch)
    # The plain and the TTY sleep die of the SIGHUP; the children that ignore
    # it get SIGKILL 2 s later.
    hup_pat = "^sleep %d$|^sleep %d$" % (base, base + 1)
    first = hup = None
    while time.time() - t0 < 15:
        if first is None and not pgrep("^sleep %d$" % base):
            first = time.time() - t0
        if hup is None and not pgrep(hup_pat):
            hup = time.time() - t0
        if not pgrep(pat) and (how != "kill" or not pgrep(serve_pat)):
            break
        time.sleep(0.05)
    took = time.time() - t0
    print("measured: %s: plain exec gone after %.2f s, TTY exec after %.2f s, "
          "everything after %.2f s" % (how, first if first is not None else -1,
                                       hup if hup is not None else -1, took), flush=True)
    check("%s: the sleeps with and without a TTY gone within 5 s" % how,
          hup is not None and hup < 5, pgrep(hup_pat))
    check("%s: all gone (SIGKILL for what ignores SIGHUP) within 6 s (%.2f s)" % (how, took),
          not pgrep(pat) and took < 6, pgrep(pat))
    if how == "kill":
        check("kill: no serve process of this run left", not pgrep(serve_pat), pgrep(serve_pat))
    else:
        for ch, _, _ in execs:
            out, err, close = c.exec_collect(ch)
            check("close: channel %d closed by the peer" % ch,
                  close.get("error") == "closed by the peer", close)
        rc = c.close()
        check("serve ends with status 0", rc == 0, rc)


def mismatch(argv):
    """A HELLO with versions the agent does not speak gets FATAL."""
    p = subprocess.run(argv, input=frame(HELLO, 0, {"versions": [7, 9], "software": "future"}),
                       stdout=subprocess.PIPE, timeout=60)
    frames = []
    data = p.stdout
    while len(data) >= 12:
        length, _, ftype, ch = struct.unpack(">IHHI", data[:12])
        frames.append((ftype, data[12:12 + length]))
        data = data[12 + length:]
    check("version mismatch: HELLO then FATAL", [f[0] for f in frames] == [HELLO, FATAL], frames)
    msg = json.loads(frames[1][1])["error"]
    check("the FATAL names both ranges", "1..1" in msg and "7..9" in msg and "future" in msg, msg)
    check("serve exits non-zero after FATAL", p.returncode != 0, p.returncode)


if __name__ == "__main__":
    sep = sys.argv.index("--")
    args, cmd = sys.argv[1:sep], sys.argv[sep + 1:]
    if args[0] == "scenario":
        scenario(args[1], args[2], cmd)
    elif args[0] == "up-and-leave":
        up_and_leave(args[1], cmd)
    elif args[0] == "signals":
        signals(args[1], args[2], cmd)
    elif args[0] == "vanish":
        vanish(args[1], args[2], args[3], args[4], cmd)
    elif args[0] == "mismatch":
        mismatch(cmd)
    elif args[0] == "raw":
        raw(args[1], cmd)
    else:
        sys.exit("usage: proto_client.py scenario WS BUSYBOX_WS | up-and-leave WS | signals WS USER |"
                 " vanish WS BASE kill|close AGENT_PATH | mismatch | raw FILE  -- CMD...")
