#!/usr/bin/env python3
"""forward_client.py - TCP clients for tests/e2e/forward.sh and others
(stdlib only).

    forward_client.py halfclose PORT PATH    send an HTTP/1.0 GET, shut the
                                             write side, read the reply to
                                             EOF; print the body's sha256
    forward_client.py many PORT N            N connections to an echo server,
                                             all open at once, then each sends
                                             a message of its own and reads it
                                             back; print how many got theirs
    forward_client.py stall PORT PATH SECS   send a GET of PATH and read
                                             nothing for SECS seconds
    forward_client.py readstop PORT PATH BYTES SECS
                                             send a GET of PATH, read BYTES
                                             of the reply as fast as they
                                             come, print "stopped N", then
                                             read nothing for SECS seconds
    forward_client.py rawcut PORT PATH     send a GET of PATH and read the
                                             raw reply slowly (about 3 MB/s),
                                             print "started" at its first
                                             bytes, then how it ended:
                                             "eof N" (a clean end), "reset N"
                                             (an error) or "hang N" (nothing
                                             for 30 s), N the bytes read
    forward_client.py paused PORT GO       connect (a 64 KiB receive buffer)
                                             to a server that sends on its
                                             own, print "connected",
                                             read nothing until the file GO
                                             exists, then read to the end
                                             and print how it ended, as
                                             rawcut does ("no GO within 2
                                             min", exit 1, when it did not
                                             come)
    forward_client.py closed PORT            connect and read: print "closed"
                                             if the connection ends (EOF or
                                             reset) within 10 s, else "hang"
    forward_client.py upload PORT FILE       send FILE, shut the write side,
                                             read the reply to EOF and print
                                             its first word (a server that
                                             answers with the sha256 of what
                                             it got: `nc -e sha256sum`)
    forward_client.py upstall PORT SECS MAX  send as fast as the forward
                                             takes to a server that does not
                                             read, until it took nothing for
                                             2 s, SECS passed or it took MAX
                                             bytes; print how many it took,
                                             in all and in its last 2 s
"""
import hashlib
import os
import selectors
import socket
import sys
import time


def http_get(port, path):
    return ("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode()


def body_of(reply):
    head, _, body = reply.partition(b"\r\n\r\n")
    return head, body


def halfclose(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(http_get(port, path))
    s.shutdown(socket.SHUT_WR)
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    head, body = body_of(b"".join(chunks))
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0]:
        print("bad reply: %r" % head[:100])
        return 1
    print(hashlib.sha256(body).hexdigest())
    return 0


def many(port, n):
    socks = []
    for _ in range(n):
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=60))
    sel = selectors.DefaultSelector()
    want = {}
    for i, s in enumerate(socks):
        msg = ("message %d of %d\n" % (i, n)).encode() * 4
        s.sendall(msg)
        s.setblocking(False)
        want[s] = msg
        sel.register(s, selectors.EVENT_READ, bytearray())
    ok = 0
    deadline = time.time() + 120
    while sel.get_map() and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s, got = key.fileobj, key.data
            try:
                b = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                b = b""
            got += b
            if len(got) >= len(want[s]) or not b:
                ok += bytes(got) == want[s]
                sel.unregister(s)
                s.close()
    print(ok)
    return 0


def stall(port, path, secs):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(http_get(port, path))
    time.sleep(secs)
    s.close()
    return 0


def readstop(port, path, n, secs):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(http_get(port, path))
    got = 0
    while got < n:
        b = s.recv(min(1 << 20, n - got))
        if not b:
            break
        got += len(b)
    print("stopped %d" % got, flush=True)
    time.sleep(secs)
    s.close()
    return 0


def rawcut(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(http_get(port, path))
    return read_to_end(s, pause=0.02, started=True)


def paused(port, go):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # (a small receive buffer, not grown: the rest waits in the sender's)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    print("connected", flush=True)
    for _ in range(1200):
        if os.path.exists(go):
            break
        time.sleep(0.1)
    else:
        # (read now, the stream would pass whatever came before GO was
        # meant to: say so instead)
        print("no GO within 2 min", flush=True)
        s.close()
        return 1
    return read_to_end(s)


def read_to_end(s, pause=0.0, started=False):
    """Read s to its end (pause seconds after each read; started: print
    "started" at the first bytes): print "eof N", "reset N" or "hang N"
    (nothing for its timeout), N the bytes read."""
    got = 0
    how = "eof"
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            if got == 0 and started:
                print("started", flush=True)
            got += len(b)
            if pause:
                time.sleep(pause)
    except socket.timeout:
        how = "hang"
    except OSError:
        how = "reset"
    print("%s %d" % (how, got), flush=True)
    s.close()
    return 0


def upstall(port, secs, most):
    """Send to a server that does not read until the forward stops taking
    (nothing for 2 s), secs pass or it took most bytes: prints the bytes it
    took in all and in its last 2 s (0 when it stopped)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_WRITE)
    chunk, sent, taken = b"\0" * (1 << 20), 0, []
    now = time.monotonic()
    end, last = now + secs, now
    while now < end and now - last < 2 and sent < most:
        if sel.select(0.2):
            try:
                n = s.send(chunk)
                last = time.monotonic()
                sent += n
                taken.append((last, n))
            except BlockingIOError:
                pass
        now = time.monotonic()
    print(sent, sum(n for t, n in taken if t > now - 2), flush=True)
    s.close()
    return 0


def closed(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        b = s.recv(100)
        print("closed" if not b else "open")
    except socket.timeout:
        print("hang")
    except OSError:
        print("closed")
    return 0


def upload(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            s.sendall(b)
    s.shutdown(socket.SHUT_WR)
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
    words = b"".join(chunks).split()
    print(words[0].decode() if words else "no reply")
    return 0


def main():
    mode = sys.argv[1]
    if mode == "halfclose":
        return halfclose(int(sys.argv[2]), sys.argv[3])
    if mode == "many":
        return many(int(sys.argv[2]), int(sys.argv[3]))
    if mode == "stall":
        return stall(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    if mode == "readstop":
        return readstop(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    if mode == "rawcut":
        return rawcut(int(sys.argv[2]), sys.argv[3])
    if mode == "upstall":
        return upstall(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    if mode == "closed":
        return closed(int(sys.argv[2]))
    if mode == "paused":
        return paused(int(sys.argv[2]), sys.argv[3])
    if mode == "upload":
        return upload(int(sys.argv[2]), sys.argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
