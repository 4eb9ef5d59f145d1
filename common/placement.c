/* placement.c - choosing a pool host for a configuration (placement.h). */
#include "placement.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "config-merge.h"
#include "xmalloc.h"

void
placement_req_from_json(const cJSON *hr, struct placement_req *req)
{
	const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(hr, "cpus");
	const cJSON *gpu = cJSON_GetObjectItemCaseSensitive(hr, "gpu");

	memset(req, 0, sizeof *req);
	if (!cJSON_IsObject(hr))
		return;
	if (cJSON_IsNumber(cpus) && cpus->valuedouble > 0)
		req->cpus = cpus->valuedouble;
	req->memory =
	    config_merge_parse_bytes(cJSON_GetObjectItemCaseSensitive(hr, "memory"));
	req->storage =
	    config_merge_parse_bytes(cJSON_GetObjectItemCaseSensitive(hr, "storage"));
	if (cJSON_IsTrue(gpu) || cJSON_IsObject(gpu))
		req->gpu = PLACEMENT_GPU_REQUIRED;
	else if (cJSON_IsString(gpu) && strcmp(gpu->valuestring, "optional") == 0)
		req->gpu = PLACEMENT_GPU_OPTIONAL;
}

void
placement_size_text(double bytes, char *buf, size_t len)
{
	static const char *units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		bytes /= 1024;
		u++;
	}
	if (u == 0 || bytes >= 100 || fabs(bytes - round(bytes)) < 0.05)
		snprintf(buf, len, "%.0f %s", round(bytes), units[u]);
	else
		snprintf(buf, len, "%.1f %s", bytes, units[u]);
}

/* host[key] as a number (0 when absent). */
static double
placement_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "has N" of one amount, with what is reserved when some is. */
static char *
placement_has(double offered, double reserved, int size)
{
	char a[32], b[32], c[32];

	if (size) {
		placement_size_text(offered - reserved, a, sizeof a);
		placement_size_text(offered, b, sizeof b);
		placement_size_text(reserved, c, sizeof c);
	} else {
		snprintf(a, sizeof a, "%g", offered - reserved);
		snprintf(b, sizeof b, "%g", offered);
		snprintf(c, sizeof c, "%g", reserved);
	}
	if (reserved > 0)
		return xasprintf("has %s free (%s, %s reserved)", a, b, c);
	return xasprintf("has %s", a);
}

char *
placement_misfit(const cJSON *host, const struct placement_req *req)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(host, "state");
	const cJSON *reserved = cJSON_GetObjectItemCaseSensitive(host, "reserved");
	const char *error;
	char *has, *out, need[32];
	const struct {
		const char *key;
		double need;
		int size; /* bytes, else a count */
	} amounts[] = {
		{ "cpus", req->cpus, 0 },
		{ "memory", req->memory, 1 },
		{ "storage", req->storage, 1 },
	};
	double offered, held, max, mine;

	if (!cJSON_IsString(state) || strcmp(state->valuestring, "up") != 0) {
		error =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(host, "error"));
		return xasprintf("unreachable (%s)", error != NULL ? error : "no answer");
	}
	for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
		offered = placement_num(host, amounts[i].key);
		held = placement_num(reserved, amounts[i].key);
		if (amounts[i].need <= 0 || offered - held >= amounts[i].need)
			continue;
		if (amounts[i].size)
			placement_size_text(amounts[i].need, need, sizeof need);
		else
			snprintf(need, sizeof need, "%g", amounts[i].need);
		has = placement_has(offered, held, amounts[i].size);
		out = xasprintf("needs %s %s, %s", need, amounts[i].key, has);
		free(has);
		return out;
	}
	/* (admission refuses the user there: placement need not ask) */
	max = placement_num(host, "maxEnvironmentsPerUser");
	mine = placement_num(host, "userEnvironments");
	if (max > 0 && mine >= max)
		return xasprintf("you have %g running dev container%s there, as many "
				 "as its policy allows (maxEnvironmentsPerUser %g)",
		    mine, mine == 1 ? "" : "s", max);
	if (req->gpu == PLACEMENT_GPU_REQUIRED && placement_num(host, "gpus") < 1)
		return xstrdup("needs a GPU, has none");
	return NULL;
}

/* How busy a host is, for ordering: its reserved cpus relative to its
 * cpus. */
static double
placement_busy(const cJSON *host)
{
	double cpus = placement_num(host, "cpus");
	double held =
	    placement_num(cJSON_GetObjectItemCaseSensitive(host, "reserved"), "cpus");

	if (cpus <= 0)
		return held > 0 ? INFINITY : 0;
	return held / cpus;
}

int
placement_choose(const cJSON *hosts, const struct placement_req *req, cJSON **reasons)
{
	const cJSON *h;
	const char *name;
	char *why, *line;
	double busy, load, best_busy = 0, best_load = 0;
	int i = 0, best = -1;

	if (reasons != NULL)
		*reasons = cJSON_CreateArray();
	cJSON_ArrayForEach(h, hosts) {
		if ((why = placement_misfit(h, req)) != NULL) {
			if (reasons != NULL) {
				name = cJSON_GetStringValue(
				    cJSON_GetObjectItemCaseSensitive(h, "name"));
				line =
				    xasprintf("%s: %s", name != NULL ? name : "?", why);
				cJSON_AddItemToArray(*reasons, cJSON_CreateString(line));
				free(line);
			}
			free(why);
			i++;
			continue;
		}
		busy = placement_busy(h);
		load = placement_num(h, "load");
		if (best < 0 || busy < best_busy ||
		    (busy == best_busy && load < best_load)) {
			best = i;
			best_busy = busy;
			best_load = load;
		}
		i++;
	}
	if (best >= 0 && reasons != NULL) {
		cJSON_Delete(*reasons);
		*reasons = NULL;
	}
	return best;
}
