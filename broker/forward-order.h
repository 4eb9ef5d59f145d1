/* forward-order.h - the order in which a broker host runs the "forward" and
 * "unforward" requests of its workspaces: an SSH host's (host-forward.c)
 * and this machine's Docker engine's (local-forward.c) alike.
 *
 * A "forward" request that adds forwards first has the agent look at its
 * workspace (a look in flight); its forwards are made when the look ends.
 * The rule: an unforward waits for each look of its workspace in flight
 * (what that forward makes, it must stop: run at once, Ctrl-C then --stop
 * left it listening) and for each request of it held before it; a forward
 * waits only for an unforward of it held before it (forwards need not
 * queue behind each other's looks). A request without a workspace concerns
 * every workspace. Requests that must wait are held, and run in the order
 * they came once they need not wait any more.
 *
 * Pure: no I/O, no libevent, no globals, no locks (each host uses its
 * order on one thread).
 *
 * Ownership: the caller owns its requests and embeds a struct
 * forward_order_entry in each one; the order only links the entries and
 * borrows each one's req and owner, which must stay valid while the entry
 * is on a list (from forward_order_look or forward_order_hold until
 * forward_order_look_end or the take that returns its owner).
 */
#ifndef RDEV_FORWARD_ORDER_H
#define RDEV_FORWARD_ORDER_H

#include <sys/queue.h>

#include <cjson/cJSON.h>

/* A request's place in the order (embedded in the caller's request). */
struct forward_order_entry {
	const cJSON *req; /* borrowed: the request ({"op","workspace"?,...}) */
	void *owner;	  /* borrowed: the caller's request, given back by takes */
	TAILQ_ENTRY(forward_order_entry) link;
};
TAILQ_HEAD(forward_order_list, forward_order_entry);

struct forward_order {
	struct forward_order_list looks; /* forwards whose look is in flight */
	struct forward_order_list held;	 /* requests that wait, in order */
};

void forward_order_init(struct forward_order *o);
/* Must req, a request on no list yet, wait (be held)? */
int forward_order_must_wait(const struct forward_order *o, const cJSON *req);
/* The look at the workspace of forward request req (owner) is in flight
 * (e: its entry, on no list). */
void forward_order_look(struct forward_order *o, struct forward_order_entry *e,
    const cJSON *req, void *owner);
/* e's look has ended: off the list (the caller then runs
 * forward_order_next, which may release what waited for it). */
void forward_order_look_end(struct forward_order *o, struct forward_order_entry *e);
/* Hold req (owner; e: its entry, on no list) after those held already. */
void forward_order_hold(struct forward_order *o, struct forward_order_entry *e,
    const cJSON *req, void *owner);
/* The owner of the first held request that need not wait any more, taken
 * off the list; NULL: none. Run it, then call again (running it may start
 * a look that the later ones wait for). */
void *forward_order_next(struct forward_order *o);
/* At the end: the owner of the first held request, or of the first look in
 * flight, taken off its list whatever it waits for; NULL: that list is
 * empty. */
void *forward_order_take_held(struct forward_order *o);
void *forward_order_take_look(struct forward_order *o);

#endif
