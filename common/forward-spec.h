/* forward-spec.h - how a port forward is written (`rdev forward TARGET
 * SPEC...`, forwardPorts entries), shared by the client and the broker:
 *   PORT                   local PORT (or the next free one) -> container PORT
 *   LOCAL:PORT             local LOCAL (must be free) -> container PORT
 *   SERVICE:PORT           forwardPorts' "service:port": a Compose service
 *   LOCAL:SERVICE:PORT     both
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

/* The attributes for port: the portsAttributes entry whose key is the port
 * or a "FROM-TO" range holding it, else otherPortsAttributes (either object
 * may be NULL; so may the result). Borrowed from the arguments. */
const cJSON *forward_port_attributes(
    const cJSON *ports_attributes, const cJSON *other_ports_attributes, int port);

#endif
