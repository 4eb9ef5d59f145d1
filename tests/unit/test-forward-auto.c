/* test-forward-auto.c - an auto-forward watch whose container changes
 * (broker/forward-auto.c): a repeated "auto" request naming another config
 * or other id labels retargets the watch (its previous key kept for the
 * move, its attributes and seen ports replaced), the same one does not
 * (the default config named or not is the same; its attributes are
 * replaced, its seen ports kept but those only the old ones ignored);
 * only its auto-forwards of the previous key follow it, and they take the
 * new attributes (a requireLocalPort a moved forward's local port does not
 * meet is not claimed, and said for the same container only when an
 * attribute changed), for the same container too; and an explicit
 * request makes an auto-forward explicit. */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forward.h"
#include "log.h"
#include "xmalloc.h"

/* A request {"workspace":ws,"config"?, "idLabels": [labels...]?}; labels
 * is a NULL-ended list, or NULL for none. */
static cJSON *
request_in(const char *ws, const char *config, const char *const *labels)
{
	cJSON *o = cJSON_CreateObject(), *l;

	cJSON_AddStringToObject(o, "workspace", ws);
	if (config != NULL)
		cJSON_AddStringToObject(o, "config", config);
	if (labels != NULL) {
		l = cJSON_AddArrayToObject(o, "idLabels");
		for (; *labels != NULL; labels++)
			cJSON_AddItemToArray(l, cJSON_CreateString(*labels));
	}
	return o;
}

/* The same of workspace "/ws". */
static cJSON *
request(const char *config, const char *const *labels)
{
	return request_in("/ws", config, labels);
}

/* Attributes {"portsAttributes":{"PORT":{"label","onAutoForward"}}}. */
static cJSON *
attributes(int port, const char *label, const char *action)
{
	cJSON *o = cJSON_CreateObject(), *pa, *p;
	char name[16];

	snprintf(name, sizeof name, "%d", port);
	pa = cJSON_AddObjectToObject(o, "portsAttributes");
	p = cJSON_AddObjectToObject(pa, name);
	cJSON_AddStringToObject(p, "label", label);
	cJSON_AddStringToObject(p, "onAutoForward", action);
	return o;
}

struct watch {
	struct forward_auto fa;
	struct forward relay;
};

/* A watch of ws made by a first request (config, labels), with attrs. */
static void
watch_init_in(struct watch *w, const char *ws, const char *config,
    const char *const *labels, const cJSON *attrs)
{
	cJSON *req = request_in(ws, config, labels);

	forward_auto_init(&w->fa, ws, config, attrs);
	forward_init(&w->relay, ws, config);
	forward_auto_take_request(&w->fa, &w->relay, req);
	cJSON_Delete(req);
}

/* The same of /ws. */
static void
watch_init(
    struct watch *w, const char *config, const char *const *labels, const cJSON *attrs)
{
	watch_init_in(w, "/ws", config, labels, attrs);
}

static void
watch_clear(struct watch *w)
{
	forward_auto_clear(&w->fa);
	forward_clear(&w->relay);
}

/* A forward of ws to port made for the container relay names then (an
 * auto-forward when action is not NULL). */
static void
forward_like(struct forward *fw, const char *ws, int port, const struct forward *relay,
    const char *action)
{
	forward_init(fw, ws, relay->config);
	fw->port = port;
	forward_take_fields_of(fw, relay, NULL);
	fw->auto_action = action != NULL ? xstrdup(action) : NULL;
}

static const char *const labels_a[] = { "case=1", "which=a", NULL };
static const char *const labels_a_swapped[] = { "which=a", "case=1", NULL };
static const char *const labels_b[] = { "case=1", "which=b", NULL };

TEST(the_same_container_again_is_no_move_and_takes_the_new_attributes)
{
	struct forward_key was = { 0 };
	cJSON *attrs = attributes(3000, "web", "notify");
	cJSON *other = attributes(3000, "other", "silent");
	cJSON *req = request(NULL, labels_a_swapped);
	struct watch w;

	watch_init(&w, NULL, labels_a, attrs);
	forward_auto_mark(&w.fa, 3000);
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, other, &was), 0);
	/* was: the container it follows still (its auto-forwards are brought
	 * up to date) */
	ASSERT_STR_EQ(was.workspace, "/ws");
	ASSERT_TRUE(forward_of(&w.relay, &was));
	ASSERT_INT_EQ((long long)w.fa.ndone, 1); /* seen ports kept */
	ASSERT_TRUE(cJSON_Compare(w.fa.attrs, other, 1));
	forward_key_clear(&was);
	cJSON_Delete(req);
	cJSON_Delete(attrs);
	cJSON_Delete(other);
	watch_clear(&w);
}

/* What forward_auto_take_listing gave its add callback: ports in order. */
struct listed {
	int ports[8];
	int n;
};

static int
exists_none(void *arg, int port)
{
	(void)arg;
	(void)port;
	return 0;
}

static void
add_listed(void *arg, const struct forward_auto_port *p)
{
	struct listed *l = arg;

	if (l->n < 8)
		l->ports[l->n++] = p->port;
}

/* Take req (attrs) on w: the same container, so no move. */
static void
retarget_same(struct watch *w, const cJSON *req, const cJSON *attrs)
{
	struct forward_key was = { 0 };

	ASSERT_INT_EQ(forward_auto_retarget(&w->fa, &w->relay, req, attrs, &was), 0);
	forward_key_clear(&was);
}

/* Take listing (copied) into w; what it forwards into l (emptied first). */
static void
take_listing(struct watch *w, const char *listing, struct listed *l)
{
	char *copy = xstrdup(listing);

	l->n = 0;
	(void)forward_auto_take_listing(&w->fa, copy, "test", exists_none, add_listed, l);
	free(copy);
}

/* Digit lines from a program that took a dead relay's port forward
 * nothing and mark nothing: the caller drops the target. */
TEST(a_listing_that_is_not_a_relays_forwards_nothing)
{
	const char *bad[] = { "3000\n4000\n", "22 SSH-2.0-OpenSSH\n",
		"3000 127.0.0.1\n4000\n" };
	struct listed l;
	struct watch w;
	char *copy;

	watch_init(&w, NULL, labels_a, NULL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		copy = xstrdup(bad[i]);
		l.n = 0;
		ASSERT_INT_EQ(forward_auto_take_listing(
				  &w.fa, copy, "test", exists_none, add_listed, &l),
		    FORWARD_AUTO_NOT_LISTING);
		free(copy);
		ASSERT_INT_EQ(l.n, 0);
	}
	/* (nothing was marked seen: the real relay's listing forwards them) */
	take_listing(&w, "3000 127.0.0.1\n4000 0.0.0.0\n", &l);
	ASSERT_INT_EQ(l.n, 2);
	ASSERT_INT_EQ(l.ports[0], 3000);
	ASSERT_INT_EQ(l.ports[1], 4000);
	watch_clear(&w);
}

/* Docker's embedded DNS (127.0.0.11, a user-defined network's) is no
 * port of the user's: not forwarded; 127.0.0.1 and the rest are. */
TEST(dockers_embedded_dns_listener_is_not_auto_forwarded)
{
	struct watch w;
	struct listed l = { 0 };

	watch_init(&w, NULL, labels_a, NULL);
	take_listing(&w, "40155 127.0.0.11\n3000 127.0.0.1\n3001 127.0.0.12\n", &l);
	ASSERT_INT_EQ(l.n, 2);
	ASSERT_INT_EQ(l.ports[0], 3000);
	ASSERT_INT_EQ(l.ports[1], 3001);
	watch_clear(&w);
}

TEST(a_port_ignored_before_is_forwarded_once_the_new_attributes_do_not)
{
	cJSON *before = attributes(3001, "admin", "ignore");
	cJSON *now = attributes(3001, "admin", "silent");
	cJSON *req = request(NULL, labels_a);
	struct listed l;
	struct watch w;

	watch_init(&w, NULL, labels_a, before);
	take_listing(&w, "3000 0.0.0.0\n3001 127.0.0.1\n", &l);
	ASSERT_INT_EQ(l.n, 1);
	ASSERT_INT_EQ(l.ports[0], 3000);
	retarget_same(&w, req, now);
	/* 3000 stays seen (no new forward of it); 3001 is new now */
	take_listing(&w, "3000 0.0.0.0\n3001 127.0.0.1\n", &l);
	ASSERT_INT_EQ(l.n, 1);
	ASSERT_INT_EQ(l.ports[0], 3001);
	take_listing(&w, "3000 0.0.0.0\n3001 127.0.0.1\n", &l);
	ASSERT_INT_EQ(l.n, 0);
	/* ignored again, then not: forwarded again (it was stopped meanwhile) */
	retarget_same(&w, req, before);
	take_listing(&w, "3001 127.0.0.1\n", &l);
	ASSERT_INT_EQ(l.n, 0);
	retarget_same(&w, req, now);
	take_listing(&w, "3001 127.0.0.1\n", &l);
	ASSERT_INT_EQ(l.n, 1);
	cJSON_Delete(req);
	cJSON_Delete(before);
	cJSON_Delete(now);
	watch_clear(&w);
}

TEST(no_config_and_the_default_config_named_are_the_same_container)
{
	static const struct {
		const char *ws, *config;
		int moves;
	} cases[] = {
		{ "/ws", "/ws/.devcontainer/devcontainer.json", 0 },
		{ "/ws", "/ws/./.devcontainer//devcontainer.json", 0 },
		{ "/ws/", "/x/../ws/.devcontainer/devcontainer.json/", 0 },
		{ "/", "/.devcontainer/devcontainer.json", 0 },
		/* relative: to the agent's folder (the home), as "~" is */
		{ "~/ws", "ws/.devcontainer/devcontainer.json", 0 },
		{ "~/ws", "./ws/.devcontainer/devcontainer.json", 0 },
		{ "ws", "ws/.devcontainer/devcontainer.json", 0 },
		{ "~", ".devcontainer/devcontainer.json", 0 },
		{ "~", "./.devcontainer/devcontainer.json", 0 },
		/* not the workspace's default file */
		{ "/ws", ".devcontainer/devcontainer.json", 1 },
		{ "~/ws", "/ws/.devcontainer/devcontainer.json", 1 },
		{ "~/ws", "../ws/.devcontainer/devcontainer.json", 1 },
		{ "/ws", "/ws/.devcontainer/b/devcontainer.json", 1 },
		{ "/ws", "/ws/.devcontainer.json", 1 },
		{ "/ws", "/other/.devcontainer/devcontainer.json", 1 },
	};
	struct forward_key was;
	struct forward made;
	struct watch w;
	cJSON *req;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		req = request_in(cases[i].ws, cases[i].config, NULL);
		/* no --config first, then the case's */
		watch_init_in(&w, cases[i].ws, NULL, NULL, NULL);
		forward_like(&made, cases[i].ws, 3000, &w.relay, "notify");
		memset(&was, 0, sizeof was);
		if (forward_auto_retarget(&w.fa, &w.relay, req, NULL, &was) !=
		    cases[i].moves)
			TEST_FAIL("%s --config %s: moves %d, want %d", cases[i].ws,
			    cases[i].config, !cases[i].moves, cases[i].moves);
		ASSERT_TRUE(forward_auto_follows(&was, &made));
		forward_key_clear(&was);
		forward_clear(&made);
		watch_clear(&w);
		/* and the other way round */
		watch_init_in(&w, cases[i].ws, cases[i].config, NULL, NULL);
		cJSON_Delete(req);
		req = request_in(cases[i].ws, NULL, NULL);
		if (forward_auto_retarget(&w.fa, &w.relay, req, NULL, &was) !=
		    cases[i].moves)
			TEST_FAIL("%s --config %s, then none: moves %d, want %d",
			    cases[i].ws, cases[i].config, !cases[i].moves,
			    cases[i].moves);
		forward_key_clear(&was);
		watch_clear(&w);
		cJSON_Delete(req);
	}
}

TEST(an_auto_forward_of_the_same_container_takes_the_new_attributes)
{
	struct forward_key was = { 0 };
	cJSON *old = attributes(3000, "old-web", "openBrowser");
	cJSON *now = attributes(3000, "new-web", "silent");
	cJSON *gone = attributes(3000, "new-web", "ignore");
	cJSON *req = request("/ws/.devcontainer/devcontainer.json", labels_a);
	struct forward made, explicit;
	struct watch w;

	watch_init(&w, NULL, labels_a, old);
	forward_like(&made, "/ws", 3000, &w.relay, "openBrowser");
	made.label = xstrdup("old-web");
	made.local_port = 3000;
	made.have_target = 1;
	made.container_id = xstrdup("aaaa");
	made.address = xstrdup("172.17.0.2");
	forward_like(&explicit, "/ws", 3000, &w.relay, NULL);
	explicit.label = xstrdup("old-web");
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, now, &was), 0);
	ASSERT_TRUE(forward_auto_follows(&was, &made));
	ASSERT_FALSE(forward_auto_follows(&was, &explicit)); /* (untouched) */
	ASSERT_INT_EQ(forward_auto_move(&w.fa, &w.relay, &made), FORWARD_AUTO_CHANGED);
	ASSERT_STR_EQ(made.label, "new-web");
	ASSERT_STR_EQ(made.auto_action, "silent");
	ASSERT_INT_EQ(made.have_target, 1); /* (its container still) */
	ASSERT_STR_EQ(made.config, "/ws/.devcontainer/devcontainer.json");
	/* the same again: nothing changed */
	ASSERT_INT_EQ(forward_auto_move(&w.fa, &w.relay, &made), 0);
	forward_key_clear(&was);
	/* now ignored: the caller stops it */
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, gone, &was), 0);
	ASSERT_INT_EQ(forward_auto_move(&w.fa, &w.relay, &made), -1);
	forward_key_clear(&was);
	forward_clear(&made);
	forward_clear(&explicit);
	cJSON_Delete(req);
	cJSON_Delete(old);
	cJSON_Delete(now);
	cJSON_Delete(gone);
	watch_clear(&w);
}

TEST(other_id_labels_retarget_the_watch_and_keep_its_previous_key)
{
	struct forward_key was = { 0 }, now = { 0 };
	cJSON *attrs = attributes(3000, "web", "notify");
	cJSON *other = attributes(3000, "other", "silent");
	cJSON *req = request(NULL, labels_b);
	struct watch w;

	watch_init(&w, NULL, labels_a, attrs);
	forward_auto_mark(&w.fa, 3000);
	forward_auto_mark(&w.fa, 3001);
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, other, &was), 1);
	/* was: the container it followed; the relay: the new one */
	ASSERT_STR_EQ(was.workspace, "/ws");
	ASSERT_INT_EQ(cJSON_GetArraySize(was.id_labels), 2);
	ASSERT_STR_EQ(cJSON_GetArrayItem(was.id_labels, 1)->valuestring, "which=a");
	forward_key_of_request(&now, req);
	ASSERT_TRUE(forward_of(&w.relay, &now));
	ASSERT_FALSE(forward_of(&w.relay, &was));
	/* the new container's ports are listed afresh, as its attributes say */
	ASSERT_INT_EQ((long long)w.fa.ndone, 0);
	ASSERT_TRUE(cJSON_Compare(w.fa.attrs, other, 1));
	forward_key_clear(&was);
	forward_key_clear(&now);
	cJSON_Delete(req);
	cJSON_Delete(attrs);
	cJSON_Delete(other);
	watch_clear(&w);
}

TEST(another_config_retargets_the_watch)
{
	struct forward_key was = { 0 };
	cJSON *req = request(".devcontainer/b/devcontainer.json", labels_a);
	cJSON *same = request("./.devcontainer//b/devcontainer.json", labels_a);
	struct watch w;

	watch_init(&w, NULL, labels_a, NULL);
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, NULL, &was), 1);
	ASSERT_NULL(was.config_key);
	ASSERT_STR_EQ(w.fa.config, ".devcontainer/b/devcontainer.json");
	forward_key_clear(&was);
	/* the same file named otherwise is the same container */
	retarget_same(&w, same, NULL);
	cJSON_Delete(req);
	cJSON_Delete(same);
	watch_clear(&w);
}

TEST(only_the_watchs_auto_forwards_of_its_previous_key_follow)
{
	struct forward made, explicit, other_ws, service, gone, third, since;
	struct forward_key was = { 0 };
	cJSON *req = request(NULL, labels_b);
	struct watch w, w3;

	watch_init(&w, NULL, labels_a, NULL);
	watch_init(&w3, "other.json", labels_a, NULL);
	forward_like(&made, "/ws", 3000, &w.relay, "notify");
	forward_like(&explicit, "/ws", 3001, &w.relay, NULL);
	forward_like(&other_ws, "/other", 3002, &w.relay, "notify");
	forward_like(&service, "/ws", 3003, &w.relay, "notify");
	service.service = xstrdup("db");
	forward_like(&gone, "/ws", 3004, &w.relay, "notify");
	gone.gone = 1;
	forward_like(&third, "/ws", 3005, &w3.relay, "notify");
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, NULL, &was), 1);
	forward_like(&since, "/ws", 3006, &w.relay, "notify");
	ASSERT_INT_EQ(forward_auto_follows(&was, &made), 1);
	ASSERT_INT_EQ(forward_auto_follows(&was, &explicit), 0);
	ASSERT_INT_EQ(forward_auto_follows(&was, &other_ws), 0);
	ASSERT_INT_EQ(forward_auto_follows(&was, &service), 0);
	ASSERT_INT_EQ(forward_auto_follows(&was, &gone), 0);
	ASSERT_INT_EQ(forward_auto_follows(&was, &third), 0);
	ASSERT_INT_EQ(forward_auto_follows(&was, &since), 0);
	forward_key_clear(&was);
	forward_clear(&made);
	forward_clear(&explicit);
	forward_clear(&other_ws);
	forward_clear(&service);
	forward_clear(&gone);
	forward_clear(&third);
	forward_clear(&since);
	cJSON_Delete(req);
	watch_clear(&w);
	watch_clear(&w3);
}

TEST(a_moved_forward_takes_the_new_containers_attributes)
{
	struct forward_key was = { 0 }, now = { 0 };
	cJSON *old = attributes(3000, "old-web", "openBrowser");
	cJSON *other = attributes(3000, "new-web", "silent");
	cJSON *req = request(NULL, labels_b);
	struct forward made;
	struct watch w;

	watch_init(&w, NULL, labels_a, old);
	forward_like(&made, "/ws", 3000, &w.relay, "openBrowser");
	made.label = xstrdup("old-web");
	made.require_local = 1;
	made.have_target = 1;
	made.container_id = xstrdup("aaaa");
	made.address = xstrdup("172.17.0.2");
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, other, &was), 1);
	ASSERT_INT_EQ(forward_auto_move(&w.fa, &w.relay, &made), FORWARD_AUTO_CHANGED);
	forward_key_of_request(&now, req);
	ASSERT_TRUE(forward_of(&made, &now));
	ASSERT_INT_EQ(forward_auto_follows(&was, &made), 0); /* (moved once) */
	ASSERT_INT_EQ(made.have_target, 0); /* the new container is asked for */
	ASSERT_STR_EQ(made.label, "new-web");
	ASSERT_STR_EQ(made.auto_action, "silent");
	ASSERT_INT_EQ(made.require_local, 0);
	ASSERT_INT_EQ(made.port, 3000);
	forward_key_clear(&was);
	forward_key_clear(&now);
	forward_clear(&made);
	cJSON_Delete(req);
	cJSON_Delete(old);
	cJSON_Delete(other);
	watch_clear(&w);
}

TEST(a_port_the_new_attributes_ignore_is_not_moved)
{
	struct forward_key was = { 0 };
	cJSON *other = attributes(3000, "ignored", "ignore");
	cJSON *req = request(NULL, labels_b);
	struct forward made;
	struct watch w;

	watch_init(&w, NULL, labels_a, NULL);
	forward_like(&made, "/ws", 3000, &w.relay, "notify");
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, other, &was), 1);
	ASSERT_INT_EQ(forward_auto_move(&w.fa, &w.relay, &made), -1);
	ASSERT_TRUE(forward_of(&made, &was)); /* left as it was: stopped */
	ASSERT_STR_EQ(made.auto_action, "notify");
	forward_key_clear(&was);
	forward_clear(&made);
	cJSON_Delete(req);
	cJSON_Delete(other);
	watch_clear(&w);
}

TEST(a_required_local_port_the_moved_forward_does_not_have_is_not_claimed)
{
	struct forward_key was = { 0 };
	cJSON *other = attributes(3000, "web", "notify");
	cJSON *req = request(NULL, labels_b);
	struct forward same, elsewhere;
	struct watch w;

	cJSON_AddTrueToObject(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(other, "portsAttributes"), "3000"),
	    "requireLocalPort");
	watch_init(&w, NULL, labels_a, NULL);
	forward_like(&same, "/ws", 3000, &w.relay, "notify");
	same.local_port = 3000;
	forward_like(&elsewhere, "/ws", 3000, &w.relay, "notify");
	elsewhere.local_port = 43000; /* (3000 was taken when it was made) */
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, other, &was), 1);
	ASSERT_INT_EQ(forward_auto_move(&w.fa, &w.relay, &same),
	    FORWARD_AUTO_CHANGED); /* (its label) */
	ASSERT_INT_EQ(same.require_local, 1);
	ASSERT_INT_EQ(forward_auto_move(&w.fa, &w.relay, &elsewhere),
	    FORWARD_AUTO_UNMET | FORWARD_AUTO_CHANGED); /* (its label) */
	ASSERT_INT_EQ(elsewhere.require_local, 0);
	ASSERT_INT_EQ(elsewhere.local_port, 43000);
	ASSERT_STR_EQ(elsewhere.label, "web");
	forward_key_clear(&was);
	forward_clear(&same);
	forward_clear(&elsewhere);
	cJSON_Delete(req);
	cJSON_Delete(other);
	watch_clear(&w);
}

/* A forward_make_fn that gives the forward arg (there already). */
static struct forward *
make_there(void *arg, const char *ws, const char *config, const struct forward_spec *s,
    int exact, char **cause)
{
	(void)ws;
	(void)config;
	(void)s;
	(void)exact;
	(void)cause;
	return arg;
}

TEST(an_explicit_request_for_an_auto_forward_makes_it_explicit)
{
	struct forward_key was = { 0 };
	cJSON *req = request(NULL, labels_a), *done = cJSON_CreateArray();
	cJSON *errors = cJSON_CreateArray(), *e;
	struct forward made;
	struct watch w;

	watch_init(&w, NULL, labels_a, NULL);
	forward_like(&made, "/ws", 3000, &w.relay, "notify");
	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "port", 3000);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "forwards"), e);
	forward_request_make(req, make_there, &made, NULL, done, errors);
	ASSERT_INT_EQ(cJSON_GetArraySize(done), 1);
	ASSERT_NULL(made.auto_action);
	forward_key_of(&was, &w.relay);
	ASSERT_INT_EQ(forward_auto_follows(&was, &made), 0);
	forward_key_clear(&was);
	forward_clear(&made);
	cJSON_Delete(req);
	cJSON_Delete(done);
	cJSON_Delete(errors);
	watch_clear(&w);
}

/* A forward_make_fn that must not be called. */
static struct forward *
make_none(void *arg, const char *ws, const char *config, const struct forward_spec *s,
    int exact, char **cause)
{
	(void)arg;
	(void)ws;
	(void)config;
	(void)exact;
	(void)cause;
	TEST_FAIL("made a forward to container port %d", s->port);
	return NULL;
}

/* Container port 0 (an image label's forwardPorts, which config validation
 * does not see) or a local port out of range: refused, nothing listened
 * for (a random local port to container port 0, before). */
TEST(a_request_for_port_zero_is_refused)
{
	static const char *const bad[] = { "{\"port\":0}", "{\"port\":70000}",
		"{\"port\":-1}", "{\"port\":80,\"local\":70000}" };
	static const char *const want[] = { "container port 0 is not a port (1-65535)",
		"container port 70000 is not a port (1-65535)",
		"container port -1 is not a port (1-65535)",
		"the local port is not a port (1-65535)" };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cJSON *req = cJSON_CreateObject(), *done = cJSON_CreateArray();
		cJSON *errors = cJSON_CreateArray();

		cJSON_AddStringToObject(req, "workspace", "/ws");
		cJSON_AddItemToArray(
		    cJSON_AddArrayToObject(req, "forwards"), cJSON_Parse(bad[i]));
		forward_request_make(req, make_none, NULL, NULL, done, errors);
		ASSERT_INT_EQ(cJSON_GetArraySize(done), 0);
		ASSERT_INT_EQ(cJSON_GetArraySize(errors), 1);
		ASSERT_STR_EQ(cJSON_GetArrayItem(errors, 0)->valuestring, want[i]);
		cJSON_Delete(req);
		cJSON_Delete(done);
		cJSON_Delete(errors);
	}
}

/* What forward_auto_move_warn(label "h", fw, "/ws", moved, rc) writes to
 * the log (stderr), at the info level: into out (size n). */
static void
move_log(const struct forward *fw, int moved, int rc, char *out, size_t n)
{
	char path[] = "/tmp/test-forward-auto-log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	enum log_level level = log_get_level();
	ssize_t len;

	if (fd < 0 || saved < 0)
		TEST_FAIL("mkstemp, dup: %s", strerror(errno));
	unlink(path);
	log_set_level(LOG_INFO);
	fflush(stderr);
	dup2(fd, 2);
	forward_auto_move_warn("h", fw, "/ws", moved, rc);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log_set_level(level);
	len = pread(fd, out, n - 1, 0);
	out[len > 0 ? len : 0] = '\0';
	close(fd);
}

TEST(an_unmet_required_local_port_is_said_only_when_an_attribute_changed)
{
	cJSON *attrs = attributes(3000, "web", "notify");
	cJSON *renamed = attributes(3000, "web2", "notify");
	cJSON *req = request(NULL, labels_a);
	struct forward fw;
	struct watch w;
	char log[1024];
	int rc;

	cJSON_AddTrueToObject(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(attrs, "portsAttributes"), "3000"),
	    "requireLocalPort");
	cJSON_AddTrueToObject(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(renamed, "portsAttributes"), "3000"),
	    "requireLocalPort");
	watch_init(&w, NULL, labels_a, attrs);
	forward_like(&fw, "/ws", 3000, &w.relay, "notify");
	fw.label = xstrdup("web");
	fw.local_port = 43000; /* (3000 was taken when it was made) */
	/* up --auto-forward again, the same attributes: nothing to say */
	retarget_same(&w, req, attrs);
	rc = forward_auto_move(&w.fa, &w.relay, &fw);

	move_log(&fw, 0, rc, log, sizeof log);
	ASSERT_STR_EQ(log, "");
	/* its label changed: the warning says the requireLocalPort too */
	retarget_same(&w, req, renamed);
	rc = forward_auto_move(&w.fa, &w.relay, &fw);

	move_log(&fw, 0, rc, log, sizeof log);
	ASSERT_TRUE(strstr(log,
			"takes its watch's new portsAttributes (its "
			"requireLocalPort is not met") != NULL);
	ASSERT_STR_EQ(fw.label, "web2");
	ASSERT_INT_EQ(fw.require_local, 0);
	/* requireLocalPort dropped (a change), then asked for again, nothing
	 * else changed: said */
	cJSON_DeleteItemFromObjectCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(renamed, "portsAttributes"), "3000"),
	    "requireLocalPort");
	retarget_same(&w, req, renamed);
	ASSERT_INT_EQ(forward_auto_move(&w.fa, &w.relay, &fw), FORWARD_AUTO_CHANGED);

	cJSON_AddTrueToObject(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(renamed, "portsAttributes"), "3000"),
	    "requireLocalPort");
	retarget_same(&w, req, renamed);
	rc = forward_auto_move(&w.fa, &w.relay, &fw);

	ASSERT_INT_EQ(rc, FORWARD_AUTO_UNMET | FORWARD_AUTO_CHANGED);
	ASSERT_STR_EQ(fw.label, "web2"); /* (the only change: requireLocalPort) */
	move_log(&fw, 0, rc, log, sizeof log);
	ASSERT_TRUE(strstr(log,
			"takes its watch's new portsAttributes (its "
			"requireLocalPort is not met") != NULL);
	/* a move always says it, changed or not */
	move_log(&fw, 1, FORWARD_AUTO_UNMET, log, sizeof log);
	ASSERT_TRUE(strstr(log,
			"moved to the container its watch follows now (its "
			"requireLocalPort is not met") != NULL);
	forward_clear(&fw);
	cJSON_Delete(req);
	cJSON_Delete(attrs);
	cJSON_Delete(renamed);
	watch_clear(&w);
}

TEST(a_required_local_port_asked_for_by_a_watch_with_no_attributes_is_said)
{
	cJSON *req = request(NULL, labels_a);
	cJSON *required = cJSON_CreateObject(), *p;
	struct forward fw;
	struct watch w;
	char log[1024];
	int rc;

	/* {"portsAttributes":{"3000":{"requireLocalPort":true}}}: its label
	 * and onAutoForward as with none */
	p = cJSON_AddObjectToObject(
	    cJSON_AddObjectToObject(required, "portsAttributes"), "3000");
	cJSON_AddTrueToObject(p, "requireLocalPort");
	/* a watch made (or restored from a saved entry) without "attributes":
	 * its attrs NULL */
	watch_init(&w, NULL, labels_a, NULL);
	ASSERT_NULL(w.fa.attrs);
	forward_like(&fw, "/ws", 3000, &w.relay, "notify");
	fw.local_port = 43000; /* (3000 was taken when it was made) */
	retarget_same(&w, req, required);
	rc = forward_auto_move(&w.fa, &w.relay, &fw);

	/* requireLocalPort is the only change, and one */
	ASSERT_INT_EQ(rc, FORWARD_AUTO_UNMET | FORWARD_AUTO_CHANGED);
	ASSERT_NULL(fw.label);
	ASSERT_STR_EQ(fw.auto_action, "notify");
	ASSERT_INT_EQ(fw.require_local, 0);
	move_log(&fw, 0, rc, log, sizeof log);
	ASSERT_TRUE(strstr(log,
			"takes its watch's new portsAttributes (its "
			"requireLocalPort is not met") != NULL);
	/* the same again: said once */
	retarget_same(&w, req, required);
	rc = forward_auto_move(&w.fa, &w.relay, &fw);

	ASSERT_INT_EQ(rc, FORWARD_AUTO_UNMET);
	move_log(&fw, 0, rc, log, sizeof log);
	ASSERT_STR_EQ(log, "");
	forward_clear(&fw);
	cJSON_Delete(req);
	cJSON_Delete(required);
	watch_clear(&w);
}
