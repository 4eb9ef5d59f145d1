#!/usr/bin/env python3
"""delay-proxy.py - a TCP proxy that delays each direction by half a round
trip: the rig's stand-in for a distant host (tc netem is not available on
these machines).

    delay-proxy.py [--listen ADDR] [--max-queue BYTES] [--pidfile FILE]
                   [--nice N] PORT TARGET_HOST:TARGET_PORT RTT_MS

Listens on ADDR:PORT (default 127.0.0.1; PORT 0: one the kernel picks). Each accepted connection is
connected to the target one RTT later (the SYN and SYN-ACK a real link
would take); then every chunk read on either side is queued with the time it
is due, RTT_MS / 2 after it arrived, and written to the other side when that
time comes, in order. An EOF travels the same way (a half-close is passed on
as one), and so does a reset, after the data before it.

It delays, it does not limit: it reads each side as fast as the data comes
and keeps what is not due yet, so the only cap on throughput is the one the
delay implies for the endpoints' own windows (a real link of that length with
unlimited bandwidth). What it keeps per direction is bounded (--max-queue,
default 64 MiB, queued plus not yet written to the other side): above it, it
stops reading that side until half of it is gone (at 80 ms RTT that allows
1.6 GB/s). Python standard library only; asyncio protocols, one thread.

A link does not wait for the machine's CPU, so the proxy raises its own
priority (--nice, default -10: when it may, i.e. as root; else it runs as
it is). On the shared 2-core machines at load 12-13, a 1-byte round trip
through a 40 ms proxy (delay-proxy-check.py pingpong, 250 rounds) took
p50 54-55 / p99 153 ms at nice 0 and 47 / 77-96 ms at -10: the proxy's
own wake-ups were most of the tail that keystroke echo through it showed.
Each chunk is written when its timer fires: asyncio rounds a wait up to
the next millisecond (epoll), so a direction adds up to 1 ms (idle: a
round trip of 80 ms takes 81.1-82 ms, p50).

Prints "listening ADDR:PORT" (the port it got) on stdout once it accepts
connections.
"""
import argparse
import asyncio
import collections
import os
import socket
import sys


class Direction:
    """One direction of a proxied connection: bytes read from `src` wait in a
    queue of (due time, data) until they are due, then go to `dst`. data None
    is the EOF."""

    def __init__(self, conn, name):
        self.conn = conn
        self.name = name
        self.src = None  # transports, set when each side is connected
        self.dst = None
        self.queue = collections.deque()
        self.queued = 0  # bytes in the queue
        self.timer = None
        self.paused = False
        self.done = False  # the EOF was passed on (or the peer is gone)

    def buffered(self):
        out = self.dst.get_write_buffer_size() if self.dst else 0
        return self.queued + out

    def push(self, data):
        loop = self.conn.loop
        self.queue.append((loop.time() + self.conn.delay, data))
        if data is not None:
            self.queued += len(data)
            if self.buffered() > self.conn.max_queue and not self.paused:
                self.paused = True
                self.src.pause_reading()
        self.flush()

    def flush(self):
        """Write what is due (once the other side is connected) and arm a timer
        for the next item."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.dst is None or self.done:
            return
        loop = self.conn.loop
        now = loop.time()
        while self.queue and self.queue[0][0] <= now:
            _, data = self.queue.popleft()
            if data is None:
                self.done = True
                if self.dst.can_write_eof():
                    self.dst.write_eof()
                self.conn.check_done()
                return
            self.queued -= len(data)
            self.dst.write(data)
        if self.queue:
            self.timer = loop.call_at(self.queue[0][0], self.flush)
        self.maybe_resume()

    def maybe_resume(self):
        if self.paused and self.buffered() <= self.conn.max_queue // 2:
            self.paused = False
            if self.src is not None and not self.src.is_closing():
                self.src.resume_reading()


class Side(asyncio.Protocol):
    """One socket of a proxied connection; what it reads goes into `inbound`,
    and `outbound` writes to it."""

    def __init__(self, inbound, outbound):
        self.inbound = inbound
        self.outbound = outbound

    def connection_made(self, transport):
        transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.inbound.src = transport
        self.outbound.dst = transport
        self.outbound.flush()

    def data_received(self, data):
        self.inbound.push(data)

    def eof_received(self):
        self.inbound.push(None)
        return True  # keep the other direction open (half-close)

    def connection_lost(self, exc):
        # A reset or close: what was read before it still goes on, then EOF.
        if not self.inbound.done and (not self.inbound.queue or
                                      self.inbound.queue[-1][1] is not None):
            self.inbound.push(None)
        self.outbound.done = True
        self.outbound.queue.clear()
        self.outbound.queued = 0
        self.inbound.conn.check_done()

    def resume_writing(self):
        self.outbound.maybe_resume()

    def pause_writing(self):
        pass  # push() counts the write buffer in buffered()


class Conn:
    """A proxied connection: the accepted socket, the target one, and a
    Direction each way."""

    def __init__(self, loop, args):
        self.loop = loop
        self.delay = args.rtt_ms / 2000.0
        self.max_queue = args.max_queue
        self.target = args.target
        self.up = Direction(self, "up")  # client -> target
        self.down = Direction(self, "down")  # target -> client
        self.client = Side(self.up, self.down)

    async def connect(self):
        # The SYN and the SYN-ACK: one round trip before the target sees it.
        await asyncio.sleep(2 * self.delay)
        host, port = self.target
        try:
            await self.loop.create_connection(
                lambda: Side(self.down, self.up), host, port)
        except OSError as e:
            print("delay-proxy: connect %s:%d: %s" % (host, port, e),
                  file=sys.stderr)
            if self.up.src is not None:
                self.up.src.abort()

    def check_done(self):
        if self.up.done and self.down.done:
            for t in (self.up.src, self.down.src):
                if t is not None and not t.is_closing():
                    t.close()


async def serve(args):
    loop = asyncio.get_running_loop()

    def accept():
        conn = Conn(loop, args)
        loop.create_task(conn.connect())
        return conn.client

    server = await loop.create_server(accept, args.listen, args.port,
                                      reuse_address=True, backlog=128)
    port = server.sockets[0].getsockname()[1]
    print("listening %s:%d" % (args.listen, port), flush=True)
    async with server:
        await server.serve_forever()


def target(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("want HOST:PORT, got %r" % s)
    return host.strip("[]"), int(port)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--max-queue", type=int, default=64 << 20)
    p.add_argument("--pidfile")
    p.add_argument("--nice", type=int, default=-10)
    p.add_argument("port", type=int)
    p.add_argument("target", type=target)
    p.add_argument("rtt_ms", type=float)
    args = p.parse_args()
    if args.rtt_ms < 0 or args.max_queue < 1:
        p.error("RTT_MS must be >= 0 and --max-queue >= 1")
    if args.nice:
        try:
            os.nice(args.nice)
        except OSError:
            pass
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
