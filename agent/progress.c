/* progress.c - sending progress text to the user (see progress.h). */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "secrets.h"
#include "xmalloc.h"

/* The reference's channel for everything the lifecycle commands print. */
#define PROGRESS_LIFECYCLE_CHANNEL "postCreate"
/* Its level for what it shows by default (LogLevel.Info). */
#define PROGRESS_LEVEL_INFO 3

static double
progress_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000);
}

/* Send o as one line and free it. */
static void
progress_send_json(const struct progress *p, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o), *line;

	if (text == NULL)
		fatal("out of memory");
	line = xasprintf("%s\n", text);
	p->fn(p->arg, line, strlen(line));
	free(line);
	free(text);
	cJSON_Delete(o);
}

/* A log line of type with the given text (already masked). */
static cJSON *
progress_event(const char *type, const char *text, const char *channel)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddNumberToObject(o, "level", PROGRESS_LEVEL_INFO);
	cJSON_AddNumberToObject(o, "timestamp", progress_now_ms());
	cJSON_AddStringToObject(o, "text", text);
	if (channel != NULL)
		cJSON_AddStringToObject(o, "channel", channel);
	return o;
}

/* Send text (NUL-terminated, owned by the caller) masked, as given in text
 * mode or as a JSON line of type. */
static void
progress_send(
    const struct progress *p, const char *type, const char *text, const char *channel)
{
	char *masked;

	if (p == NULL || p->fn == NULL)
		return;
	masked = secrets_mask(p->mask, text);
	if (p->json)
		progress_send_json(p, progress_event(type, masked, channel));
	else
		p->fn(p->arg, masked, strlen(masked));
	free(masked);
}

void
progress_write(const struct progress *p, const char *data, size_t len)
{
	char *text;

	if (p == NULL || p->fn == NULL || len == 0)
		return;
	if (!p->json && p->mask == NULL) {
		p->fn(p->arg, data, len);
		return;
	}
	text = xstrndup(data, len);
	progress_send(p, "raw", text, NULL);
	free(text);
}

void
progress_line(const struct progress *p, const char *fmt, ...)
{
	va_list ap;
	char *s, *line;

	if (p == NULL || p->fn == NULL)
		return;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	if (p->json)
		progress_send(p, "text", s, NULL);
	else {
		line = xasprintf("%s\n", s);
		progress_send(p, "text", line, NULL);
		free(line);
	}
	free(s);
}

void
progress_output(const struct progress *p, const char *line)
{
	char *text;

	if (p == NULL || p->fn == NULL)
		return;
	text = xasprintf("%s\n", line);
	progress_send(p, "raw", text, PROGRESS_LIFECYCLE_CHANNEL);
	free(text);
}

void
progress_step(const struct progress *p, const char *name, const char *status,
    const char *detail, const char *member)
{
	cJSON *o;
	char *masked;

	if (p == NULL || p->fn == NULL || !p->json)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "progress");
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "status", status);
	if (detail != NULL) {
		masked = secrets_mask(p->mask, detail);
		cJSON_AddStringToObject(o, "stepDetail", masked);
		free(masked);
	}
	if (member != NULL) {
		masked = secrets_mask(p->mask, member);
		cJSON_AddStringToObject(o, "member", masked);
		free(masked);
	}
	cJSON_AddStringToObject(o, "channel", PROGRESS_LIFECYCLE_CHANNEL);
	progress_send_json(p, o);
}

void
progress_json_text(const struct progress *p, const char *text)
{
	char *masked;

	if (p == NULL || p->fn == NULL)
		return;
	masked = secrets_mask(p->mask, text);
	progress_send_json(p, progress_event("text", masked, NULL));
	free(masked);
}

static void
progress_stderr_sink(void *arg, const char *data, size_t len)
{
	(void)arg;
	if (fwrite(data, 1, len, stderr) != len) {
		/* (best effort: stderr gone) */
	}
}

void
progress_stderr_line(int json, const char *fmt, ...)
{
	struct progress p = { .fn = progress_stderr_sink, .json = json };
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	if (json)
		progress_json_text(&p, s);
	else
		fprintf(stderr, "%s\n", s);
	free(s);
}
