#!/usr/bin/env python3
"""reset_peer.py - both ends of a TCP connection that ends with a reset,
for tests/e2e/forward-reset.sh (stdlib only).

    reset_peer.py serve ADDR PORT SIZE   a server: each connection's first
                                         byte is answered with SIZE bytes;
                                         once they are all sent (its send
                                         queue empty) it resets the
                                         connection (SO_LINGER 0)
    reset_peer.py sink ADDR PORT OUT [DELAY]
                                         a server: sends "!" on each
                                         connection, reads it to its end and
                                         appends how it ended to OUT: "eof
                                         N", "reset N", N the bytes read;
                                         with DELAY, it starts reading DELAY
                                         seconds after the "!" (the bytes
                                         wait on the way, its client's reset
                                         comes before they are read)
    reset_peer.py read PORT [DELAY]      a client of 127.0.0.1:PORT: sends
                                         one byte, reads to the end (from
                                         DELAY seconds after), prints
                                         "eof N", "reset N" or "hang N"
                                         (nothing for 30 s)
    reset_peer.py reset PORT SIZE        a client: reads the sink's "!" (the
                                         forward reached it: a reset before
                                         that ends a connection the server
                                         never sees), sends SIZE bytes,
                                         waits until they are sent, then
                                         resets its connection (SO_LINGER 0)
    reset_peer.py pause ADDR PORT OUT FAST DELAY
                                         a server: sends "!", reads FAST
                                         bytes, stops reading for DELAY
                                         seconds (the bytes back up to the
                                         client), sends "?" (a write to a
                                         client that reset) and reads to
                                         the end; appends as sink does
    reset_peer.py flood-reset PORT [IDLE]
                                         a client: sends until its sends
                                         stop going for IDLE seconds (1),
                                         prints what left its socket,
                                         resets
    reset_peer.py slow-sink ADDR PORT OUT DELAY
                                         a server: writes 1 kB each 10 ms
                                         from the start (until a write
                                         fails), reads from DELAY seconds
                                         after, to the end; appends how its
                                         reads ended, as sink does, and
                                         whether its writes failed (within
                                         3 s of that end): "eof N, writes
                                         failed"
    reset_peer.py upload-reset PORT SIZE a client (of slow-sink): sends SIZE
                                         bytes, half-closes, waits until
                                         they and its FIN are sent, reads
                                         some of the reply, then resets
    reset_peer.py serve-asked ADDR PORT  as serve, but SIZE is what each
                                         connection's first line asks
    reset_peer.py gone PORT SIZE...      a client per SIZE at once, of
                                         serve-asked: asks for SIZE, reads
                                         nothing (small receive buffer), and
                                         closes after 3 s: gone while the
                                         forward may still hold bytes
"""
import fcntl
import socket
import struct
import sys
import termios
import threading
import time


def outq(s):
    return struct.unpack("i", fcntl.ioctl(s, termios.TIOCOUTQ, b"\0" * 4))[0]


def wait_sent(s):
    """Wait until s's send queue is empty (all it was given has left)."""
    while outq(s) > 0:
        time.sleep(0.01)


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def send_reset(s, data):
    """Send data, wait until it has left, then reset."""
    s.sendall(data)
    wait_sent(s)
    reset(s)


def read_to_end(s):
    """Read s to its end: how it ended ("eof", "reset", "hang") and the
    bytes read."""
    got, how = 0, "eof"
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
    except socket.timeout:
        how = "hang"
    except ConnectionResetError:
        how = "reset"
    return how, got


def read_end(s):
    how, got = read_to_end(s)
    s.close()
    return "%s %d" % (how, got)


def listener(addr, port):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port))
    l.listen(16)
    return l


def each_connection(addr, port, greet=True, timeout=30):
    """Accept connections forever, one at a time, yielding each (its
    reads time out after timeout s; greeted with "!" unless greet is
    false)."""
    l = listener(addr, port)
    while True:
        c, _ = l.accept()
        c.settimeout(timeout)
        if greet:
            c.sendall(b"!")
        yield c


def record(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def connect(port, greeted=False):
    """A client of 127.0.0.1:port; with greeted, None unless the server's
    first byte is "!" (said on stdout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    if greeted and s.recv(1) != b"!":
        print("no ! from the server", flush=True)
        return None
    return s


def main():
    mode = sys.argv[1]
    if mode == "serve":
        l = listener(sys.argv[2], int(sys.argv[3]))
        size = int(sys.argv[4])
        while True:
            c, _ = l.accept()
            c.recv(1)
            send_reset(c, b"r" * size)
    if mode == "serve-asked":
        l = listener(sys.argv[2], int(sys.argv[3]))

        def answer(c):
            line = b""
            while not line.endswith(b"\n"):
                line += c.recv(1)
            try:
                send_reset(c, b"r" * int(line))
            except OSError:
                c.close()

        while True:
            c, _ = l.accept()
            threading.Thread(target=answer, args=(c,), daemon=True).start()
    if mode == "sink":
        delay = float(sys.argv[5]) if len(sys.argv) > 5 else 0
        for c in each_connection(sys.argv[2], int(sys.argv[3])):
            time.sleep(delay)
            record(sys.argv[4], read_end(c))
    if mode == "slow-sink":
        delay = float(sys.argv[5])
        for c in each_connection(sys.argv[2], int(sys.argv[3]), greet=False):
            failed = threading.Event()

            def writer(c=c, failed=failed):
                try:
                    while True:
                        c.send(b"w" * 1000)
                        time.sleep(0.01)
                except OSError:
                    failed.set()

            threading.Thread(target=writer, daemon=True).start()
            time.sleep(delay)
            how, got = read_to_end(c)
            # (not closed yet: a write to a closed socket fails too)
            writes = "failed" if failed.wait(3) else "went on"
            c.close()
            record(sys.argv[4], "%s %d, writes %s" % (how, got, writes))
    if mode == "pause":
        # reads FAST bytes, stops reading for DELAY seconds, then sends "?"
        # (a write to the client that reset) and reads to the end
        fast, delay = int(sys.argv[5]), float(sys.argv[6])
        for c in each_connection(sys.argv[2], int(sys.argv[3])):
            n = 0
            while n < fast:
                b = c.recv(min(65536, fast - n))
                if not b:
                    break
                n += len(b)
            time.sleep(delay)
            c.sendall(b"?")
            how, got = read_to_end(c)
            c.close()
            record(sys.argv[4], "%s %d" % (how, n + got))
    if mode == "echo":
        # writes back what it reads, as it reads (blocking), and records
        # how its connection ended and how much it read
        for c in each_connection(sys.argv[2], int(sys.argv[3]), timeout=None):
            n, end, echo = 0, "eof", True
            try:
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    n += len(d)
                    try:
                        if echo:
                            c.sendall(d)
                    except OSError:
                        # (a write may meet the reset first: what its
                        # socket took before it is still read)
                        echo = False
            except ConnectionResetError:
                end = "reset"
            except OSError as e:
                end = "error %s" % e
            c.close()
            record(sys.argv[4], "%s %d" % (end, n))
    if mode == "flood-reset":
        # sends without reading until its sends stop going, then resets;
        # prints what left its socket
        s = connect(int(sys.argv[2]), greeted=True)
        if s is None:
            return 1
        s.setblocking(False)
        sent, idle, chunk = 0, 0.0, b"f" * 65536
        limit = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
        while idle < limit:
            try:
                sent += s.send(chunk)
                idle = 0.0
            except BlockingIOError:
                time.sleep(0.05)
                idle += 0.05
        print(sent - outq(s), flush=True)
        reset(s)
        return 0
    if mode == "read":
        s = connect(int(sys.argv[2]))
        s.sendall(b"x")
        time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 0)
        print(read_end(s), flush=True)
        return 0
    if mode == "reset":
        s = connect(int(sys.argv[2]), greeted=True)
        if s is None:
            return 1
        send_reset(s, b"u" * int(sys.argv[3]))
        return 0
    if mode == "upload-reset":
        s = connect(int(sys.argv[2]))
        s.sendall(b"u" * int(sys.argv[3]))
        s.shutdown(socket.SHUT_WR)
        wait_sent(s)
        if not s.recv(100):
            print("no reply from the server", flush=True)
            return 1
        reset(s)
        return 0
    if mode == "gone":

        def gone(size):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            s.connect(("127.0.0.1", int(sys.argv[2])))
            s.sendall(b"%d\n" % size)
            time.sleep(3)
            s.close()

        ts = [threading.Thread(target=gone, args=(int(n),)) for n in sys.argv[3:]]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
