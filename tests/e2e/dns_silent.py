#!/usr/bin/env python3
"""dns_silent.py ADDR LOG - a DNS server on ADDR:53 (UDP) that answers
NXDOMAIN for names whose first label starts with "nx-" and never answers
the others (a DNS server that does not answer: glibc waits its timeout).
Each query's name is appended to LOG as it comes."""
import socket
import sys


def qname(msg):
    labels, i = [], 12
    while i < len(msg) and msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels), i + 5  # (the root label, QTYPE and QCLASS)


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 53))
    with open(sys.argv[2], "a", buffering=1) as log:
        while True:
            msg, peer = s.recvfrom(4096)
            if len(msg) < 12:
                continue
            name, end = qname(msg)
            log.write(name + "\n")
            if name.startswith("nx-"):
                # the query's id and question; QR RD RA, rcode 3 (NXDOMAIN)
                s.sendto(msg[:2] + b"\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00"
                         + msg[12:end], peer)


main()
