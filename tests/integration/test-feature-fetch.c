/* test-feature-fetch.c - feature_fetch() (agent/feature-fetch.h) against the
 * rig's OCI registry (tests/rig/oci-registry.py, Features published by the
 * reference CLI's `features publish`) and a tarball it serves: contents,
 * cache (no request when pinned), lockfile digests, and the errors. */
#include "test.h"

#include "rig.h"

#include <sys/stat.h>

#include "atomic-file.h"
#include "feature-fetch.h"
#include "xmalloc.h"

static struct {
	char *reg;    /* localhost:PORT */
	char *regdir; /* its state: requests.log, files/ */
	char *ns;     /* this run's namespace: rdev-test/p<pid> */
	char *cache;
} ff;

static void
ff_feature(const char *src, const char *name, const char *version)
{
	rig_sh("mkdir -p '%s/%s' && printf "
	       "'{\"id\":\"%s\",\"version\":\"%s\",\"name\":\"%s\"}' "
	       ">'%s/%s/devcontainer-feature.json' && printf '#!/bin/sh\\necho %s %d\\n' "
	       ">'%s/%s/install.sh' && chmod +x '%s/%s/install.sh'",
	    src, name, name, version, name, src, name, name, (int)getpid(), src, name,
	    src, name);
}

/* Publish (once) this run's Features: hello, tamper; and a tarball. */
static void
ff_setup(void)
{
	char *dir;

	if (ff.reg != NULL)
		return;
	snprintf(rig.tmp, sizeof rig.tmp, "/tmp/rdev-test-ff.XXXXXX");
	if (mkdtemp(rig.tmp) == NULL)
		TEST_FAIL("mkdtemp failed");
	ff.reg = rig_sh_out("bash %s/tests/rig/rig.sh registry", RDEV_SOURCE_DIR);
	if (strncmp(ff.reg, "localhost:", 10) != 0)
		TEST_FAIL("rig.sh registry: %s", ff.reg);
	dir = rig_sh_out(
	    "bash %s/tests/rig/rig.sh env | sed -n 's/^export RDEV_RIG_DIR=//p'",
	    RDEV_SOURCE_DIR);
	ff.regdir = xasprintf("%s/run/registry", dir);
	free(dir);
	ff.ns = xasprintf("rdev-test/p%d", (int)getpid());
	ff.cache = xasprintf("%s/cache", rig.tmp);
	dir = xasprintf("%s/src", rig.tmp);
	ff_feature(dir, "hello", "1.2.3");
	ff_feature(dir, "tamper", "1.0.0");
	free(dir);
	rig_sh("bash %s/tests/rig/rig.sh registry-publish %s %s/src", RDEV_SOURCE_DIR,
	    ff.ns, rig.tmp);
	rig_sh("tar czf '%s/files/devcontainer-feature-tb%d.tgz' -C '%s/src/hello' .",
	    ff.regdir, (int)getpid(), rig.tmp);
}

/* Requests to the registry for this run's namespace so far. */
static int
ff_requests(const char *what)
{
	char *n = rig_sh_out(
	    "grep -c ' /v2/%s/.*%s' '%s/requests.log' || true", ff.ns, what, ff.regdir);
	int v = atoi(n);

	free(n);
	return v;
}

static void
ff_assert_hello(const char *folder)
{
	char *path = xasprintf("%s/devcontainer-feature.json", folder), *text = NULL;
	size_t len;

	if (file_read_all(path, 4096, &text, &len, NULL) != 0)
		TEST_FAIL("no %s", path);
	free(path);
	ASSERT_STR_CONTAINS(text, "\"version\":\"1.2.3\"");
	free(text);
	path = xasprintf("%s/install.sh", folder);
	ASSERT_INT_EQ(access(path, X_OK), 0);
	free(path);
}

/* Fetches ref (cache: ff.cache), which must fail, f.unreachable as given;
 * returns the cause (caller frees). */
static char *
ff_fetch_error(const char *ref, const char *cache, int unreachable)
{
	struct feature_fetch_opts o = { 0 };
	struct feature_fetched f;
	char *cause = NULL;

	o.cache_dir = cache != NULL ? cache : ff.cache;
	ASSERT_INT_EQ(feature_fetch(ref, &o, &f, &cause), -1);
	ASSERT_NOT_NULL(cause);
	ASSERT_INT_EQ(f.unreachable, unreachable);
	return cause;
}

TEST(oci_tag_then_cache)
{
	struct feature_fetch_opts o = { 0 };
	struct feature_fetched f, g;
	char *id, *pinned, *want, *cause = NULL;
	int before;

	ff_setup();
	o.cache_dir = ff.cache;
	id = xasprintf("%s/%s/hello:1", ff.reg, ff.ns);
	if (feature_fetch(id, &o, &f, &cause) != 0)
		TEST_FAIL("%s", cause);
	ff_assert_hello(f.folder);
	ASSERT_TRUE(feature_ref_digest_valid(f.digest));
	ASSERT_TRUE(feature_ref_digest_valid(f.layer_digest));
	want = xasprintf("%s/%s/hello@%s", ff.reg, ff.ns, f.digest);
	ASSERT_STR_EQ(f.resolved, want);
	free(want);
	ASSERT_INT_EQ(f.cached, 0);

	/* A tag again: one manifest request, no blob. */
	before = ff_requests("blobs");
	ASSERT_INT_EQ(feature_fetch(id, &o, &g, &cause), 0);
	ASSERT_STR_EQ(g.folder, f.folder);
	ASSERT_INT_EQ(g.cached, 1);
	ASSERT_INT_EQ(ff_requests("blobs"), before);
	feature_fetched_clear(&g);

	/* Pinned by the lockfile, or by @digest: no request at all. */
	before = ff_requests("");
	o.integrity = f.digest;
	ASSERT_INT_EQ(feature_fetch(id, &o, &g, &cause), 0);
	ASSERT_INT_EQ(g.cached, 1);
	ASSERT_STR_EQ(g.folder, f.folder);
	feature_fetched_clear(&g);
	o.integrity = NULL;
	pinned = xasprintf("%s/%s/hello@%s", ff.reg, ff.ns, f.digest);
	ASSERT_INT_EQ(feature_fetch(pinned, &o, &g, &cause), 0);
	ASSERT_STR_EQ(g.resolved, pinned);
	ASSERT_INT_EQ(ff_requests(""), before);
	feature_fetched_clear(&g);
	free(pinned);
	feature_fetched_clear(&f);
	free(id);
}

TEST(oci_missing_tag)
{
	char *id, *cause;

	ff_setup();
	id = xasprintf("%s/%s/hello:9.9", ff.reg, ff.ns);
	/* a definite answer: not an unreachable registry */
	cause = ff_fetch_error(id, NULL, 0);
	ASSERT_STR_CONTAINS(cause, id);
	ASSERT_STR_CONTAINS(cause, "9.9 not found in registry");
	free(cause);
	free(id);
}

TEST(unreachable_registry)
{
	char *url, *cause;

	ff_setup();
	cause = ff_fetch_error("localhost:1/a/b/c:1", NULL, 1);
	ASSERT_STR_CONTAINS(cause, "Feature 'localhost:1/a/b/c:1'");
	ASSERT_STR_CONTAINS(cause, "localhost");
	free(cause);
	/* a tarball's server likewise; a 404 from it is an answer */
	free(ff_fetch_error("http://127.0.0.1:1/devcontainer-feature-x.tgz", NULL, 1));
	url = xasprintf("http://%s/files/devcontainer-feature-no.tgz", ff.reg);
	cause = ff_fetch_error(url, NULL, 0);
	ASSERT_STR_CONTAINS(cause, "HTTP 404");
	free(cause);
	free(url);
}

/* A registry that answers 503 (overloaded, in maintenance) gave no definite
 * answer: unreachable, as a refused connection. */
TEST(registry_5xx)
{
	char *port, *id, *cause;

	ff_setup();
	rig_sh("python3 -c 'import http.server as h, sys\n"
	       "class H(h.BaseHTTPRequestHandler):\n"
	       "    def do_GET(self): self.send_response(503); self.end_headers()\n"
	       "    def log_message(self, *a): pass\n"
	       "s = h.HTTPServer((\"127.0.0.1\", 0), H)\n"
	       "open(sys.argv[1] + \".tmp\", \"w\").write(str(s.server_port))\n"
	       "import os; os.rename(sys.argv[1] + \".tmp\", sys.argv[1])\n"
	       "s.handle_request()' '%s/port503' & echo $! >'%s/pid503'; "
	       "for i in $(seq 100); do [ -s '%s/port503' ] && break; sleep 0.1; done",
	    rig.tmp, rig.tmp, rig.tmp);
	port = rig_sh_out("cat '%s/port503'", rig.tmp);
	id = xasprintf("localhost:%s/a/b/c:1", port);
	cause = ff_fetch_error(id, NULL, 1);
	ASSERT_STR_CONTAINS(cause, "HTTP 503");
	rig_sh("kill $(cat '%s/pid503') 2>/dev/null; true", rig.tmp);
	free(cause);
	free(id);
	free(port);
}

/* A layer changed in the registry: refused, naming the Feature and digests;
 * nothing cached. */
TEST(oci_digest_mismatch)
{
	char *id, *cause, *layer, *cache;

	ff_setup();
	layer = rig_sh_out(
	    "d=$(cat '%s/tags/%s/tamper/1.0.0') && python3 -c 'import json,sys; "
	    "print(json.load(open(sys.argv[1]))[\"layers\"][0][\"digest\"])' "
	    "'%s/blobs/'${d#sha256:}",
	    ff.regdir, ff.ns, ff.regdir);
	ASSERT_TRUE(feature_ref_digest_valid(layer));
	rig_sh("printf 'not the layer' >'%s/blobs/%s'", ff.regdir, layer + 7);
	cache = xasprintf("%s/cache-tamper", rig.tmp);
	id = xasprintf("%s/%s/tamper:1", ff.reg, ff.ns);
	cause = ff_fetch_error(id, cache, 0);
	ASSERT_STR_CONTAINS(cause, id);
	ASSERT_STR_CONTAINS(cause, "digest mismatch: expected");
	ASSERT_STR_CONTAINS(cause, layer);
	free(cause);
	rig_sh("test -z \"$(ls -A '%s')\"", cache);
	free(id);
	free(layer);
	free(cache);
}

TEST(tarball_url_and_lock_digest)
{
	struct feature_fetch_opts o = { 0 };
	struct feature_fetched f, g;
	char *url, *cause = NULL;

	ff_setup();
	o.cache_dir = ff.cache;
	url = xasprintf(
	    "http://%s/files/devcontainer-feature-tb%d.tgz", ff.reg, (int)getpid());
	if (feature_fetch(url, &o, &f, &cause) != 0)
		TEST_FAIL("%s", cause);
	ff_assert_hello(f.folder);
	ASSERT_STR_EQ(f.resolved, url);
	ASSERT_STR_EQ(f.layer_digest, f.digest);
	/* The lockfile's digest, cached: used with no download. */
	o.integrity = f.digest;
	ASSERT_INT_EQ(feature_fetch(url, &o, &g, &cause), 0);
	ASSERT_INT_EQ(g.cached, 1);
	feature_fetched_clear(&g);
	/* A lockfile that pins other content: refused. */
	o.integrity =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	ASSERT_INT_EQ(feature_fetch(url, &o, &g, &cause), -1);
	ASSERT_STR_CONTAINS(cause, url);
	ASSERT_STR_CONTAINS(
	    cause, "digest mismatch: devcontainer-lock.json pins sha256:0000");
	free(cause);
	feature_fetched_clear(&f);
	free(url);
}

/* A tarball's loopback http:// server that redirects (here to a plain http://
 * URL on a non-loopback address, which could be anyone's): not followed, so
 * no byte of a Feature that runs as root crosses a network in plain text. */
TEST(tarball_http_redirect_refused)
{
	char *port, *url, *cause, *n;

	ff_setup();
	rig_sh("ip=$(hostname -I | awk '{print $1}'); python3 -c 'import http.server as "
	       "h, sys\n"
	       "class H(h.BaseHTTPRequestHandler):\n"
	       "    def do_GET(self):\n"
	       "        open(sys.argv[1] + \".log\", \"a\").write(self.path + \"\\n\")\n"
	       "        if self.path == \"/devcontainer-feature-start.tgz\":\n"
	       "            self.send_response(302)\n"
	       "            self.send_header(\"Location\", "
	       "\"http://%%s:%%d/devcontainer-feature-evil.tgz\" "
	       "%% (sys.argv[2], s.server_port))\n"
	       "        else: self.send_response(404)\n"
	       "        self.end_headers()\n"
	       "    def log_message(self, *a): pass\n"
	       "s = h.HTTPServer((\"0.0.0.0\", 0), H)\n"
	       "open(sys.argv[1] + \".tmp\", \"w\").write(str(s.server_port))\n"
	       "import os; os.rename(sys.argv[1] + \".tmp\", sys.argv[1])\n"
	       "s.timeout = 10; s.handle_request(); s.timeout = 2; s.handle_request()' "
	       "'%s/port302' "
	       "\"$ip\" & "
	       "echo $! >'%s/pid302'; "
	       "for i in $(seq 100); do [ -s '%s/port302' ] && break; sleep 0.1; done",
	    rig.tmp, rig.tmp, rig.tmp);
	port = rig_sh_out("cat '%s/port302'", rig.tmp);
	url = xasprintf("http://127.0.0.1:%s/devcontainer-feature-start.tgz", port);
	cause = ff_fetch_error(url, NULL, 0);
	ASSERT_STR_CONTAINS(cause, "HTTP 302");
	ASSERT_STR_CONTAINS(cause, "redirect");
	/* the redirect's target was never asked */
	n = rig_sh_out("grep -c evil '%s/port302.log' || true", rig.tmp);
	ASSERT_STR_EQ(n, "0");
	rig_sh("kill $(cat '%s/pid302') 2>/dev/null; true", rig.tmp);
	free(n);
	free(cause);
	free(url);
	free(port);
}
