#!/usr/bin/env python3
"""rst_server.py PORT SIZE - a TCP server on 127.0.0.1:PORT that answers each
connection's first byte with SIZE bytes, waits until the peer has them all
(its send queue is empty), then resets the connection (SO_LINGER 0; the rest
of the request unread), as a server that closes early does. For
tests/e2e/relay.sh: run in a container's network namespace (nsenter -n)."""
import fcntl
import socket
import struct
import sys
import termios
import time

port, size = int(sys.argv[1]), int(sys.argv[2])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(16)
while True:
    c, _ = l.accept()
    c.recv(1)
    c.sendall(b"r" * size)
    while struct.unpack("i", fcntl.ioctl(c, termios.TIOCOUTQ, b"\0" * 4))[0] > 0:
        time.sleep(0.01)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
