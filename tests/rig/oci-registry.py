#!/usr/bin/env python3
"""oci-registry.py - the rig's OCI registry for Feature tests: exactly the
distribution API that `devcontainer features publish` pushes with and
rdev-agent pulls with (agent/oci-client.c), behind a bearer-token flow like
ghcr.io's.

    oci-registry.py DIR PORT

Listens on 127.0.0.1:PORT (use it as localhost:PORT: the reference CLI and
rdev speak plain HTTP to "localhost" only). DIR/blobs/<hex> holds blobs and
manifests by digest, DIR/tags/<repo>/<tag> a manifest digest. Every request
is appended to DIR/requests.log as "METHOD PATH STATUS" (tests count them).
GET /files/NAME serves DIR/files/NAME without a token (tarball Features).
Every /v2/ request needs a token from /token; repositories under "private/"
get one only with Basic rig:rig (a Docker config.json login), or by POST
/token with the refresh_token grant of an identity token (a form with
grant_type=refresh_token, client_id, service, scope and refresh_token
REFRESH_TOKEN: what a credential helper's "<token>" answer leads to).
"""
import base64, hashlib, json, os, re, sys, threading, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

ROOT, PORT = sys.argv[1], int(sys.argv[2])
TOKENS = {}  # token -> scope repo prefix allowed ("" = public)
LOCK = threading.Lock()
UPLOADS = {}
NAME = r"(?P<name>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
REFRESH_TOKEN = "rig-refresh-token"


def blob_path(digest):
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        return None
    return os.path.join(ROOT, "blobs", digest[7:])


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp.%d" % threading.get_ident()
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        with LOCK, open(os.path.join(ROOT, "requests.log"), "a") as f:
            f.write("%s %s %d\n" % (self.command, self.path, status))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def authorized(self, name):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in TOKENS:
            if name is None or not name.startswith("private/") or TOKENS[auth[7:]]:
                return True
        scope = "repository:%s:pull,push" % name if name else ""
        self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [
            ("WWW-Authenticate", 'Bearer realm="http://localhost:%d/token",'
             'service="rig-registry",scope="%s"' % (PORT, scope))])
        return False

    def token(self):
        if self.command == "POST":  # the refresh_token grant (OAuth2 form)
            q = parse_qs(self.body().decode("utf-8", "replace"))
            good = (q.get("grant_type") == ["refresh_token"] and
                    q.get("refresh_token") == [REFRESH_TOKEN] and
                    len(q.get("client_id", [""])[0]) > 0 and
                    q.get("service") == ["rig-registry"])
            if not good:
                return self.reply(401, b'{"errors":[{"code":"DENIED"}]}')
        else:
            q = parse_qs(urlparse(self.path).query)
            auth = self.headers.get("Authorization", "")
            good = auth == "Basic " + base64.b64encode(b"rig:rig").decode()
        scope = q.get("scope", [""])[0]
        private = ":private/" in scope
        if private and not good:
            return self.reply(401, b'{"errors":[{"code":"DENIED"}]}')
        t = uuid.uuid4().hex
        TOKENS[t] = good
        self.reply(200, json.dumps({"token": t}).encode(), [("Content-Type", "application/json")])

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        path = urlparse(self.path).path
        if path == "/token":
            return self.token()
        m = re.fullmatch(r"/files/([A-Za-z0-9][A-Za-z0-9._-]*)", path)
        if m:  # plain files (tarball Features), no token
            p = os.path.join(ROOT, "files", m.group(1))
            if not os.path.isfile(p):
                return self.reply(404)
            return self.reply(200, open(p, "rb").read(), [("Content-Type", "application/gzip")])
        if path in ("/v2", "/v2/"):
            return self.authorized(None) and self.reply(200, b"{}")
        m = re.fullmatch(r"/v2/" + NAME + r"/(?P<kind>manifests|blobs|tags)/(?P<rest>.+)", path)
        if not m:
            return self.reply(404)
        name, kind, rest = m.group("name"), m.group("kind"), m.group("rest")
        data = self.body() if self.command in ("PUT", "PATCH", "POST") else b""
        if not self.authorized(name):
            return
        if kind == "tags":
            d = os.path.join(ROOT, "tags", name)
            tags = sorted(os.listdir(d)) if os.path.isdir(d) else []
            if not tags:
                return self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
            return self.reply(200, json.dumps({"name": name, "tags": tags}).encode())
        if kind == "manifests":
            if self.command == "PUT":
                digest = "sha256:" + hashlib.sha256(data).hexdigest()
                write_file(blob_path(digest), data)
                if not rest.startswith("sha256:"):
                    write_file(os.path.join(ROOT, "tags", name, rest), digest.encode())
                return self.reply(201, b"", [("Docker-Content-Digest", digest),
                                             ("Location", "/v2/%s/manifests/%s" % (name, digest))])
            digest = rest
            if not rest.startswith("sha256:"):
                try:
                    digest = open(os.path.join(ROOT, "tags", name, rest)).read().strip()
                except (OSError, ValueError):
                    return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            p = blob_path(digest)
            if p is None or not os.path.exists(p):
                return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            return self.reply(200, open(p, "rb").read(), [("Content-Type", MANIFEST_TYPE),
                                                          ("Docker-Content-Digest", digest)])
        # blobs
        if rest.startswith("uploads"):
            uid = rest[len("uploads"):].strip("/")
            if self.command == "POST":
                uid = uuid.uuid4().hex
                UPLOADS[uid] = data
                return self.reply(202, b"", [("Location", "/v2/%s/blobs/uploads/%s" % (name, uid)),
                                             ("Range", "0-0")])
            if uid not in UPLOADS:
                return self.reply(404)
            UPLOADS[uid] += data
            if self.command == "PATCH":
                return self.reply(202, b"", [("Location", "/v2/%s/blobs/uploads/%s" % (name, uid))])
            digest = parse_qs(urlparse(self.path).query).get("digest", [""])[0]
            blob = UPLOADS.pop(uid)
            if blob_path(digest) is None or "sha256:" + hashlib.sha256(blob).hexdigest() != digest:
                return self.reply(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
            write_file(blob_path(digest), blob)
            return self.reply(201, b"", [("Docker-Content-Digest", digest),
                                         ("Location", "/v2/%s/blobs/%s" % (name, digest))])
        p = blob_path(rest)
        if p is None or not os.path.exists(p):
            return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        return self.reply(200, open(p, "rb").read(), [("Content-Type", "application/octet-stream"),
                                                      ("Docker-Content-Digest", rest)])

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = route


if __name__ == "__main__":
    os.makedirs(os.path.join(ROOT, "blobs"), exist_ok=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
