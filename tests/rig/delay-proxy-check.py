#!/usr/bin/env python3
"""delay-proxy-check.py - measure the rig's delay proxy (tests/rig/delay-proxy.c,
built by `rig.sh delay-proxy-bin`, or $RDEV_DELAY_PROXY) against a server of
its own (no running rig needed; e2e/rig-delay runs it).

    delay-proxy-check.py pingpong RTT_MS ROUNDS
        1-byte round trips through a proxy of RTT_MS; prints
        "pingpong RTT_MS min=MS p50=MS p99=MS max=MS connect=MS" (connect: the
        connect until the first echo, which pays the proxy's one-RTT
        connect and one round trip)
    delay-proxy-check.py bulk RTT_MS BYTES
        BYTES from the server through a proxy of RTT_MS, and BYTES to it;
        prints "bulk RTT_MS down=MB/s up=MB/s" (10^6 bytes per second);
        the bytes are checked (a counter pattern, not zeros)
    delay-proxy-check.py halfclose RTT_MS BYTES
        the server half-closes first and reads late; BYTES to it through a
        proxy of RTT_MS and a --max-queue of 64 KiB, then the client's EOF
        (the proxy, paused, sees the client hang up with the bytes still in
        its socket); prints "halfclose RTT_MS got=N of BYTES", exits 1 when
        they are not all there
    delay-proxy-check.py fdlimit RTT_MS
        a proxy of RTT_MS allowed 32 fds, 30 echo connections at once (more
        than it can hold), then all closed and one more; prints "fdlimit
        RTT_MS alive=0|1 echo=0|1" (still running; the last one echoes),
        exits 1 unless both are 1
    delay-proxy-check.py direct BYTES
        the same bulk transfer without the proxy (the ceiling)

The server (a thread here, on an ephemeral port) reads a first line: "ECHO"
echoes until EOF; "GET N" sends N bytes of the pattern; "PUT N" reads N
bytes, checks them, answers "ok N" or "bad"; "HALF" shuts its side, waits
a second, and counts what it reads until EOF (in HALF_GOT).
"""
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def proxy_program():
    """The delay proxy's path: $RDEV_DELAY_PROXY, or what rig.sh builds."""
    if os.environ.get("RDEV_DELAY_PROXY"):
        return os.environ["RDEV_DELAY_PROXY"]
    return subprocess.run(["bash", os.path.join(HERE, "rig.sh"), "delay-proxy-bin"],
                          check=True, stdout=subprocess.PIPE).stdout.decode().strip()
CHUNK = 1 << 20
# The pattern repeats every 256 bytes; a chunk at any offset is a view into
# this, not a copy.
PATTERN = memoryview(bytes(range(256)) * (CHUNK // 256 + 1))


def pattern(offset, n):
    """A view of n (at most CHUNK) bytes of the stream's pattern starting at
    offset."""
    k = offset % 256
    return PATTERN[k:k + n]


def recv_line(c):
    line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            return None
        line += b
    return line.decode().split()


HALF_GOT = []  # what each HALF read


def serve_one(c):
    with c:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cmd = recv_line(c)
        if not cmd:
            return
        if cmd[0] == "ECHO":
            while True:
                b = c.recv(65536)
                if not b:
                    return
                c.sendall(b)
        elif cmd[0] == "GET":
            n, off = int(cmd[1]), 0
            while off < n:
                k = min(CHUNK, n - off)
                c.sendall(pattern(off, k))
                off += k
        elif cmd[0] == "HALF":
            c.shutdown(socket.SHUT_WR)
            time.sleep(1)
            n = 0
            while True:
                b = c.recv(CHUNK)
                if not b:
                    break
                n += len(b)
            HALF_GOT.append(n)
        elif cmd[0] == "PUT":
            n, off, ok = int(cmd[1]), 0, True
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            while off < n:
                r = c.recv_into(buf)
                if r == 0:
                    break
                ok = ok and view[:r] == pattern(off, r)
                off += r
            c.sendall(b"ok %d\n" % off if ok and off == n else b"bad\n")


def server():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)

    def loop():
        while True:
            c, _ = ls.accept()
            threading.Thread(target=serve_one, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return ls.getsockname()[1]


class Proxy:
    """The delay proxy on an ephemeral port in front of `port`."""

    def __init__(self, port, rtt_ms, nice=None, extra=(), preexec_fn=None):
        extra = list(extra) + ([] if nice is None else ["--nice", str(nice)])
        self.p = subprocess.Popen([proxy_program()] + extra +
                                  ["0", "127.0.0.1:%d" % port, str(rtt_ms)],
                                  stdout=subprocess.PIPE, preexec_fn=preexec_fn)
        line = self.p.stdout.readline().decode()
        if not line.startswith("listening "):
            raise SystemExit("delay-proxy did not start: %r" % line)
        self.port = int(line.rsplit(":", 1)[1])

    def close(self):
        self.p.terminate()
        self.p.wait()


def connect(port, first):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(first)
    return s


def ms(t):
    return "%.1f" % (t * 1000)


def pingpong(rtt_ms, rounds):
    proxy = Proxy(server(), rtt_ms)
    try:
        t0 = time.perf_counter()
        s = connect(proxy.port, b"ECHO\nx")
        if s.recv(1) != b"x":
            raise SystemExit("no echo")
        first = time.perf_counter() - t0
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            s.sendall(b"y")
            if s.recv(1) != b"y":
                raise SystemExit("no echo")
            times.append(time.perf_counter() - t0)
        s.close()
    finally:
        proxy.close()
    times.sort()
    print("pingpong %s min=%s p50=%s p99=%s max=%s connect=%s" % (
        rtt_ms, ms(times[0]), ms(times[len(times) // 2]),
        ms(times[min(len(times) - 1, -(-len(times) * 99 // 100) - 1)]), ms(times[-1]), ms(first)))


def transfer(port, n):
    """(down MB/s, up MB/s) of n bytes each way through `port`."""
    s = connect(port, b"GET %d\n" % n)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    t0 = time.perf_counter()
    off = 0
    while off < n:
        r = s.recv_into(buf)
        if r == 0:
            raise SystemExit("download: EOF after %d of %d bytes" % (off, n))
        if view[:r] != pattern(off, r):
            raise SystemExit("download: wrong bytes at offset %d" % off)
        off += r
    down = n / (time.perf_counter() - t0) / 1e6
    s.close()
    s = connect(port, b"PUT %d\n" % n)
    t0 = time.perf_counter()
    off = 0
    while off < n:
        k = min(CHUNK, n - off)
        s.sendall(pattern(off, k))
        off += k
    reply = recv_line(s)
    up = n / (time.perf_counter() - t0) / 1e6
    s.close()
    if reply != ["ok", str(n)]:
        raise SystemExit("upload: the server says %r" % reply)
    return down, up


def bulk(rtt_ms, n):
    # At the endpoints' priority: raised above this process (the default),
    # the proxy wakes for each small read and 50 MB at 0 ms went at 50-80
    # MB/s where it goes at 130-350 at load 4 (the raise is for latency).
    proxy = Proxy(server(), rtt_ms, nice=0)
    try:
        down, up = transfer(proxy.port, n)
    finally:
        proxy.close()
    print("bulk %s down=%.0f up=%.0f" % (rtt_ms, down, up))


def halfclose(rtt_ms, n):
    proxy = Proxy(server(), rtt_ms, extra=["--max-queue", "65536"])
    try:
        s = connect(proxy.port, b"HALF\n")
        if s.recv(1) != b"":
            raise SystemExit("halfclose: the server's EOF did not come")
        off = 0
        while off < n:
            k = min(CHUNK, n - off)
            s.sendall(pattern(off, k))
            off += k
        s.shutdown(socket.SHUT_WR)
        t0 = time.time()
        while not HALF_GOT and time.time() - t0 < 60:
            time.sleep(0.05)
        s.close()
    finally:
        proxy.close()
    got = HALF_GOT[0] if HALF_GOT else -1
    print("halfclose %s got=%d of %d" % (rtt_ms, got, n))
    return 0 if got == n else 1


def fdlimit(rtt_ms):
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    proxy = Proxy(server(), rtt_ms, preexec_fn=limit)
    try:
        conns = []
        for _ in range(30):
            try:
                conns.append(connect(proxy.port, b"ECHO\n"))
            except OSError:
                pass
        time.sleep(0.3 + rtt_ms / 1000 * 2)
        for c in conns:
            c.close()
        time.sleep(0.3 + rtt_ms / 1000 * 2)
        alive = proxy.p.poll() is None
        echo = False
        if alive:
            try:
                s = connect(proxy.port, b"ECHO\nx")
                s.settimeout(10)
                echo = s.recv(1) == b"x"
                s.close()
            except OSError:
                pass
    finally:
        proxy.close()
    print("fdlimit %s alive=%d echo=%d" % (rtt_ms, alive, echo))
    return 0 if alive and echo else 1


def main(argv):
    if len(argv) == 3 and argv[0] == "pingpong":
        pingpong(float(argv[1]), int(argv[2]))
    elif len(argv) == 3 and argv[0] == "bulk":
        bulk(float(argv[1]), int(argv[2]))
    elif len(argv) == 3 and argv[0] == "halfclose":
        return halfclose(float(argv[1]), int(argv[2]))
    elif len(argv) == 2 and argv[0] == "fdlimit":
        return fdlimit(float(argv[1]))
    elif len(argv) == 2 and argv[0] == "direct":
        down, up = transfer(server(), int(argv[1]))
        print("direct down=%.0f up=%.0f" % (down, up))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
