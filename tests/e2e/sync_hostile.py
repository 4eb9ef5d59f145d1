#!/usr/bin/env python3
"""sync_hostile.py ROOT OUTSIDE -- CMD...: the sync op against hostile input
and a peer that goes away mid-stream, on `CMD` (rdev-agent serve, run with a
policy whose workspaceRoot is ROOT). OUTSIDE is a folder outside ROOT that nothing may
touch. Prints "ok   what" per check; exits 1 on the first failure."""
import hashlib
import io
import json
import os
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proto_client import Client, check, CONTROL, DATA, EOF, CLOSE  # noqa: E402

CH = 5


def h(data):
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def tar_of(entries):
    """entries: (name, type, data_or_target) with type 'f', 'l', 'd' or 'h'."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, typ, x in entries:
            ti = tarfile.TarInfo(name)
            if typ == "f":
                ti.size = len(x)
                t.addfile(ti, io.BytesIO(x))
                continue
            ti.type = {"l": tarfile.SYMTYPE, "d": tarfile.DIRTYPE, "h": tarfile.LNKTYPE}[typ]
            ti.linkname = x or ""
            t.addfile(ti)
    return b.getvalue()


def sync_start(c, name, files):
    rid = c.new_id()
    c.send(CONTROL, 0, {"id": rid, "op": "sync", "name": name, "channel": CH, "files": files})
    return c.wait(rid)[1]


def sync_end(c):
    t, ch, payload = c.next_matching(lambda fr: fr[0] == CLOSE and fr[1] == CH)
    return json.loads(payload)


def sync(c, name, files, tar_bytes):
    resp = sync_start(c, name, files)
    if not resp.get("ok"):
        return resp, None
    for i in range(0, len(tar_bytes), 65536):
        c.send(DATA, CH, tar_bytes[i:i + 65536])
    c.send(EOF, CH)
    return resp, sync_end(c)


def main():
    root, outside = sys.argv[1], sys.argv[2]
    argv = sys.argv[sys.argv.index("--") + 1:]
    c = Client(argv)
    before = sorted(os.listdir(outside))

    # A manifest naming a path out of the folder is refused before anything.
    resp = sync_start(c, "w1", [["f", "../evil", h(b"x"), 0o644, 1]])
    check("a manifest path with '..' is refused", resp.get("ok") is False, resp)
    resp = sync_start(c, "../w1", [])
    check("a workspace name with '..' is refused", resp.get("ok") is False, resp)
    resp = sync_start(c, "w1", [["f", "/etc/passwd", h(b"x"), 0o644, 1]])
    check("an absolute manifest path is refused", resp.get("ok") is False, resp)

    files = [["f", "a.txt", h(b"a"), 0o644, 1]]
    for what, entry in [("'..'", "../evil.txt"), ("an absolute path", "/tmp/evil.txt"),
                        ("'a/../..'", "a.txt/../../evil.txt")]:
        resp, close = sync(c, "w1", files, tar_of([(entry, "f", b"evil")]))
        check("a tar entry with %s is refused" % what,
              resp.get("ok") and "refused" in close.get("error", ""), (resp, close))
    resp, close = sync(c, "w1", files, tar_of([("b.txt", "f", b"b")]))
    check("a tar entry not asked for is refused", "not asked for" in close.get("error", ""), close)
    resp, close = sync(c, "w1", files, tar_of([("a.txt", "h", "/etc/passwd")]))
    check("a hard link is refused", "unsupported" in close.get("error", ""), close)

    resp, close = sync(c, "w1", [["l", "ln0", "a"]], tar_of([("ln0", "l", "/etc")]))
    check("a link to another target than announced is refused",
          "not the entry announced" in close.get("error", ""), close)

    # A symlink out of the tree, then a file "through" it.
    files = [["l", "ln", outside], ["f", "ln/pwn.txt", h(b"pwn"), 0o644, 3]]
    resp, close = sync(c, "w1", files, tar_of([("ln", "l", outside), ("ln/pwn.txt", "f", b"pwn")]))
    check("a file under a symlink the stream made is refused",
          "refused" in close.get("error", ""), close)
    check("... and nothing was written outside", sorted(os.listdir(outside)) == before,
          os.listdir(outside))
    check("... the link itself is there, as a link",
          os.readlink(os.path.join(root, "w1", "ln")) == outside)

    # A file through a symlink already on the host.
    os.symlink(outside, os.path.join(root, "w1", "ln2"))
    files = [["f", "ln2/pwn.txt", h(b"pwn"), 0o644, 3]]
    resp, close = sync(c, "w1", files, tar_of([("ln2/pwn.txt", "f", b"pwn")]))
    check("a file under a symlink on the host is refused",
          "refused" in close.get("error", ""), close)
    check("... nothing written outside", sorted(os.listdir(outside)) == before)

    # A connection that breaks mid-stream: every file old or new.
    old = {"a": b"A" * 100000, "b": b"B" * 300000}
    new = {"a": b"a" * 150000, "b": b"b" * 300000}
    files = lambda d: [["f", k, h(v), 0o644, len(v)] for k, v in sorted(d.items())]
    resp, close = sync(c, "w2", files(old), tar_of([(k, "f", v) for k, v in sorted(old.items())]))
    check("the old version arrives", close.get("status") == 0, close)
    c.close()
    c = Client(argv)
    resp = sync_start(c, "w2", files(new))
    check("both files are asked for", resp["result"]["need"] == ["a", "b"], resp)
    stream = tar_of([(k, "f", v) for k, v in sorted(new.items())])
    cut = 512 + 150000 + 512 + 512 + 100000  # a whole, b a third of the way
    c.send(DATA, CH, stream[:cut])
    # Once the agent has put a in place, go away as a dropped connection does.
    ws = os.path.join(root, "w2")
    for _ in range(100):
        if open(os.path.join(ws, "a"), "rb").read() == new["a"]:
            break
        time.sleep(0.1)
    c.close()
    got = {k: open(os.path.join(ws, k), "rb").read() for k in ("a", "b")}
    check("the file sent whole is new", got["a"] == new["a"])
    check("the file cut off is old, not half-written", got["b"] == old["b"])
    check("no temporary file is left", [n for n in os.listdir(ws) if n.startswith(".rdev")] == [],
          os.listdir(ws))
    c = Client(argv)
    resp = sync_start(c, "w2", files(new))
    check("the next sync asks only for what did not arrive", resp["result"]["need"] == ["b"], resp)
    c.send(DATA, CH, tar_of([("b", "f", new["b"])]))
    c.send(EOF, CH)
    close = sync_end(c)
    check("... and completes", close.get("status") == 0 and
          open(os.path.join(ws, "b"), "rb").read() == new["b"], close)
    c.close()


main()
