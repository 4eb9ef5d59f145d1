/* forward-auto.c - what both kinds of host keep of an auto-forward watch,
 * and which of the ports its relay lists are new and to be forwarded
 * (forward.h). */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward-spec.h"
#include "json-get.h"
#include "log.h"
#include "relay-listing.h"
#include "xmalloc.h"

void
forward_auto_init(
    struct forward_auto *a, const char *ws, const char *config, const cJSON *attrs)
{
	memset(a, 0, sizeof *a);
	a->workspace = xstrdup(ws);
	a->config = config != NULL ? xstrdup(config) : NULL;
	a->attrs = cJSON_Duplicate(attrs, 1);
}

void
forward_auto_clear(struct forward_auto *a)
{
	free(a->workspace);
	free(a->config);
	cJSON_Delete(a->attrs);
	cJSON_Delete(a->prev_attrs);
	free(a->done);
	memset(a, 0, sizeof *a);
}

void
forward_auto_take_request(
    struct forward_auto *a, struct forward *relay, const cJSON *from)
{
	const char *config = json_get_string(from, "config");

	free(a->config);
	a->config = config != NULL ? xstrdup(config) : NULL;
	/* (the watch's relay: status lists it not) */
	forward_take_request_fields(relay, from, NULL);
}

/* Is port ignored (onAutoForward "ignore") by attributes attrs
 * ({"portsAttributes","otherPortsAttributes"})? */
static int
forward_auto_ignores(const cJSON *attrs, int port)
{
	struct forward_port_attrs pa;

	forward_port_attributes(
	    cJSON_GetObjectItemCaseSensitive(attrs, "portsAttributes"),
	    cJSON_GetObjectItemCaseSensitive(attrs, "otherPortsAttributes"), port, &pa);
	return pa.on_auto_forward != NULL && strcmp(pa.on_auto_forward, "ignore") == 0;
}

/* a's container's attributes are now attrs (copied): its seen ports stay
 * seen (not listed again as new), but those only the old ones ignored
 * are forgotten, so that the next listing forwards them. */
static void
forward_auto_set_attrs(struct forward_auto *a, const cJSON *attrs)
{
	size_t i, n = 0;

	for (i = 0; i < a->ndone; i++) {
		if (!forward_auto_ignores(a->attrs, a->done[i]) ||
		    forward_auto_ignores(attrs, a->done[i]))
			a->done[n++] = a->done[i];
	}
	a->ndone = n;
	cJSON_Delete(a->prev_attrs);
	/* (a watch made or restored without attributes had none: an empty
	 * object, since NULL is "no retarget to compare with", which would
	 * not say a requireLocalPort asked for now) */
	a->prev_attrs = a->attrs != NULL ? a->attrs : cJSON_CreateObject();
	a->attrs = cJSON_Duplicate(attrs, 1);
}

int
forward_auto_retarget(struct forward_auto *a, struct forward *relay, const cJSON *req,
    const cJSON *attrs, struct forward_key *was)
{
	forward_key_of(was, relay);
	forward_auto_take_request(a, relay, req);
	if (forward_of(relay, was)) {
		forward_auto_set_attrs(a, attrs);
		return 0;
	}
	/* (the old container's portsAttributes and ports are not the new
	 * one's: its ports are listed as new) */
	cJSON_Delete(a->attrs);
	a->attrs = cJSON_Duplicate(attrs, 1);
	cJSON_Delete(a->prev_attrs);
	a->prev_attrs = NULL;
	free(a->done);
	a->done = NULL;
	a->ndone = 0;
	return 1;
}

int
forward_auto_follows(const struct forward_key *was, const struct forward *fw)
{
	return fw->auto_action != NULL && !fw->gone && fw->service == NULL &&
	    forward_of(fw, was);
}

/* How attributes all (a watch's attrs) say port is auto-forwarded, into p
 * (p->action "ignore": not). p's strings are all's, valid while it is. */
static void
forward_auto_port_in(const cJSON *all, int port, struct forward_auto_port *p)
{
	struct forward_port_attrs pa;

	forward_port_attributes(cJSON_GetObjectItemCaseSensitive(all, "portsAttributes"),
	    cJSON_GetObjectItemCaseSensitive(all, "otherPortsAttributes"), port, &pa);
	p->port = port;
	p->action = pa.on_auto_forward != NULL ? pa.on_auto_forward : "notify";
	p->label = pa.label;
	p->require_local = pa.require_local_port == 1;
}

int
forward_auto_move(
    const struct forward_auto *a, const struct forward *relay, struct forward *fw)
{
	struct forward_auto_port p, before = { 0 };
	int changed;

	forward_auto_port_in(a->attrs, fw->port, &p);
	if (strcmp(p.action, "ignore") == 0)
		return -1;
	/* (an unmet requireLocalPort leaves fw's as it was: was it asked for
	 * before?) */
	if (a->prev_attrs != NULL)
		forward_auto_port_in(a->prev_attrs, fw->port, &before);
	forward_take_fields_of(fw, relay, NULL); /* (the caller's lock) */
	changed = fw->auto_action == NULL || strcmp(fw->auto_action, p.action) != 0 ||
	    (fw->label == NULL) != (p.label == NULL) ||
	    (p.label != NULL && strcmp(fw->label, p.label) != 0);
	free(fw->auto_action);
	fw->auto_action = xstrdup(p.action);
	free(fw->label);
	fw->label = p.label != NULL ? xstrdup(p.label) : NULL;
	/* (its local port was had before: one that is not the container
	 * port cannot be required now, and is not said to be) */
	changed |= fw->require_local != (p.require_local && fw->local_port == fw->port);
	changed |= a->prev_attrs != NULL && before.require_local != p.require_local;
	fw->require_local = p.require_local && fw->local_port == fw->port;
	return (p.require_local && !fw->require_local ? FORWARD_AUTO_UNMET : 0) |
	    (changed ? FORWARD_AUTO_CHANGED : 0);
}

void
forward_auto_move_warn(
    const char *label, const struct forward *fw, const char *workspace, int moved, int rc)
{
	const char *what = moved ? "the container its watch follows now"
				 : "its watch's new portsAttributes";

	if (rc < 0)
		log_warn("%s: auto-forward 127.0.0.1:%d -> container port %d of %s "
			 "stopped: %s ignore%s that port",
		    label, fw->local_port, fw->port, workspace, what, moved ? "s" : "");
	else if (moved || rc == (FORWARD_AUTO_UNMET | FORWARD_AUTO_CHANGED))
		log_warn("%s: auto-forward 127.0.0.1:%d -> container port %d of %s "
			 "%s%s",
		    label, fw->local_port, fw->port, workspace,
		    moved ? "moved to the container its watch follows now"
			  : "takes its watch's new portsAttributes",
		    rc & FORWARD_AUTO_UNMET
			? " (its requireLocalPort is not met: it keeps its "
			  "local port)"
			: "");
	else if (rc == FORWARD_AUTO_CHANGED)
		log_info("%s: auto-forward 127.0.0.1:%d -> container port %d of %s "
			 "takes its watch's new portsAttributes (%s%s%s)",
		    label, fw->local_port, fw->port, workspace,
		    fw->label != NULL ? fw->label : "", fw->label != NULL ? ", " : "",
		    fw->auto_action);
}

/* Was port seen? */
static int
forward_auto_seen(const struct forward_auto *a, int port)
{
	for (size_t i = 0; i < a->ndone; i++) {
		if (a->done[i] == port)
			return 1;
	}
	return 0;
}

void
forward_auto_mark(struct forward_auto *a, int port)
{
	a->done = xreallocarray(a->done, a->ndone + 1, sizeof *a->done);
	a->done[a->ndone++] = port;
}

cJSON *
forward_auto_saved_json(const struct forward_auto *a, const struct forward *relay)
{
	cJSON *o = cJSON_CreateObject(), *seen;

	cJSON_AddStringToObject(o, "workspace", a->workspace);
	if (a->config != NULL)
		cJSON_AddStringToObject(o, "config", a->config);
	if (cJSON_IsObject(a->attrs))
		cJSON_AddItemToObject(o, "attributes", cJSON_Duplicate(a->attrs, 1));
	if (relay->id_labels != NULL)
		cJSON_AddItemToObject(
		    o, "idLabels", cJSON_Duplicate(relay->id_labels, 1));
	if (relay->hint != NULL)
		cJSON_AddStringToObject(o, "hint", relay->hint);
	if (relay->shown != NULL)
		cJSON_AddStringToObject(o, "shown", relay->shown);
	seen = cJSON_AddArrayToObject(o, "seen");
	for (size_t i = 0; i < a->ndone; i++)
		cJSON_AddItemToArray(seen, cJSON_CreateNumber(a->done[i]));
	return o;
}

void
forward_auto_restore_seen(struct forward_auto *a, const cJSON *saved)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(saved, "seen")) {
		if (cJSON_IsNumber(p) && !forward_auto_seen(a, p->valueint))
			forward_auto_mark(a, p->valueint);
	}
}

int
forward_auto_take_listing(struct forward_auto *a, char *listing, const char *label,
    int (*exists)(void *arg, int port),
    void (*add)(void *arg, const struct forward_auto_port *p), void *arg)
{
	struct forward_auto_port p;
	char *line, *save = NULL, address[64];
	int port, changed = 0;

	/* (digit lines from a program that took a dead relay's port would
	 * be forwarded as the container's ports) */
	if (!relay_listing_ok(listing, strlen(listing)))
		return FORWARD_AUTO_NOT_LISTING;
	for (line = strtok_r(listing, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%d %63s", &port, address) != 2 || port < 1 ||
		    port > 65535 || forward_auto_seen(a, port))
			continue;
		/* Docker's embedded DNS resolver of a user-defined network
		 * (every Compose container's) listens on 127.0.0.11 at a random
		 * TCP port: no server of the user's, and not reachable as a
		 * container port. Only that address: 127.0.0.1 is the user's. */
		if (strcmp(address, "127.0.0.11") == 0)
			continue;
		forward_auto_mark(a, port);
		changed = 1;
		if (exists(arg, port))
			continue; /* forwarded already (forwardPorts, rdev forward) */
		forward_auto_port_in(a->attrs, port, &p);
		if (strcmp(p.action, "ignore") == 0) {
			log_info("%s: port %d of %s: onAutoForward is ignore", label,
			    port, a->workspace);
			continue;
		}
		add(arg, &p);
	}
	return changed;
}
