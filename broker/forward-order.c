/* forward-order.c - the order of a broker host's forward and unforward
 * requests (forward-order.h). */
#include "forward-order.h"

#include <stddef.h>

#include "forward.h"

void
forward_order_init(struct forward_order *o)
{
	TAILQ_INIT(&o->looks);
	TAILQ_INIT(&o->held);
}

/* Must req wait? self: req's own held entry (only those held before it
 * count), or NULL for a request on no list (every held one counts). */
static int
forward_order_waits(const struct forward_order *o, const cJSON *req,
    const struct forward_order_entry *self)
{
	int unforward = !forward_request_is_forward(req);
	const struct forward_order_entry *e;

	TAILQ_FOREACH(e, &o->looks, link) {
		if (unforward && forward_requests_overlap(e->req, req))
			return 1;
	}
	TAILQ_FOREACH(e, &o->held, link) {
		if (e == self)
			break;
		if ((unforward || !forward_request_is_forward(e->req)) &&
		    forward_requests_overlap(e->req, req))
			return 1;
	}
	return 0;
}

int
forward_order_must_wait(const struct forward_order *o, const cJSON *req)
{
	return forward_order_waits(o, req, NULL);
}

/* Put e (req, owner) at the end of list. */
static void
forward_order_append(struct forward_order_list *list, struct forward_order_entry *e,
    const cJSON *req, void *owner)
{
	e->req = req;
	e->owner = owner;
	TAILQ_INSERT_TAIL(list, e, link);
}

void
forward_order_look(
    struct forward_order *o, struct forward_order_entry *e, const cJSON *req, void *owner)
{
	forward_order_append(&o->looks, e, req, owner);
}

void
forward_order_look_end(struct forward_order *o, struct forward_order_entry *e)
{
	TAILQ_REMOVE(&o->looks, e, link);
}

void
forward_order_hold(
    struct forward_order *o, struct forward_order_entry *e, const cJSON *req, void *owner)
{
	forward_order_append(&o->held, e, req, owner);
}

void *
forward_order_next(struct forward_order *o)
{
	struct forward_order_entry *e;

	TAILQ_FOREACH(e, &o->held, link) {
		if (!forward_order_waits(o, e->req, e)) {
			TAILQ_REMOVE(&o->held, e, link);
			return e->owner;
		}
	}
	return NULL;
}

/* The owner of list's first entry, taken off; NULL: empty. */
static void *
forward_order_take_first(struct forward_order_list *list)
{
	struct forward_order_entry *e = TAILQ_FIRST(list);

	if (e == NULL)
		return NULL;
	TAILQ_REMOVE(list, e, link);
	return e->owner;
}

void *
forward_order_take_held(struct forward_order *o)
{
	return forward_order_take_first(&o->held);
}

void *
forward_order_take_look(struct forward_order *o)
{
	return forward_order_take_first(&o->looks);
}
