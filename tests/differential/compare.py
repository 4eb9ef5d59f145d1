#!/usr/bin/env python3
"""compare.py - compare the containers `devcontainer up` and `rdev up` made.

usage: compare.py CASE REFERENCE.json RDEV.json DOCUMENTED.txt

Each JSON file is what tests/e2e/up-differential.sh records for one tool and
one case:

    {"up": <the tool's JSON result line>,
     "remoteUid": "<id -u of the remote user in the container>",
     "containers": {"<service, or 'main'>": <docker inspect of it>, ...},
     "baseImages": {"<Config.Image>": "<what it stands for: an image id,
                    or a placeholder for an image built for the workspace>"},
     "inside": {"<path in the container>": "<its content>", ...}}

("inside": the files the case's inside.txt names, e.g. what its lifecycle
commands wrote.)

Both are normalised (normalise() below: what is random per container, or
describes how the client attached rather than the container, or is the same
setting spelt two ways) and compared leaf by leaf. Each difference is printed
as "DIFF path: reference X, rdev Y". A difference that DOCUMENTED.txt lists
for the case ("CASE PATH-REGEX ID", CASE may be "*") is printed as
"documented (ID) ..." and does not count as a failure; every listed entry of
the case must match at least one difference (a stale entry fails, so that a
fixed difference is removed from the list and from docs/CONFORMANCE.md).

The last line is "fields N documented D failed F"; the exit status is 0 when F
is 0, 1 otherwise.
"""
import json
import re
import sys

HEX64 = re.compile(r"^[0-9a-f]{64}$")
# Docker's generated names (adjective_surname[digit]).
RANDOM_NAME = re.compile(r"^/[a-z]+_[a-z]+\d?$")
# Leaves that differ between any two containers, or describe the client's
# attachment (the reference runs `docker run -a STDOUT -a STDERR`; rdev
# creates through the API and does not attach) rather than the container.
DROP_TOP = {"Id", "Created", "Path", "Args", "ResolvConfPath", "HostnamePath",
            "HostsPath", "LogPath", "RestartCount", "Driver", "Platform",
            "MountLabel", "ProcessLabel", "ExecIDs", "GraphDriver", "Image",
            "SizeRw", "SizeRootFs"}
DROP_CONFIG = {"AttachStdin", "AttachStdout", "AttachStderr"}
DROP_STATE = {"Pid", "StartedAt", "FinishedAt", "Health", "OOMKilled", "Dead",
              "Paused", "Restarting", "Error", "ExitCode"}
# NetworkSettings: only the published ports and the networks' names and
# aliases describe the container; addresses, ids and sandboxes are per run.
KEEP_NET = {"Ports", "Networks"}
KEEP_NETWORK = {"Aliases", "Links"}


def is_empty(v):
    return v is None or v == [] or v == {} or v == ""


def norm_caps(caps):
    if not caps:
        return None
    out = []
    for c in caps:
        c = c.upper()
        if c.startswith("CAP_"):
            c = c[4:]
        out.append(c)
    return sorted(set(out))


def norm_env(env):
    """Env sorted: the order of the variables does not matter, a variable
    listed twice does (the docker CLI keeps each once)."""
    return sorted(env or [])


def norm_labels(labels):
    out = {}
    for k, v in sorted((labels or {}).items()):
        if k.startswith("dev.rdev."):
            continue  # rdev's own labels (docs/CONFORMANCE.md)
        if k == "devcontainer.metadata":
            try:
                v = json.loads(v)
            except ValueError:
                pass
        out[k] = v
    return out


def norm_image(name, bases):
    """The test maps each image name to what it stands for (its id; for a
    UID-sync image, its parent's; for an image built for the workspace a
    placeholder, as the tools name those differently by design)."""
    return bases.get(name, name)


def drop_empty(obj):
    """Remove keys whose value is empty (null, "", [], {}): Docker reports an
    unset HostConfig list as null after an API create and as [] after
    `docker run`."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            v = drop_empty(v)
            if not is_empty(v):
                out[k] = v
        return out
    if isinstance(obj, list):
        return [drop_empty(v) for v in obj]
    return obj


def normalise(inspect, bases):
    c = {k: v for k, v in inspect.items() if k not in DROP_TOP}
    cid = inspect.get("Id", "")
    if RANDOM_NAME.match(c.get("Name", "")):
        c["Name"] = "<random name>"
    cfg = {k: v for k, v in (c.get("Config") or {}).items() if k not in DROP_CONFIG}
    if cfg.get("Hostname") == cid[:12]:
        cfg["Hostname"] = "<container id>"
    if cfg.get("User", "") == "":
        cfg["User"] = "root"  # the same user: the image's default is root
    cfg["Env"] = norm_env(cfg.get("Env"))
    cfg["Labels"] = norm_labels(cfg.get("Labels"))
    cfg["Image"] = norm_image(cfg.get("Image", ""), bases)
    c["Config"] = cfg
    hc = dict(c.get("HostConfig") or {})
    hc["CapAdd"] = norm_caps(hc.get("CapAdd"))
    hc["CapDrop"] = norm_caps(hc.get("CapDrop"))
    if (hc.get("RestartPolicy") or {}).get("Name") == "":
        hc["RestartPolicy"] = dict(hc["RestartPolicy"], Name="no")
    for k in ("Binds", "ExtraHosts", "SecurityOpt", "Dns", "DnsSearch", "DnsOptions"):
        if isinstance(hc.get(k), list):
            hc[k] = sorted(hc[k])
    if isinstance(hc.get("Mounts"), list):
        hc["Mounts"] = sorted(hc["Mounts"], key=lambda m: m.get("Target", ""))
    c["HostConfig"] = hc
    mounts = []
    for m in c.get("Mounts") or []:
        m = dict(m)
        if m.get("Type") == "volume" and HEX64.match(m.get("Name", "")):
            m["Name"] = "<anonymous>"
            m["Source"] = "<anonymous>"
        mounts.append(m)
    c["Mounts"] = sorted(mounts, key=lambda m: m.get("Destination", ""))
    st = c.get("State") or {}
    c["State"] = {k: v for k, v in st.items() if k not in DROP_STATE}
    ns = c.get("NetworkSettings") or {}
    nets = {}
    for name, n in (ns.get("Networks") or {}).items():
        n = {k: v for k, v in (n or {}).items() if k in KEEP_NETWORK}
        if n.get("Aliases"):
            n["Aliases"] = sorted(a for a in n["Aliases"] if a != cid[:12])
        nets[name] = n
    c["NetworkSettings"] = {"Ports": ns.get("Ports"), "Networks": nets}
    return drop_empty(c)


def normalise_doc(doc):
    bases = doc.get("baseImages") or {}
    up = {k: v for k, v in (doc.get("up") or {}).items()
          if k in ("outcome", "remoteUser", "remoteWorkspaceFolder")}
    return {
        "up": up,
        "remoteUid": doc.get("remoteUid"),
        "inside": doc.get("inside") or {},
        "containers": {name: normalise(c, bases)
                       for name, c in sorted((doc.get("containers") or {}).items())},
    }


def dump(v):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= 300 else s[:300] + "..."


def key_path(path, k):
    if re.match(r"^[A-Za-z_][\w]*$", k):
        return "%s.%s" % (path, k)
    return "%s[%s]" % (path, json.dumps(k))


class Comparer:
    def __init__(self):
        self.fields = 0
        self.diffs = []  # (path, message)

    def diff(self, ref, mine, path):
        self.fields += 1
        if isinstance(ref, dict) and isinstance(mine, dict):
            for k in sorted(set(ref) | set(mine)):
                p = key_path(path, k)
                if k not in mine:
                    self.diffs.append((p, "reference %s, rdev (unset)" % dump(ref[k])))
                elif k not in ref:
                    self.diffs.append((p, "reference (unset), rdev %s" % dump(mine[k])))
                else:
                    self.diff(ref[k], mine[k], p)
        elif isinstance(ref, list) and isinstance(mine, list) and len(ref) == len(mine):
            for i, (a, b) in enumerate(zip(ref, mine)):
                self.diff(a, b, "%s[%d]" % (path, i))
        elif ref != mine:
            self.diffs.append((path, "reference %s, rdev %s" % (dump(ref), dump(mine))))


def load_documented(path, case):
    entries = []
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3:
            raise SystemExit("%s:%d: want CASE PATH-REGEX ID" % (path, n))
        if parts[0] in ("*", case):
            entries.append((re.compile(parts[1]), parts[2], "%s:%d" % (path, n),
                            parts[0] == "*"))
    return entries


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    case, ref_path, rdev_path, documented_path = sys.argv[1:]
    ref = normalise_doc(json.load(open(ref_path)))
    mine = normalise_doc(json.load(open(rdev_path)))
    documented = load_documented(documented_path, case)
    cmp = Comparer()
    cmp.diff(ref, mine, "")
    used = set()
    failed = ndoc = 0
    for path, msg in cmp.diffs:
        path = path.lstrip(".")
        for rx, doc_id, where, _ in documented:
            if rx.search(path):
                used.add(where)
                ndoc += 1
                print("  documented (%s) %s: %s" % (doc_id, path, msg))
                break
        else:
            failed += 1
            print("  DIFF %s: %s" % (path, msg))
    for rx, doc_id, where, wildcard in documented:
        # A "*" entry need not show in every case; a per-case one must.
        if where not in used and not wildcard:
            failed += 1
            print("  STALE %s (%s, /%s/): no such difference any more; remove it "
                  "and its text in docs/CONFORMANCE.md" % (where, doc_id, rx.pattern))
    print("fields %d documented %d failed %d" % (cmp.fields, ndoc, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
