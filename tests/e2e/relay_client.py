#!/usr/bin/env python3
"""relay_client.py - test client for the container relay (docs/PROTOCOL.md,
"The container relay") and the `relay` operation of `rdev-agent serve`.

  relay_client.py op WORKSPACE [SERVICE] -- CMD...   run the op, print the response JSON
  relay_client.py checks RESULT_JSON LOCAL_PORT ANY_PORT ECHO_PORT HASH SIZE
        the data-path checks against a relay: LOCAL_PORT is an HTTP server bound
        to 127.0.0.1 serving /big (SIZE bytes, sha256 HASH), ANY_PORT the same
        on 0.0.0.0, ECHO_PORT an echo server (tests/rig/echo-server.pl)
  relay_client.py listing RESULT_JSON                 print the 'L' answer
  relay_client.py probe RESULT_JSON                   exit 0 if the relay answers
  relay_client.py takeport PORT PIDS READY ANSWER [ANSWERED [GO]]
        another program on a relay's port (run in the container's network
        namespace, nsenter -n): once the file GO exists (if given: started
        early, it kills and binds at a signal), kill PIDS (SIGKILL;
        space-separated, may be empty; one already gone is no error), bind
        PORT on 0.0.0.0 as soon as it is free (within 10 s), create the file
        READY ("-": none), then answer each connection as ANSWER says:
        "silent" holds it and says nothing, "close" closes it at once,
        "digits" reads a relay header and answers digit lines that are no
        relay's listing; a line is appended to the file ANSWERED ("-": none)
        for each connection answered ("silent", "close", "digits"), so that
        a test knows whether anything reached the program

It prints "ok   what" per check and exits 1 on the first failure.
"""
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MAGIC = b"RDEVRLY1"


def check(what, cond, detail=""):
    if not cond:
        print("FAIL %s %s" % (what, detail), flush=True)
        sys.exit(1)
    print("ok   %s" % what, flush=True)


def header(token_hex, cmd, port=None):
    h = MAGIC + bytes.fromhex(token_hex) + cmd
    if port is not None:
        h += struct.pack(">H", port)
    return h


def open_c(r, port, timeout=30):
    """Connect through the relay to the container's port: (socket, reply byte)."""
    s = socket.create_connection((r["address"], r["port"]), timeout=timeout)
    s.sendall(header(r["token"], b"C", port))
    rep = s.recv(1)
    return s, (rep[0] if rep else None)


def read_all(s):
    chunks = []
    while True:
        d = s.recv(1 << 20)
        if not d:
            return b"".join(chunks)
        chunks.append(d)


def listing(r, token=None):
    s = socket.create_connection((r["address"], r["port"]), timeout=10)
    s.sendall(header(token or r["token"], b"L"))
    out = read_all(s)
    s.close()
    return out.decode()


def http_get(s, path, half_close):
    s.sendall(b"GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path.encode())
    if half_close:
        s.shutdown(socket.SHUT_WR)
    data = read_all(s)
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def checks(r, local_port, any_port, echo_port, want_hash, size):
    # The header must come within 10 s: a silent client is dropped. It
    # connects first and a thread sees its end, so that the 10 s pass while
    # the other checks run (the check is the last one).
    silent = socket.create_connection((r["address"], r["port"]), timeout=30)
    silent_t0 = time.time()
    silent_end = {}

    def watch_silent():
        try:
            got = silent.recv(1)
        except OSError:
            got = None
        silent_end["got"], silent_end["t"] = got, time.time()

    watcher = threading.Thread(target=watch_silent, daemon=True)
    watcher.start()

    lines = listing(r).splitlines()
    check("'L' lists the server bound to 127.0.0.1", "%d 127.0.0.1" % local_port in lines,
          repr(lines))
    check("'L' lists the server bound to 0.0.0.0",
          "%d 0.0.0.0" % any_port in lines or "%d ::" % any_port in lines, repr(lines))
    check("'L' leaves out the relay's own port",
          not any(l.split()[0] == str(r["port"]) for l in lines), repr(lines))
    check("'L' lines are PORT ADDRESS",
          all(len(l.split()) == 2 and l.split()[0].isdigit() for l in lines), repr(lines))

    for what, port in (("127.0.0.1", local_port), ("0.0.0.0", any_port)):
        s, rep = open_c(r, port)
        check("connect to the server on %s answers 0" % what, rep == 0, repr(rep))
        t = time.time()
        head, body = http_get(s, "/big", half_close=False)
        dt = time.time() - t
        s.close()
        check("%d MB from the server on %s arrive intact (busybox httpd: %.0f MB/s)" % (
            size >> 20, what, len(body) / dt / 1e6),
            len(body) == size and hashlib.sha256(body).hexdigest() == want_hash,
            "got %d bytes" % len(body))

    # Half close: the request, then our write side shut; the answer still comes.
    s, rep = open_c(r, local_port)
    head, body = http_get(s, "/small", half_close=True)
    s.close()
    check("half-close: the reply comes after the client shut its write side",
          b" 200 " in head.split(b"\r\n")[0] and body == b"hello relay\n", repr(head[:40]))

    # Echo with half close, from the other side: the server sees EOF, replies, closes.
    s, rep = open_c(r, echo_port)
    payload = os.urandom(3 << 20)
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    back = read_all(s)
    s.close()
    check("echo of 3 MB with half-close comes back whole", back == payload,
          "%d bytes" % len(back))

    s, rep = open_c(r, 1)
    check("connect to a closed port answers 1 (refused)", rep == 1, repr(rep))
    check("and the relay closes the connection", s.recv(1) == b"")
    s.close()

    # Wrong token, bad magic, unknown command: closed without a byte.
    bad = "00" * 32 if r["token"] != "00" * 32 else "11" * 32
    for what, data in (("a wrong token", header(bad, b"C", local_port)),
                       ("a bad magic", b"RDEVRLY0" + bytes.fromhex(r["token"]) + b"L"),
                       ("an unknown command", header(r["token"], b"Q"))):
        s = socket.create_connection((r["address"], r["port"]), timeout=10)
        s.sendall(data)
        try:
            got = s.recv(16)
        except ConnectionResetError:
            got = b""
        s.close()
        check("%s is closed without a reply" % what, got == b"", repr(got))

    # Many at once: all connected before any sends.
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = 1000
    socks = []
    t = time.time()
    for i in range(n):
        s, rep = open_c(r, echo_port, timeout=60)
        if rep != 0:
            check("connection %d of %d through one relay" % (i, n), False, repr(rep))
        socks.append(s)
    for i, s in enumerate(socks):
        s.sendall(b"conn %d\n" % i)
        s.shutdown(socket.SHUT_WR)
    good = 0
    for i, s in enumerate(socks):
        if read_all(s) == b"conn %d\n" % i:
            good += 1
        s.close()
    check("%d concurrent connections through one relay, each echoed (%.1f s)" % (
        n, time.time() - t), good == n, "%d good" % good)

    # The silent client of the start.
    watcher.join(30)
    silent.close()
    dt = silent_end.get("t", time.time()) - silent_t0
    check("a client silent for 10 s is closed (after %.1f s)" % dt,
          silent_end.get("got") == b"" and 9 <= dt <= 13, repr(silent_end))


def rstreply(r, port, size):
    """A server that answers SIZE bytes and then resets the connection (it
    closes with our request unread): every byte must still arrive, then
    the reset (print "N reset", or "N eof" for a clean end)."""
    s, rep = open_c(r, port)
    if rep != 0:
        print("reply %r" % rep)
        return
    s.sendall(b"request\n")
    # (read late: the reset comes while the relay still holds the answer)
    time.sleep(1)
    got, how = 0, "eof"
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            got += len(d)
    except ConnectionResetError:
        how = "reset"
    print(got, how)


def replaced(relay_bin, tmp):
    """A relay (run here, not in a container) whose port file is taken over
    serves the connections already queued on its listeners (they hold its
    token: brokers whose target it still is), then accepts nothing more (a
    later connection is refused: the broker asks the agent again), and
    exits. The relay is stopped while its file changes and the connections
    queue, so that it finds both at once when it runs again."""
    import signal
    import subprocess
    token = os.urandom(32).hex()
    port_file = os.path.join(tmp, "replaced.port")
    open(port_file, "w").close()
    # (a listening port of ours, so that a listing is never empty)
    own = socket.socket()
    own.bind(("127.0.0.1", 0))
    own.listen(1)
    p = subprocess.Popen([relay_bin, "--port-file", port_file],
                         env=dict(os.environ, RDEV_RELAY_TOKEN=token))
    queued = []
    try:
        deadline = time.time() + 5
        port = 0
        while time.time() < deadline and port == 0:
            with open(port_file) as f:
                t = f.read()
            port = int(t) if t.endswith("\n") else 0
            time.sleep(0.01)
        r = {"address": "127.0.0.1", "port": port, "token": token}
        check("replaced: the relay lists before it is replaced",
              " 127.0.0.1\n" in listing(r))
        p.send_signal(signal.SIGSTOP)
        with open(port_file + ".tmp", "w") as f:
            f.write("1\n")
        os.rename(port_file + ".tmp", port_file)
        # (the kernel completes these handshakes while the relay sleeps)
        for i in range(3):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(header(token, b"L"))
            queued.append(s)
        p.send_signal(signal.SIGCONT)
        got = []
        for s in queued:
            try:
                got.append(read_all(s).decode())
            except OSError as e:
                got.append(repr(e))
            s.close()
        check("replaced: the connections queued when it was replaced are "
              "served", all(" 127.0.0.1\n" in g for g in got), repr(got))
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.close()
            refused = False
        except ConnectionRefusedError:
            refused = True
        check("replaced: a later connection is refused", refused)
        try:
            p.wait(timeout=5)
            gone = True
        except subprocess.TimeoutExpired:
            gone = False
        check("replaced: and the relay exits", gone)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.kill()
            p.wait()
        own.close()


def takeport(port, pids, ready, answer, answered="-", go=None):
    """Kill the relay and take its port in one program: nothing else can
    bind it between the two (the broker may be stopped meanwhile, so that
    none of its connections falls between them either)."""
    import signal
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if go is not None:
        # (started before the broker is stopped: the stop lasts only the
        # kill and the bind, not this program's start)
        deadline = time.time() + 60
        while not os.path.exists(go):
            if time.time() > deadline:
                sys.exit("takeport: no go signal (%s) in 60 s" % go)
            time.sleep(0.001)
    for pid in pids.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass  # (gone already: its port is free all the same)
    deadline = time.time() + 10
    while True:
        try:
            s.bind(("0.0.0.0", port))
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.001)
    s.listen(64)
    if ready != "-":
        open(ready, "w").close()

    def note(what):
        if answered != "-":
            with open(answered, "a") as f:
                f.write("%s %.3f\n" % (what, time.time()))

    held = []
    while True:
        c, _ = s.accept()
        if answer == "silent":
            held.append(c)
            note("silent")
            continue
        if answer == "digits":
            # (the header read first: a close with it unread would be a
            # reset, which the auto-forward watch takes for a failed
            # listing, not for this answer)
            c.settimeout(2)
            got = b""
            want = len(header("00" * 32, b"L"))
            try:
                while len(got) < want:
                    d = c.recv(want - len(got))
                    if not d:
                        break
                    got += d
                note("digits")  # (before the answer: noted once it is read)
                c.sendall(b"4242 127.0.0.1\n4343\n")
            except OSError:
                pass
        if answer == "close":
            # (noted before the close: a client that met the close may look
            # at once)
            note("close")
        c.close()


def run_op(ws, service, argv):
    from proto_client import Client
    c = Client(argv)
    _, resp = c.request("relay", workspace=ws, config=None, service=service)
    c.close()
    print(json.dumps(resp))


def main():
    mode = sys.argv[1]
    if mode == "op":
        i = sys.argv.index("--")
        args = sys.argv[2:i]
        run_op(args[0], args[1] if len(args) > 1 else None, sys.argv[i + 1:])
    elif mode == "checks":
        r = json.loads(sys.argv[2])
        checks(r, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6],
               int(sys.argv[7]))
    elif mode == "rstreply":
        rstreply(json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "replaced":
        replaced(sys.argv[2], sys.argv[3])
    elif mode == "listing":
        sys.stdout.write(listing(json.loads(sys.argv[2])))
    elif mode == "takeport":
        if sys.argv[5] not in ("silent", "close", "digits"):
            sys.exit("takeport: unknown answer %s" % sys.argv[5])
        takeport(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5],
                 sys.argv[6] if len(sys.argv) > 6 else "-",
                 sys.argv[7] if len(sys.argv) > 7 else None)
    elif mode == "probe":
        # A relay with this token answers a connect to port 1 with 1 (refused).
        r = json.loads(sys.argv[2])
        try:
            s, rep = open_c(r, 1, timeout=5)
            sys.exit(0 if rep == 1 else 1)
        except OSError:
            sys.exit(1)
    else:
        sys.exit("unknown mode %s" % mode)


if __name__ == "__main__":
    main()
