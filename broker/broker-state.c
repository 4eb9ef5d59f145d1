/* broker-state.c - the broker's saved forwards and watches (broker-state.h). */
#include "broker-state.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic-file.h"
#include "error.h"
#include "xmalloc.h"

#define BROKER_STATE_MAX (16u << 20)

struct broker_state {
	pthread_mutex_t lock;
	char *path;
	cJSON *hosts; /* under lock */
};

/* --- checking a file's contents ------------------------------------------ */

/* Is member name of o absent, or of the wanted kind? */
static int
broker_state_optional(const cJSON *o, const char *name, int (*is)(const cJSON *))
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return v == NULL || is(v);
}

static int
broker_state_string(const cJSON *v)
{
	return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

static int
broker_state_bool(const cJSON *v)
{
	return cJSON_IsBool(v);
}

static int
broker_state_object(const cJSON *v)
{
	return cJSON_IsObject(v);
}

/* A number in lo..hi, or -1. */
static int
broker_state_int(const cJSON *o, const char *name, int lo, int hi)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
	    v->valuedouble != (double)v->valueint)
		return -1;
	return v->valueint;
}

static int
broker_state_check_forward(const cJSON *f, char **cause)
{
	if (!cJSON_IsObject(f))
		return error_set(cause, "not an object");
	if (!broker_state_string(cJSON_GetObjectItemCaseSensitive(f, "workspace")))
		return error_set(cause, "no workspace");
	if (broker_state_int(f, "port", 1, 65535) < 0)
		return error_set(cause, "port is not 1-65535");
	if (broker_state_int(f, "local", 1, 65535) < 0)
		return error_set(cause, "local is not 1-65535");
	if (!broker_state_optional(f, "config", broker_state_string) ||
	    !broker_state_optional(f, "service", broker_state_string) ||
	    !broker_state_optional(f, "label", broker_state_string) ||
	    !broker_state_optional(f, "onAutoForward", broker_state_string) ||
	    !broker_state_optional(f, "requireLocal", broker_state_bool))
		return error_set(cause, "a member has the wrong type");
	return 0;
}

static int
broker_state_check_auto(const cJSON *a, char **cause)
{
	const cJSON *seen = cJSON_GetObjectItemCaseSensitive(a, "seen"), *p;

	if (!cJSON_IsObject(a))
		return error_set(cause, "not an object");
	if (!broker_state_string(cJSON_GetObjectItemCaseSensitive(a, "workspace")))
		return error_set(cause, "no workspace");
	if (!broker_state_optional(a, "config", broker_state_string) ||
	    !broker_state_optional(a, "attributes", broker_state_object))
		return error_set(cause, "a member has the wrong type");
	if (seen != NULL && !cJSON_IsArray(seen))
		return error_set(cause, "seen is not an array");
	cJSON_ArrayForEach(p, seen) {
		if (!cJSON_IsNumber(p) || p->valueint < 1 || p->valueint > 65535)
			return error_set(
			    cause, "seen holds something that is not a port");
	}
	return 0;
}

/* Check one list member of host entry h with check; prefixes *cause with
 * "NAME[I]: ". */
static int
broker_state_check_list(
    const cJSON *h, const char *name, int (*check)(const cJSON *, char **), char **cause)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(h, name), *e;
	int i = 0;

	if (list == NULL)
		return 0;
	if (!cJSON_IsArray(list))
		return error_set(cause, "%s is not an array", name);
	cJSON_ArrayForEach(e, list) {
		if (check(e, cause) != 0) {
			error_prefix(cause, "%s[%d]", name, i);
			return -1;
		}
		i++;
	}
	return 0;
}

static int
broker_state_check_host(const cJSON *h, char **cause)
{
	if (!cJSON_IsObject(h))
		return error_set(cause, "not an object");
	if (!broker_state_string(cJSON_GetObjectItemCaseSensitive(h, "host")))
		return error_set(cause, "no host");
	if (cJSON_GetObjectItemCaseSensitive(h, "port") != NULL &&
	    broker_state_int(h, "port", 0, 65535) < 0)
		return error_set(cause, "port is not 0-65535");
	if (!broker_state_optional(h, "user", broker_state_string) ||
	    !broker_state_optional(h, "engine", broker_state_string) ||
	    !broker_state_optional(h, "sshConfig", broker_state_string) ||
	    !broker_state_optional(h, "knownHosts", broker_state_string))
		return error_set(cause, "a member has the wrong type");
	if (broker_state_check_list(h, "forwards", broker_state_check_forward, cause) !=
		0 ||
	    broker_state_check_list(h, "autos", broker_state_check_auto, cause) != 0)
		return -1;
	return 0;
}

/* Take out of host entry h (number i) the forwards to a container port
 * outside 1-65535 (0: the port a local port was picked for at random),
 * which an older rdev made and saved; each named in *dropped (grown; NULL:
 * not told). One such entry is not worth moving the whole file aside. */
static void
broker_state_drop_bad_ports(cJSON *h, int i, char **dropped)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(h, "forwards"), *f;
	const cJSON *port, *ws;
	char *text;
	int n = 0;

	if (!cJSON_IsArray(list))
		return;
	while ((f = cJSON_GetArrayItem(list, n)) != NULL) {
		port = cJSON_GetObjectItemCaseSensitive(f, "port");
		if (!cJSON_IsNumber(port) ||
		    (port->valuedouble >= 1 && port->valuedouble <= 65535)) {
			n++;
			continue;
		}
		if (dropped != NULL) {
			ws = cJSON_GetObjectItemCaseSensitive(f, "workspace");
			text = xasprintf("%s%shosts[%d]: the saved forward of %s to "
					 "container port %.0f (an older rdev's: not a "
					 "port, 1-65535) dropped, not restored",
			    *dropped != NULL ? *dropped : "",
			    *dropped != NULL ? "; " : "", i,
			    cJSON_IsString(ws) ? ws->valuestring : "a workspace",
			    port->valuedouble);
			free(*dropped);
			*dropped = text;
		}
		cJSON_DeleteItemFromArray(list, n);
	}
}

cJSON *
broker_state_parse(const char *text, size_t len, char **cause, char **dropped)
{
	cJSON *top, *hosts, *h;
	int i = 0;

	if ((top = cJSON_ParseWithLength(text, len)) == NULL) {
		error_set(cause, "not JSON");
		return NULL;
	}
	if (!cJSON_IsObject(top) || broker_state_int(top, "version", 0, 1 << 30) < 0) {
		error_set(cause, "no version");
		goto bad;
	}
	if (broker_state_int(top, "version", 0, 1 << 30) != BROKER_STATE_VERSION) {
		error_set(cause, "version %d, not %d",
		    broker_state_int(top, "version", 0, 1 << 30), BROKER_STATE_VERSION);
		goto bad;
	}
	hosts = cJSON_GetObjectItemCaseSensitive(top, "hosts");
	if (!cJSON_IsArray(hosts)) {
		error_set(cause, "hosts is not an array");
		goto bad;
	}
	cJSON_ArrayForEach(h, hosts) {
		if (cJSON_IsObject(h))
			broker_state_drop_bad_ports(h, i, dropped);
		if (broker_state_check_host(h, cause) != 0) {
			error_prefix(cause, "hosts[%d]", i);
			goto bad;
		}
		i++;
	}
	hosts = cJSON_DetachItemFromObjectCaseSensitive(top, "hosts");
	cJSON_Delete(top);
	return hosts;
bad:
	if (dropped != NULL) {
		free(*dropped);
		*dropped = NULL;
	}
	cJSON_Delete(top);
	return NULL;
}

/* --- the file ------------------------------------------------------------ */

cJSON *
broker_state_load(const char *path, char **warning)
{
	char *text = NULL, *cause = NULL, *dropped = NULL, *aside, stamp[32];
	cJSON *hosts;
	size_t len;
	time_t now = time(NULL);
	struct tm tm;

	*warning = NULL;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return cJSON_CreateArray();
	if (file_read_all(path, BROKER_STATE_MAX, &text, &len, &cause) != 0) {
		/* Unreadable now (permissions, I/O, too large): left where it is
		 * for the next start, not taken for corrupt. */
		*warning = xasprintf("%s; nothing restored", cause);
		free(cause);
		return cJSON_CreateArray();
	}
	hosts = broker_state_parse(text, len, &cause, &dropped);
	free(text);
	if (hosts != NULL) {
		if (dropped != NULL)
			*warning = xasprintf("%s: %s", path, dropped);
		free(dropped);
		return hosts;
	}
	error_prefix(&cause, "%s", path);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	aside = xasprintf("%s.bad-%s", path, stamp);
	if (rename(path, aside) == 0)
		*warning =
		    xasprintf("%s; moved aside to %s, nothing restored", cause, aside);
	else
		*warning =
		    xasprintf("%s; nothing restored (and it cannot be moved aside: "
			      "%s)",
			cause, strerror(errno));
	free(aside);
	free(cause);
	return cJSON_CreateArray();
}

int
broker_state_write(const char *path, const cJSON *hosts, char **cause)
{
	cJSON *top;
	char *text;
	int rc;

	if (cJSON_GetArraySize(hosts) == 0) {
		if (unlink(path) != 0 && errno != ENOENT)
			return error_set_errno(cause, errno, "%s", path);
		return 0;
	}
	top = cJSON_CreateObject();
	cJSON_AddNumberToObject(top, "version", BROKER_STATE_VERSION);
	cJSON_AddItemToObject(top, "hosts", cJSON_Duplicate(hosts, 1));
	if ((text = cJSON_Print(top)) == NULL)
		fatal("out of memory");
	cJSON_Delete(top);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
	return rc;
}

/* Are members name of a and b both absent, or equal strings? */
static int
broker_state_same_string(const cJSON *a, const cJSON *b, const char *name)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, name);
	const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, name);

	if (!cJSON_IsString(x) || !cJSON_IsString(y))
		return !cJSON_IsString(x) && !cJSON_IsString(y);
	return strcmp(x->valuestring, y->valuestring) == 0;
}

int
broker_state_same_host(const cJSON *a, const cJSON *b)
{
	const cJSON *pa = cJSON_GetObjectItemCaseSensitive(a, "port");
	const cJSON *pb = cJSON_GetObjectItemCaseSensitive(b, "port");

	return broker_state_same_string(a, b, "host") &&
	    broker_state_same_string(a, b, "engine") &&
	    broker_state_same_string(a, b, "user") &&
	    broker_state_same_string(a, b, "sshConfig") &&
	    broker_state_same_string(a, b, "knownHosts") &&
	    (cJSON_IsNumber(pa) ? pa->valueint : 0) ==
	    (cJSON_IsNumber(pb) ? pb->valueint : 0);
}

/* --- the store ----------------------------------------------------------- */

struct broker_state *
broker_state_open(const char *path, char **warning)
{
	struct broker_state *s = xcalloc(1, sizeof *s);

	pthread_mutex_init(&s->lock, NULL);
	s->path = xstrdup(path);
	s->hosts = broker_state_load(path, warning);
	return s;
}

void
broker_state_free(struct broker_state *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	cJSON_Delete(s->hosts);
	free(s->path);
	free(s);
}

cJSON *
broker_state_snapshot(struct broker_state *s)
{
	cJSON *copy;

	pthread_mutex_lock(&s->lock);
	copy = cJSON_Duplicate(s->hosts, 1);
	pthread_mutex_unlock(&s->lock);
	return copy;
}

int
broker_state_put(struct broker_state *s, cJSON *entry, char **cause)
{
	cJSON *h;
	int i = 0, rc, empty;

	empty = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(entry, "forwards")) ==
		0 &&
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(entry, "autos")) == 0;
	pthread_mutex_lock(&s->lock);
	cJSON_ArrayForEach(h, s->hosts) {
		if (broker_state_same_host(h, entry))
			break;
		i++;
	}
	if (!empty && h != NULL)
		cJSON_ReplaceItemInArray(s->hosts, i, entry);
	else if (!empty)
		cJSON_AddItemToArray(s->hosts, entry);
	else {
		if (h != NULL)
			cJSON_DeleteItemFromArray(s->hosts, i);
		cJSON_Delete(entry);
	}
	rc = broker_state_write(s->path, s->hosts, cause);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
broker_state_clear(struct broker_state *s, char **cause)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	cJSON_Delete(s->hosts);
	s->hosts = cJSON_CreateArray();
	rc = broker_state_write(s->path, s->hosts, cause);
	pthread_mutex_unlock(&s->lock);
	return rc;
}
