/* test-forward-auto.c - an auto-forward watch whose container changes
 * (broker/forward-auto.c): a repeated "auto" request naming another config
 * or other id labels retargets the watch (its previous key kept for the
 * move, its attributes and seen ports replaced), the same one does not;
 * only its auto-forwards of the previous key follow it, and they take the
 * new container's attributes (a requireLocalPort a moved forward's local
 * port does not meet is not claimed); an explicit request makes an
 * auto-forward explicit (forward.c). */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "xmalloc.h"

/* A request {"workspace":"/ws","config"?, "idLabels": [labels...]?}; labels
 * is a NULL-ended list, or NULL for none. */
static cJSON *
request(const char *config, const char *const *labels)
{
	cJSON *o = cJSON_CreateObject(), *l;

	cJSON_AddStringToObject(o, "workspace", "/ws");
	if (config != NULL)
		cJSON_AddStringToObject(o, "config", config);
	if (labels != NULL) {
		l = cJSON_AddArrayToObject(o, "idLabels");
		for (; *labels != NULL; labels++)
			cJSON_AddItemToArray(l, cJSON_CreateString(*labels));
	}
	return o;
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

/* A watch of /ws made by a first request (config, labels), with attrs. */
static void
watch_init(
    struct watch *w, const char *config, const char *const *labels, const cJSON *attrs)
{
	cJSON *req = request(config, labels);

	forward_auto_init(&w->fa, "/ws", config, attrs);
	forward_init(&w->relay, "/ws", config);
	forward_auto_take_request(&w->fa, &w->relay, req);
	cJSON_Delete(req);
}

static void
watch_clear(struct watch *w)
{
	forward_auto_clear(&w->fa);
	forward_clear(&w->relay);
}

static const char *const labels_a[] = { "case=1", "which=a", NULL };
static const char *const labels_a_swapped[] = { "which=a", "case=1", NULL };
static const char *const labels_b[] = { "case=1", "which=b", NULL };

/* A watch made for labels_a (with attrs) that a repeated request for
 * labels_b (with other: that container's attributes) retargets. */
struct retarget {
	struct watch w;
	cJSON *attrs, *other; /* owned; may be NULL */
	cJSON *req;
	struct forward_key was; /* the watch's key before (retarget_run) */
};

/* Make t's watch (attrs and other taken). */
static void
retarget_init(struct retarget *t, cJSON *attrs, cJSON *other)
{
	memset(t, 0, sizeof *t);
	t->attrs = attrs;
	t->other = other;
	t->req = request(NULL, labels_b);
	watch_init(&t->w, NULL, labels_a, attrs);
}

/* Take t's request: the watch must move (its previous key into t->was). */
static void
retarget_run(struct retarget *t)
{
	ASSERT_INT_EQ(
	    forward_auto_retarget(&t->w.fa, &t->w.relay, t->req, t->other, &t->was), 1);
}

static void
retarget_clear(struct retarget *t)
{
	watch_clear(&t->w);
	forward_key_clear(&t->was);
	cJSON_Delete(t->req);
	cJSON_Delete(t->attrs);
	cJSON_Delete(t->other);
}

TEST(the_same_container_again_is_no_move)
{
	struct forward_key was = { 0 };
	cJSON *attrs = attributes(3000, "web", "notify");
	cJSON *other = attributes(3000, "other", "silent");
	cJSON *req = request(NULL, labels_a_swapped);
	struct watch w;

	watch_init(&w, NULL, labels_a, attrs);
	forward_auto_mark(&w.fa, 3000);
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, req, other, &was), 0);
	ASSERT_NULL(was.workspace);
	ASSERT_NULL(was.id_labels);
	ASSERT_INT_EQ((long long)w.fa.ndone, 1); /* seen ports kept */
	ASSERT_TRUE(cJSON_Compare(w.fa.attrs, attrs, 1));
	cJSON_Delete(req);
	cJSON_Delete(attrs);
	cJSON_Delete(other);
	watch_clear(&w);
}

TEST(other_id_labels_retarget_the_watch_and_keep_its_previous_key)
{
	struct forward_key now = { 0 };
	struct retarget t;

	retarget_init(
	    &t, attributes(3000, "web", "notify"), attributes(3000, "other", "silent"));
	forward_auto_mark(&t.w.fa, 3000);
	forward_auto_mark(&t.w.fa, 3001);
	retarget_run(&t);
	/* was: the container it followed; the relay: the new one */
	ASSERT_STR_EQ(t.was.workspace, "/ws");
	ASSERT_INT_EQ(cJSON_GetArraySize(t.was.id_labels), 2);
	ASSERT_STR_EQ(cJSON_GetArrayItem(t.was.id_labels, 1)->valuestring, "which=a");
	forward_key_of_request(&now, t.req);
	ASSERT_TRUE(forward_of(&t.w.relay, &now));
	ASSERT_FALSE(forward_of(&t.w.relay, &t.was));
	/* the new container's ports are listed afresh, as its attributes say */
	ASSERT_INT_EQ((long long)t.w.fa.ndone, 0);
	ASSERT_TRUE(cJSON_Compare(t.w.fa.attrs, t.other, 1));
	forward_key_clear(&now);
	retarget_clear(&t);
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
	ASSERT_INT_EQ(forward_auto_retarget(&w.fa, &w.relay, same, NULL, &was), 0);
	cJSON_Delete(req);
	cJSON_Delete(same);
	watch_clear(&w);
}

/* A forward of ws to port made for the container relay names then (an
 * auto-forward when action is not NULL). */
static void
forward_like(struct forward *fw, const char *ws, int port, const struct forward *relay,
    const char *action)
{
	forward_init(fw, ws, relay->config);
	fw->port = port;
	forward_take_fields_of(fw, relay);
	fw->auto_action = action != NULL ? xstrdup(action) : NULL;
}

TEST(only_the_watchs_auto_forwards_of_its_previous_key_follow)
{
	struct forward made, explicit, other_ws, service, gone, third, since;
	struct retarget t;
	struct watch w3;

	retarget_init(&t, NULL, NULL);
	watch_init(&w3, "other.json", labels_a, NULL);
	forward_like(&made, "/ws", 3000, &t.w.relay, "notify");
	forward_like(&explicit, "/ws", 3001, &t.w.relay, NULL);
	forward_like(&other_ws, "/other", 3002, &t.w.relay, "notify");
	forward_like(&service, "/ws", 3003, &t.w.relay, "notify");
	service.service = xstrdup("db");
	forward_like(&gone, "/ws", 3004, &t.w.relay, "notify");
	gone.gone = 1;
	forward_like(&third, "/ws", 3005, &w3.relay, "notify");
	retarget_run(&t);
	forward_like(&since, "/ws", 3006, &t.w.relay, "notify");
	ASSERT_INT_EQ(forward_auto_follows(&t.was, &made), 1);
	ASSERT_INT_EQ(forward_auto_follows(&t.was, &explicit), 0);
	ASSERT_INT_EQ(forward_auto_follows(&t.was, &other_ws), 0);
	ASSERT_INT_EQ(forward_auto_follows(&t.was, &service), 0);
	ASSERT_INT_EQ(forward_auto_follows(&t.was, &gone), 0);
	ASSERT_INT_EQ(forward_auto_follows(&t.was, &third), 0);
	ASSERT_INT_EQ(forward_auto_follows(&t.was, &since), 0);
	forward_clear(&made);
	forward_clear(&explicit);
	forward_clear(&other_ws);
	forward_clear(&service);
	forward_clear(&gone);
	forward_clear(&third);
	forward_clear(&since);
	retarget_clear(&t);
	watch_clear(&w3);
}

TEST(a_moved_forward_takes_the_new_containers_attributes)
{
	struct forward_key now = { 0 };
	struct forward made;
	struct retarget t;

	retarget_init(&t, attributes(3000, "old-web", "openBrowser"),
	    attributes(3000, "new-web", "silent"));
	forward_like(&made, "/ws", 3000, &t.w.relay, "openBrowser");
	made.label = xstrdup("old-web");
	made.require_local = 1;
	made.have_target = 1;
	made.container_id = xstrdup("aaaa");
	made.address = xstrdup("172.17.0.2");
	retarget_run(&t);
	ASSERT_INT_EQ(forward_auto_move(&t.w.fa, &t.w.relay, &made), 0);
	forward_key_of_request(&now, t.req);
	ASSERT_TRUE(forward_of(&made, &now));
	ASSERT_INT_EQ(forward_auto_follows(&t.was, &made), 0); /* (moved once) */
	ASSERT_INT_EQ(made.have_target, 0); /* the new container is asked for */
	ASSERT_STR_EQ(made.label, "new-web");
	ASSERT_STR_EQ(made.auto_action, "silent");
	ASSERT_INT_EQ(made.require_local, 0);
	ASSERT_INT_EQ(made.port, 3000);
	forward_key_clear(&now);
	forward_clear(&made);
	retarget_clear(&t);
}

TEST(a_port_the_new_attributes_ignore_is_not_moved)
{
	struct forward made;
	struct retarget t;

	retarget_init(&t, NULL, attributes(3000, "ignored", "ignore"));
	forward_like(&made, "/ws", 3000, &t.w.relay, "notify");
	retarget_run(&t);
	ASSERT_INT_EQ(forward_auto_move(&t.w.fa, &t.w.relay, &made), -1);
	ASSERT_TRUE(forward_of(&made, &t.was)); /* left as it was: stopped */
	ASSERT_STR_EQ(made.auto_action, "notify");
	forward_clear(&made);
	retarget_clear(&t);
}

TEST(a_required_local_port_the_moved_forward_does_not_have_is_not_claimed)
{
	cJSON *other = attributes(3000, "web", "notify");
	struct forward same, elsewhere;
	struct retarget t;

	cJSON_AddTrueToObject(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(other, "portsAttributes"), "3000"),
	    "requireLocalPort");
	retarget_init(&t, NULL, other);
	forward_like(&same, "/ws", 3000, &t.w.relay, "notify");
	same.local_port = 3000;
	forward_like(&elsewhere, "/ws", 3000, &t.w.relay, "notify");
	elsewhere.local_port = 43000; /* (3000 was taken when it was made) */
	retarget_run(&t);
	ASSERT_INT_EQ(forward_auto_move(&t.w.fa, &t.w.relay, &same), 0);
	ASSERT_INT_EQ(same.require_local, 1);
	ASSERT_INT_EQ(forward_auto_move(&t.w.fa, &t.w.relay, &elsewhere), 1);
	ASSERT_INT_EQ(elsewhere.require_local, 0);
	ASSERT_INT_EQ(elsewhere.local_port, 43000);
	ASSERT_STR_EQ(elsewhere.label, "web");
	forward_clear(&same);
	forward_clear(&elsewhere);
	retarget_clear(&t);
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
