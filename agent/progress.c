/* progress.c - sending progress text to the user (see progress.h). */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "log.h"
#include "secrets.h"
#include "xmalloc.h"

/* The reference's channel for everything the lifecycle commands print. */
#define PROGRESS_LIFECYCLE_CHANNEL "postCreate"
/* Its level for what it shows by default (LogLevel.Info). */
#define PROGRESS_LEVEL_INFO 3
#define PROGRESS_STR(x) PROGRESS_STR_(x)
#define PROGRESS_STR_(x) #x

static double
progress_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000);
}

void
progress_flush(const struct progress *p)
{
	if (p == NULL || p->fn == NULL || p->batch == NULL || buf_len(p->batch) == 0)
		return;
	p->fn(p->arg, (const char *)buf_data(p->batch), buf_len(p->batch));
	buf_reset(p->batch);
}

/* Pass data to p->fn, after what p's batch holds back. */
static void
progress_put(const struct progress *p, const char *data, size_t len)
{
	progress_flush(p);
	p->fn(p->arg, data, len);
}

/* Send o as one line and free it. */
static void
progress_send_json(const struct progress *p, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o), *line;

	if (text == NULL)
		fatal("out of memory");
	line = xasprintf("%s\n", text);
	progress_put(p, line, strlen(line));
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
		progress_put(p, masked, strlen(masked));
	free(masked);
}

void
progress_write(const struct progress *p, const char *data, size_t len)
{
	char *text;

	if (p == NULL || p->fn == NULL || len == 0)
		return;
	if (!p->json && p->mask == NULL) {
		progress_put(p, data, len);
		return;
	}
	text = xstrndup(data, len);
	progress_send(p, "raw", text, NULL);
	free(text);
}

/* progress_line()'s line, made of fmt and ap, in json with "member" when
 * member is not NULL. */
static void
progress_vline(const struct progress *p, const char *member, const char *fmt, va_list ap)
{
	char *s = xvasprintf(fmt, ap), *line, *masked;
	cJSON *o;

	if (!p->json) {
		line = xasprintf("%s\n", s);
		progress_send(p, "text", line, NULL);
		free(line);
	} else if (member == NULL)
		progress_send(p, "text", s, NULL);
	else {
		masked = secrets_mask(p->mask, s);
		o = progress_event("text", masked, NULL);
		free(masked);
		masked = secrets_mask(p->mask, member);
		cJSON_AddStringToObject(o, "member", masked);
		free(masked);
		progress_send_json(p, o);
	}
	free(s);
}

void
progress_line(const struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (p == NULL || p->fn == NULL)
		return;
	va_start(ap, fmt);
	progress_vline(p, NULL, fmt, ap);
	va_end(ap);
}

void
progress_member_line(const struct progress *p, const char *member, const char *fmt, ...)
{
	va_list ap;

	if (p == NULL || p->fn == NULL)
		return;
	va_start(ap, fmt);
	progress_vline(p, member, fmt, ap);
	va_end(ap);
}

/* s as a JSON string's contents, escaped as cJSON_Print escapes it (the
 * two short escapes of quote and backslash, \b \f \n \r \t, "\u00XX" in
 * lower case for the other bytes below 0x20, every other byte as it is). */
static void
progress_json_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	char esc[6];

	for (;; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		buf_append(b, run, (size_t)(p - run));
		if (*p == '\0')
			return;
		run = p + 1;
		esc[0] = '\\';
		switch (*p) {
		case '"':
		case '\\': esc[1] = (char)*p; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			buf_append(b, esc, 6);
			continue;
		}
		buf_append(b, esc, 2);
	}
}

/* Append ms in decimal (printf's conversion of a double cost more than
 * the rest of a line). */
static void
progress_append_ms(struct buf *b, double ms)
{
	char digits[32], *d = digits + sizeof digits;
	long long v = ms > 0 ? (long long)ms : 0;

	do
		*--d = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	buf_append(b, d, (size_t)(digits + sizeof digits - d));
}

void
progress_output(const struct progress *p, const char *line)
{
	static const char head[] = "{\"type\":\"raw\",\"level\":" PROGRESS_STR(
	    PROGRESS_LEVEL_INFO) ",\"timestamp\":";
	static const char tail[] = "\",\"channel\":\"" PROGRESS_LIFECYCLE_CHANNEL "\"}\n";
	struct buf *b;
	char *with_nl = NULL, *masked = NULL;
	const char *text = line;

	if (p == NULL || p->fn == NULL)
		return;
	/* masked with its newline, as the reference masks its whole log */
	if (p->mask != NULL) {
		with_nl = xasprintf("%s\n", line);
		text = masked = secrets_mask(p->mask, with_nl);
	}
	/* straight into the batch: a line's other allocations cost more than
	 * the line */
	b = p->batch != NULL ? p->batch : buf_new();
	if (p->json) {
		/* progress_event()'s line as cJSON prints it (the same bytes:
		 * tests/unit/test-lifecycle.c), written here: cJSON's objects
		 * and its printing of the timestamp were most of the cost */
		buf_append(b, head, sizeof head - 1);
		progress_append_ms(b, progress_now_ms());
		buf_append(b, ",\"text\":\"", 9);
		progress_json_escape(b, text);
		if (masked == NULL)
			buf_append(b, "\\n", 2);
		buf_append(b, tail, sizeof tail - 1);
	} else {
		buf_append(b, text, strlen(text));
		if (masked == NULL)
			buf_append(b, "\n", 1);
	}
	if (b != p->batch) {
		p->fn(p->arg, (const char *)buf_data(b), buf_len(b));
		buf_free(b);
	} else if (buf_len(b) >= PROGRESS_BATCH_MAX)
		progress_flush(p);
	free(masked);
	free(with_nl);
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

/* The last lines of the output -q held back: a ring of whole lines, and
 * the line being written; cut: that line passed PROGRESS_QUIET_LINE_MAX
 * (its rest is dropped up to its newline). */
static struct {
	char *line[PROGRESS_QUIET_LINES];
	size_t next, count;
	struct buf *partial;
	int cut;
} progress_kept;

int
progress_quiet(void)
{
	return log_get_level() == LOG_ERROR;
}

/* Ends the line being held: partial, marked when it was cut, goes into
 * the ring. */
static void
progress_quiet_end_line(void)
{
	if (progress_kept.cut)
		buf_appendf(progress_kept.partial, "%s", PROGRESS_QUIET_CUT_MARK);
	buf_append(progress_kept.partial, "\n", 1);
	progress_kept.cut = 0;
	free(progress_kept.line[progress_kept.next]);
	progress_kept.line[progress_kept.next] =
	    buf_take_string(progress_kept.partial, NULL);
	progress_kept.next = (progress_kept.next + 1) % PROGRESS_QUIET_LINES;
	if (progress_kept.count < PROGRESS_QUIET_LINES)
		progress_kept.count++;
}

void
progress_quiet_keep(const char *data, size_t len)
{
	const char *nl;
	size_t n, room, have;

	if (progress_kept.partial == NULL)
		progress_kept.partial = buf_new();
	while (len > 0) {
		/* a line without its newline is bounded: build output can be
		 * one huge line, or \r-redrawn progress bars without one */
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		have = buf_len(progress_kept.partial);
		room =
		    have < PROGRESS_QUIET_LINE_MAX ? PROGRESS_QUIET_LINE_MAX - have : 0;
		buf_append(progress_kept.partial, data, n < room ? n : room);
		if (n > room)
			progress_kept.cut = 1;
		if (nl == NULL)
			break;
		data += n + 1;
		len -= n + 1;
		progress_quiet_end_line();
	}
}

char *
progress_quiet_take(void)
{
	struct buf *b = buf_new();
	size_t first, i;
	char *s;

	first = (progress_kept.next + PROGRESS_QUIET_LINES - progress_kept.count) %
	    PROGRESS_QUIET_LINES;
	for (i = 0; i < progress_kept.count; i++) {
		s = progress_kept.line[(first + i) % PROGRESS_QUIET_LINES];
		buf_append(b, s, strlen(s));
	}
	for (i = 0; i < PROGRESS_QUIET_LINES; i++) {
		free(progress_kept.line[i]);
		progress_kept.line[i] = NULL;
	}
	progress_kept.next = progress_kept.count = 0;
	if (progress_kept.partial != NULL && buf_len(progress_kept.partial) > 0) {
		s = buf_take_string(progress_kept.partial, NULL);
		buf_appendf(
		    b, "%s%s\n", s, progress_kept.cut ? PROGRESS_QUIET_CUT_MARK : "");
		free(s);
	}
	progress_kept.cut = 0;
	buf_free(progress_kept.partial);
	progress_kept.partial = NULL;
	if (buf_len(b) == 0) {
		buf_free(b);
		return NULL;
	}
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

static void
progress_stderr_sink(void *arg, const char *data, size_t len)
{
	(void)arg;
	if (progress_quiet()) {
		progress_quiet_keep(data, len);
		return;
	}
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
	else if (progress_quiet()) {
		progress_quiet_keep(s, strlen(s));
		progress_quiet_keep("\n", 1);
	} else
		fprintf(stderr, "%s\n", s);
	free(s);
}

void
progress_quiet_show(void)
{
	char *s;

	if ((s = progress_quiet_take()) == NULL)
		return;
	if (fputs(s, stderr) == EOF) {
		/* best effort */
	}
	free(s);
}
