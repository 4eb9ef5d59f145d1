#!/usr/bin/env python3
"""socketpair_proxy.py [--hold SECONDS] [--spoken] [--report FILE] -- COMMAND...

Run COMMAND as a ProxyCommand the way libssh runs one: one end of a
socketpair as its stdin and stdout (ProxyUseFdpass ignored), and relay the
other end to this process's stdin and stdout, so that OpenSSH's ssh (whose
ProxyCommand this is, on pipes) speaks SSH in-band through it.

--hold: the client's bytes are held back until COMMAND sent something (at
most SECONDS; 0: not held), so that COMMAND meets a client that has not
spoken yet, however long it takes to start. --spoken: the client's first
bytes (OpenSSH's ssh sends its version at once) are read and put on the
socket before COMMAND starts, so that COMMAND meets a client that has spoken
already, however loaded the machine. --report: FILE gets "passed" when COMMAND
sent a descriptor on the socket (which an in-band client drops, as this one
does: it is closed unused), else "none".
"""
import os
import socket
import subprocess
import sys
import threading


def main():
    args = sys.argv[1:]
    hold, report, spoken = 0.0, None, False
    while args and args[0] != "--":
        if args[0] == "--spoken":
            spoken = True
            args = args[1:]
            continue
        if args[0] == "--hold":
            hold = float(args[1])
        elif args[0] == "--report":
            report = args[1]
        else:
            sys.exit("socketpair_proxy.py: unknown option " + args[0])
        args = args[2:]
    cmd = args[1:]
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if spoken:
        first = os.read(0, 65536)
        if first:
            ours.sendall(first)
    proc = subprocess.Popen(cmd, stdin=theirs, stdout=theirs)
    theirs.close()

    spoke = threading.Event()

    def to_client():
        first = True
        while True:
            data, fds, _, _ = socket.recv_fds(ours, 65536, 4)
            spoke.set()
            for fd in fds:
                os.close(fd)
            # (said at once: ssh ends this process with SIGHUP when done)
            if first and report is not None:
                with open(report, "w") as f:
                    f.write("passed\n" if fds else "none\n")
            first = False
            if not data:
                break
            os.write(1, data)
        os.close(1)

    out = threading.Thread(target=to_client, daemon=True)
    out.start()
    if hold > 0:
        spoke.wait(hold)
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        ours.sendall(data)
    ours.shutdown(socket.SHUT_WR)
    out.join()
    sys.exit(proc.wait())


main()
