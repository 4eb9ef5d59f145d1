/* test-forward-order.c - unit tests for broker/forward-order.c: the order of
 * a host's forward and unforward requests. */
#include "test.h"

#include <string.h>

#include "forward-order.h"

/* A request as the hosts keep it: its JSON, its place in the order. */
struct req {
	const char *name;
	cJSON *json;
	struct forward_order_entry order;
};

/* A test's order and its requests, freed together (fixture_clear). */
struct fixture {
	struct forward_order o;
	struct req reqs[8];
	int n;
};

static void
fixture_init(struct fixture *fx)
{
	memset(fx, 0, sizeof *fx);
	forward_order_init(&fx->o);
}

/* A new request of op for ws (NULL: every workspace), named name. */
static struct req *
req_new(struct fixture *fx, const char *name, const char *op, const char *ws)
{
	struct req *r = &fx->reqs[fx->n++];

	r->name = name;
	r->json = cJSON_CreateObject();
	cJSON_AddStringToObject(r->json, "op", op);
	if (ws != NULL)
		cJSON_AddStringToObject(r->json, "workspace", ws);
	return r;
}

static void
fixture_clear(struct fixture *fx)
{
	for (int i = 0; i < fx->n; i++)
		cJSON_Delete(fx->reqs[i].json);
}

/* Must r wait, were it to come now? */
static int
waits(struct fixture *fx, const struct req *r)
{
	return forward_order_must_wait(&fx->o, r->json);
}

/* r's look at its workspace starts, or ends. */
static void
look(struct fixture *fx, struct req *r)
{
	forward_order_look(&fx->o, &r->order, r->json, r);
}

static void
look_end(struct fixture *fx, struct req *r)
{
	forward_order_look_end(&fx->o, &r->order);
}

/* Hold r after checking that it must wait. */
static void
hold(struct fixture *fx, struct req *r)
{
	ASSERT_TRUE(waits(fx, r));
	forward_order_hold(&fx->o, &r->order, r->json, r);
}

/* The name of the next request released, or "-" for none. */
static const char *
next_name(struct fixture *fx)
{
	struct req *r = forward_order_next(&fx->o);

	return r != NULL ? r->name : "-";
}

TEST(nothing_in_flight_nothing_waits)
{
	struct fixture fx;

	fixture_init(&fx);
	ASSERT_FALSE(waits(&fx, req_new(&fx, "f", "forward", "/a")));
	ASSERT_FALSE(waits(&fx, req_new(&fx, "u", "unforward", "/a")));
	ASSERT_FALSE(waits(&fx, req_new(&fx, "all", "unforward", NULL)));
	ASSERT_STR_EQ(next_name(&fx), "-");
	fixture_clear(&fx);
}

TEST(an_unforward_waits_for_a_look_of_its_workspace)
{
	struct fixture fx;
	struct req *la, *ua, *all;

	fixture_init(&fx);
	la = req_new(&fx, "la", "forward", "/a");
	ua = req_new(&fx, "ua", "unforward", "/a");
	all = req_new(&fx, "all", "unforward", NULL);
	look(&fx, la);
	ASSERT_TRUE(waits(&fx, ua));
	ASSERT_TRUE(waits(&fx, all)); /* every workspace */
	ASSERT_FALSE(waits(&fx, req_new(&fx, "ub", "unforward", "/b")));
	/* forwards do not queue behind each other's looks */
	ASSERT_FALSE(waits(&fx, req_new(&fx, "fa", "forward", "/a")));
	look_end(&fx, la);
	ASSERT_FALSE(waits(&fx, ua));
	ASSERT_FALSE(waits(&fx, all));
	fixture_clear(&fx);
}

TEST(a_look_of_every_workspace_holds_each_unforward)
{
	struct fixture fx;
	struct req *l;

	fixture_init(&fx);
	l = req_new(&fx, "l", "forward", NULL);
	look(&fx, l);
	ASSERT_TRUE(waits(&fx, req_new(&fx, "ub", "unforward", "/b")));
	look_end(&fx, l);
	fixture_clear(&fx);
}

TEST(a_forward_waits_only_for_an_unforward_held_before_it)
{
	struct fixture fx;
	struct req *la, *fa;

	fixture_init(&fx);
	la = req_new(&fx, "la", "forward", "/a");
	fa = req_new(&fx, "fa", "forward", "/a");
	look(&fx, la);
	hold(&fx, req_new(&fx, "ua", "unforward", "/a"));
	ASSERT_TRUE(waits(&fx, fa));
	ASSERT_FALSE(waits(&fx, req_new(&fx, "fb", "forward", "/b")));
	hold(&fx, fa);
	/* an unforward waits for a forward held before it too */
	ASSERT_TRUE(waits(&fx, req_new(&fx, "ua2", "unforward", "/a")));
	/* the look goes on: neither may run */
	ASSERT_STR_EQ(next_name(&fx), "-");
	look_end(&fx, la);
	/* in the order they came: fa only after ua */
	ASSERT_STR_EQ(next_name(&fx), "ua");
	ASSERT_STR_EQ(next_name(&fx), "fa");
	ASSERT_STR_EQ(next_name(&fx), "-");
	fixture_clear(&fx);
}

TEST(a_held_forward_does_not_hold_a_later_forward)
{
	struct fixture fx;
	struct req *la;

	fixture_init(&fx);
	la = req_new(&fx, "la", "forward", "/a");
	look(&fx, la);
	hold(&fx, req_new(&fx, "ua", "unforward", "/a"));
	hold(&fx, req_new(&fx, "fa", "forward", "/a"));
	look_end(&fx, la);
	ASSERT_STR_EQ(next_name(&fx), "ua");
	/* ua ran; fa is still held, yet a new forward need not wait */
	ASSERT_FALSE(waits(&fx, req_new(&fx, "fa2", "forward", "/a")));
	ASSERT_STR_EQ(next_name(&fx), "fa");
	fixture_clear(&fx);
}

TEST(released_in_order_past_those_that_still_wait)
{
	struct fixture fx;
	struct req *la, *lb;

	fixture_init(&fx);
	la = req_new(&fx, "la", "forward", "/a");
	lb = req_new(&fx, "lb", "forward", "/b");
	look(&fx, la);
	look(&fx, lb);
	hold(&fx, req_new(&fx, "ua", "unforward", "/a"));
	hold(&fx, req_new(&fx, "ub", "unforward", "/b"));
	hold(&fx, req_new(&fx, "fa", "forward", "/a"));
	ASSERT_STR_EQ(next_name(&fx), "-");
	/* /b's look ends: ub runs, ua (and fa behind it) still wait */
	look_end(&fx, lb);
	ASSERT_STR_EQ(next_name(&fx), "ub");
	ASSERT_STR_EQ(next_name(&fx), "-");
	look_end(&fx, la);
	ASSERT_STR_EQ(next_name(&fx), "ua");
	ASSERT_STR_EQ(next_name(&fx), "fa");
	ASSERT_STR_EQ(next_name(&fx), "-");
	fixture_clear(&fx);
}

TEST(take_empties_both_lists)
{
	struct fixture fx;
	struct req *la, *ua, *fa;

	fixture_init(&fx);
	la = req_new(&fx, "la", "forward", "/a");
	ua = req_new(&fx, "ua", "unforward", "/a");
	fa = req_new(&fx, "fa", "forward", "/a");
	look(&fx, la);
	hold(&fx, ua);
	hold(&fx, fa);
	ASSERT_TRUE(forward_order_take_held(&fx.o) == ua);
	ASSERT_TRUE(forward_order_take_held(&fx.o) == fa);
	ASSERT_NULL(forward_order_take_held(&fx.o));
	ASSERT_TRUE(forward_order_take_look(&fx.o) == la);
	ASSERT_NULL(forward_order_take_look(&fx.o));
	ASSERT_FALSE(waits(&fx, ua));
	fixture_clear(&fx);
}
