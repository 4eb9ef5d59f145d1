/* forward-spec.h - how a port forward is written (`rdev forward TARGET
 * SPEC...`, forwardPorts entries), shared by the client and the broker:
 *   PORT                   local PORT (or the next free one) -> container PORT
 *   LOCAL:PORT             local LOCAL (must be free) -> container PORT
 *   SERVICE:PORT           forwardPorts' "service:port": a Compose service
 *   LOCAL:SERVICE:PORT     both
 * PORT may be written PORT/tcp (Docker's form); another /PROTO (/udp) is
 * refused: only TCP is forwarded.
 */
#ifndef RDEV_FORWARD_SPEC_H
#define RDEV_FORWARD_SPEC_H

#include <cjson/cJSON.h>

struct forward_spec {
	int local_port;	   /* 0: the container port if free, else the next free */
	int require_local; /* the local port must be exactly local_port/port */
	char *service;	   /* NULL: the dev container */
	int port;	   /* container (or service) port */
	char *label;	   /* portsAttributes label, or NULL */
};

/* Parse a spec (above) into *s (free with forward_spec_clear). -1 with *cause
 * ("forward spec 'x': ..."). */
int forward_spec_parse(const char *text, struct forward_spec *s, char **cause);
void forward_spec_clear(struct forward_spec *s);
/* "LOCAL:[SERVICE:]PORT" as a new string, for messages and --stop. */
char *forward_spec_string(int local_port, const char *service, int port);

/* What portsAttributes and otherPortsAttributes say of one port. Strings
 * are borrowed from the objects given; -1: not said. */
struct forward_port_attrs {
	const char *label;
	const char *on_auto_forward;
	const char *protocol;
	int require_local_port;
	int elevate_if_needed;
};

/* A portsAttributes key as a port ("3000", "03000": 1) or a "FROM-TO" range
 * (0), into *from and *to (a port: both; numbers above 65535 as 65536); -1
 * for any other key (VS Code takes those as process command-line patterns
 * or "host:port"). */
int forward_port_key_parse(const char *key, long *from, long *to);

/* Resolve port's attributes as VS Code does (its ports view is what users
 * know): the portsAttributes entries whose key is the port or a "FROM-TO"
 * range holding it, in the order of their port (a range's first; ties in
 * JavaScript's key order), an exact port's attributes over those before it
 * (its requireLocalPort and protocol as they are, said or not), a range's
 * only where none is yet (never requireLocalPort); when none of them says
 * anything, otherPortsAttributes. Keys of another form (process command
 * lines, "host:port") match nothing (`up` warns), and so do ports written
 * other than as digits (VS Code's Number() also takes "3e3", " 3000").
 * ports_attributes is as JavaScript holds it: each key once. Either object
 * may be NULL. */
void forward_port_attributes(const cJSON *ports_attributes,
    const cJSON *other_ports_attributes, int port, struct forward_port_attrs *out);

#endif
