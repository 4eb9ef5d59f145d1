#!/usr/bin/env python3
"""forward_client.py - TCP clients for bench/forward.sh (stdlib only).

The servers they talk to run in the container (bench/forward.sh starts them):
a transfer server that answers "GET N\\n" with N zero bytes then EOF, and
"PUT N\\n" + bytes + EOF with the count of bytes it read, and an echo server.

    forward_client.py get HOST:PORT BYTES
        download BYTES; print "BYTES SECONDS" (from before connect to EOF)
    forward_client.py put HOST:PORT BYTES
        upload BYTES, shut the write side, wait for the server's count;
        print "BYTES SECONDS"
    forward_client.py pingpong ROUNDS BLOCK WARMUP NAME=HOST:PORT...
        one connection per NAME (TCP_NODELAY) to an echo server; WARMUP
        untimed round trips each, then ROUNDS timed 1-byte round trips each,
        in blocks of BLOCK that rotate between the NAMEs (so all see the same
        load); print "NAME P50_US P99_US MEAN_US MAX_US N" per NAME
    forward_client.py first ROUNDS PAUSE NAME=HOST:PORT...
        per round and NAME in turn: PAUSE seconds idle, then connect, send
        "GET 1\n" to the transfer server and wait for its byte: print "NAME
        MS" per connection (from before connect to the first byte: what a
        new connection costs after a pause, its setup's round trips)
    forward_client.py keys HOST:PORT N PAUSE
        one connection to an echo server, N 1-byte round trips PAUSE seconds
        apart (keystrokes in an interactive session); print "P50_US MAX_US N"
    forward_client.py hold HOST:PORT SECONDS
        one connection to an echo server, one byte echoed, then held open
        and idle for SECONDS (so that its path's processes can be found)
    forward_client.py idle HOST:PORT N
        open N connections to an echo server, then one message each way on
        every one, all at once (so each is connected end to end); print
        "ready N SECONDS" (SECONDS: until the last echo), then keep them open,
        idle, until stdin reaches EOF; then close them and print "closed"
"""
import resource
import selectors
import socket
import sys
import time

CHUNK = 1 << 20


def addr(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def connect(a):
    s = socket.create_connection(addr(a), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def get(a, n):
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    t0 = time.perf_counter()
    s = connect(a)
    s.sendall(b"GET %d\n" % n)
    got = 0
    while True:
        r = s.recv_into(view)
        if r == 0:
            break
        got += r
    t1 = time.perf_counter()
    s.close()
    if got != n:
        print("short transfer: %d of %d bytes" % (got, n), file=sys.stderr)
        return 1
    print("%d %.6f" % (got, t1 - t0))
    return 0


def put(a, n):
    view = memoryview(bytes(CHUNK))
    t0 = time.perf_counter()
    s = connect(a)
    s.sendall(b"PUT %d\n" % n)
    left = n
    while left > 0:
        k = min(left, CHUNK)
        s.sendall(view[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = s.recv(64)
        if not b:
            break
        reply += b
    t1 = time.perf_counter()
    s.close()
    if reply.strip() != b"%d" % n:
        print("server read %r, not %d bytes" % (reply.strip(), n), file=sys.stderr)
        return 1
    print("%d %.6f" % (n, t1 - t0))
    return 0


def roundtrips(s, n, out):
    one = b"x"
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        s.send(one)
        if s.recv(1) != one:
            raise RuntimeError("echo server closed or answered wrong")
        if out is not None:
            out.append(clock() - t0)


def pct(sorted_ns, p):
    # nearest rank
    k = max(1, -(-len(sorted_ns) * p // 100))
    return sorted_ns[int(k) - 1]


def pingpong(rounds, block, warmup, targets):
    names, socks, samples = [], [], []
    for t in targets:
        name, _, a = t.partition("=")
        names.append(name)
        socks.append(connect(a))
        samples.append([])
    for s in socks:
        roundtrips(s, warmup, None)
    done, turn = 0, 0
    while done < rounds:
        k = min(block, rounds - done)
        for i in range(len(socks)):
            j = (turn + i) % len(socks)
            roundtrips(socks[j], k, samples[j])
        done += k
        turn += 1
    for name, s, v in zip(names, socks, samples):
        s.close()
        v.sort()
        print("%s %.1f %.1f %.1f %.1f %d" % (name, pct(v, 50) / 1e3, pct(v, 99) / 1e3,
                                           sum(v) / len(v) / 1e3, v[-1] / 1e3, len(v)))
    return 0


def keys(a, n, pause):
    s = connect(a)
    v = []
    for _ in range(n):
        time.sleep(pause)
        roundtrips(s, 1, v)
    s.close()
    v.sort()
    print("%.1f %.1f %d" % (pct(v, 50) / 1e3, v[-1] / 1e3, len(v)))
    return 0


def hold(a, seconds):
    s = connect(a)
    roundtrips(s, 1, None)
    print("ready", flush=True)
    time.sleep(seconds)
    s.close()
    return 0


def idle(a, n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
    socks = [connect(a) for _ in range(n)]
    # One message each way on every connection, all at once (so that one
    # slow connection does not hold the others up).
    want, got = {}, {}
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        want[s] = b"hello %d\n" % i
        got[s] = b""
        s.sendall(want[s])
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    t0 = time.time()
    while sel.get_map() and time.time() - t0 < 600:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                b = s.recv(64)
            except BlockingIOError:
                continue
            if not b:
                print("a connection closed early", file=sys.stderr)
                return 1
            got[s] += b
            if len(got[s]) >= len(want[s]):
                if got[s] != want[s]:
                    print("echo %r, not %r" % (got[s], want[s]), file=sys.stderr)
                    return 1
                sel.unregister(s)
    if sel.get_map():
        print("%d connections got no echo in 600 s" % len(sel.get_map()), file=sys.stderr)
        return 1
    print("ready %d %.1f" % (len(socks), time.time() - t0), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()
    print("closed", flush=True)
    return 0


def first(rounds, pause, targets):
    for _ in range(rounds):
        for t in targets:
            name, a = t.split("=", 1)
            time.sleep(pause)
            t0 = time.perf_counter()
            s = connect(a)
            s.sendall(b"GET 1\n")
            if not s.recv(1):
                print("%s: closed before the first byte" % name, file=sys.stderr)
                return 1
            t1 = time.perf_counter()
            s.close()
            print("%s %.1f" % (name, (t1 - t0) * 1e3), flush=True)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] in ("get", "put"):
        return (get if argv[0] == "get" else put)(argv[1], int(argv[2]))
    if len(argv) >= 5 and argv[0] == "pingpong":
        return pingpong(int(argv[1]), int(argv[2]), int(argv[3]), argv[4:])
    if len(argv) >= 4 and argv[0] == "first":
        return first(int(argv[1]), float(argv[2]), argv[3:])
    if len(argv) == 4 and argv[0] == "keys":
        return keys(argv[1], int(argv[2]), float(argv[3]))
    if len(argv) == 3 and argv[0] == "hold":
        return hold(argv[1], float(argv[2]))
    if len(argv) == 3 and argv[0] == "idle":
        return idle(argv[1], int(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
