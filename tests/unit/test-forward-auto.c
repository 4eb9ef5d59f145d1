/* test-forward-auto.c - an auto-forward watch whose container changes
 * (broker/forward-auto.c): a repeated "auto" request naming other id labels
 * or another config marks the watch moved, the same one does not; which
 * forwards then follow it to the new container (its earlier auto-forwards,
 * not the workspace's other forwards nor another workspace's). */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "xmalloc.h"

/* A request {"config"?, "idLabels": [label]?}. */
static cJSON *
request(const char *config, const char *label)
{
	cJSON *o = cJSON_CreateObject(), *l;

	if (config != NULL)
		cJSON_AddStringToObject(o, "config", config);
	if (label != NULL) {
		l = cJSON_AddArrayToObject(o, "idLabels");
		cJSON_AddItemToArray(l, cJSON_CreateString(label));
	}
	return o;
}

struct watch {
	struct forward_auto fa;
	struct forward relay;
};

static void
watch_init(struct watch *w, const char *config, const char *label)
{
	cJSON *req = request(config, label);

	forward_auto_init(&w->fa, "/ws", config, NULL);
	forward_init(&w->relay, "/ws", config);
	forward_auto_take_request(&w->fa, &w->relay, req);
	w->fa.moved = 0; /* (a new watch: nothing made yet) */
	cJSON_Delete(req);
}

static void
watch_clear(struct watch *w)
{
	forward_auto_clear(&w->fa);
	forward_clear(&w->relay);
}

TEST(the_same_request_again_is_no_move)
{
	struct watch w;
	cJSON *req = request(NULL, "a=1");

	watch_init(&w, NULL, "a=1");
	forward_auto_take_request(&w.fa, &w.relay, req);
	ASSERT_INT_EQ(w.fa.moved, 0);
	cJSON_Delete(req);
	watch_clear(&w);
}

TEST(other_id_labels_or_config_move_the_watch)
{
	struct watch w;
	cJSON *req = request(NULL, "a=2");

	watch_init(&w, NULL, "a=1");
	forward_auto_take_request(&w.fa, &w.relay, req);
	ASSERT_INT_EQ(w.fa.moved, 1);
	ASSERT_STR_EQ(cJSON_GetArrayItem(w.relay.id_labels, 0)->valuestring, "a=2");
	cJSON_Delete(req);
	w.fa.moved = 0;
	req = request(".devcontainer/other/devcontainer.json", "a=2");
	forward_auto_take_request(&w.fa, &w.relay, req);
	ASSERT_INT_EQ(w.fa.moved, 1);
	ASSERT_STR_EQ(w.fa.config, ".devcontainer/other/devcontainer.json");
	cJSON_Delete(req);
	watch_clear(&w);
}

/* A forward of ws to port, made as its watch's relay then was (an
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

TEST(earlier_auto_forwards_follow_a_moved_watch)
{
	struct forward made, explicit, other_ws, since;
	struct watch w;
	cJSON *req = request(NULL, "b=1");

	watch_init(&w, NULL, "a=1");
	forward_like(&made, "/ws", 3000, &w.relay, "notify");
	forward_like(&explicit, "/ws", 3001, &w.relay, NULL);
	forward_like(&other_ws, "/other", 3002, &w.relay, "notify");
	ASSERT_INT_EQ(forward_auto_follows(&w.relay, &made), 0);
	forward_auto_take_request(&w.fa, &w.relay, req);
	ASSERT_INT_EQ(w.fa.moved, 1);
	forward_like(&since, "/ws", 3003, &w.relay, "notify");
	ASSERT_INT_EQ(forward_auto_follows(&w.relay, &made), 1);
	ASSERT_INT_EQ(forward_auto_follows(&w.relay, &explicit), 0);
	ASSERT_INT_EQ(forward_auto_follows(&w.relay, &other_ws), 0);
	ASSERT_INT_EQ(forward_auto_follows(&w.relay, &since), 0);
	made.gone = 1; /* (stopped: its host drops it) */
	ASSERT_INT_EQ(forward_auto_follows(&w.relay, &made), 0);
	made.gone = 0;
	/* once it took the relay's fields it is the new container's */
	forward_take_fields_of(&made, &w.relay);
	ASSERT_INT_EQ(forward_auto_follows(&w.relay, &made), 0);
	ASSERT_TRUE(forward_of(&made, "/ws", NULL, w.relay.id_labels));
	cJSON_Delete(req);
	forward_clear(&made);
	forward_clear(&explicit);
	forward_clear(&other_ws);
	forward_clear(&since);
	watch_clear(&w);
}
