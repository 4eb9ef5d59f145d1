/* build-failure.c - what to say when a `docker build` fails
 * (build-failure.h). */
#include "build-failure.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Lines of the legacy builder's deprecation banner (docker 20.10–24). */
static int
build_failure_banner_line(const char *line, size_t len)
{
	static const char *const starts[] = { "DEPRECATED: The legacy builder",
		"Install the buildx component", "https://docs.docker.com/go/buildx/",
		"BuildKit is currently disabled; enable it by removing the "
		"DOCKER_BUILDKIT=0",
		"environment-variable.", NULL };

	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	for (const char *const *s = starts; *s != NULL; s++)
		if (len >= strlen(*s) && strncmp(line, *s, strlen(*s)) == 0)
			return 1;
	return 0;
}

/* The builder's own bookkeeping between a step and its command's output. */
static int
build_failure_step_noise(const char *line, size_t len)
{
	static const char *const starts[] = { " ---> ",
		"Removing intermediate container ", NULL };

	for (const char *const *s = starts; *s != NULL; s++)
		if (len >= strlen(*s) && strncmp(line, *s, strlen(*s)) == 0)
			return 1;
	return 0;
}

/* text without ANSI escape sequences (CSI: ESC '[' ... final byte) and
 * carriage returns. New string. */
static char *
build_failure_plain(const char *text)
{
	struct buf *b = buf_new();
	const char *p = text;
	char *s;

	while (*p != '\0') {
		if (p[0] == '\033' && p[1] == '[') {
			p += 2;
			while (*p != '\0' && !(*p >= 0x40 && *p <= 0x7e))
				p++;
			if (*p != '\0')
				p++;
			continue;
		}
		if (*p != '\r')
			buf_append(b, p, 1);
		p++;
	}
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* Append to b the kept lines of text (banner, bookkeeping and empty lines
 * dropped), only the last `lines` (1..64) of them. */
static void
build_failure_tail(struct buf *b, const char *text, int lines, int drop_step_noise)
{
	const char *starts[64];
	size_t lens[64];
	int n = 0, first;

	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		int keep = len > 0 && !build_failure_banner_line(p, len) &&
		    !(drop_step_noise && build_failure_step_noise(p, len));

		if (keep) {
			if (n == lines) {
				memmove(starts, starts + 1,
				    sizeof starts[0] * (size_t)(n - 1));
				memmove(lens, lens + 1, sizeof lens[0] * (size_t)(n - 1));
				n--;
			}
			starts[n] = p;
			lens[n++] = len;
		}
		p += len + (nl != NULL);
	}
	for (first = 0; first < n; first++) {
		if (buf_len(b) > 0)
			buf_append(b, "\n", 1);
		buf_append(b, starts[first], lens[first]);
	}
}

/* Is the line at p the legacy builder's "Step N/M : "? */
static int
build_failure_step_line(const char *p)
{
	if (strncmp(p, "Step ", 5) != 0)
		return 0;
	p += 5;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != '/' || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return strncmp(p, " : ", 3) == 0;
}

/* Where the last "Step N/M : " line of the legacy builder's stdout begins, or
 * NULL. */
static const char *
build_failure_last_step(const char *out)
{
	const char *last = NULL;

	for (const char *p = out; p != NULL && *p != '\0';) {
		if (build_failure_step_line(p))
			last = p;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return last;
}

char *
build_failure_text(const char *out, const char *err, int lines)
{
	char *plain_out = build_failure_plain(out != NULL ? out : "");
	char *plain_err = build_failure_plain(err != NULL ? err : "");
	const char *step = build_failure_last_step(plain_out), *nl;
	struct buf *b = buf_new();
	char *s;

	if (lines < 1)
		lines = 1;
	if (lines > 64)
		lines = 64;
	/* The step's own line always, then the last lines of what it printed. */
	if (step != NULL) {
		nl = strchr(step, '\n');
		buf_append(b, step, nl != NULL ? (size_t)(nl - step) : strlen(step));
		if (nl != NULL)
			build_failure_tail(b, nl + 1, lines, 1);
	}
	build_failure_tail(b, plain_err, lines, 0);
	if (buf_len(b) == 0)
		build_failure_tail(b, plain_out, lines, 0);
	free(plain_out);
	free(plain_err);
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* Does p start with "sha256:" and 64 lowercase hex digits, followed by
 * close (a quote) when close is not '\0', else by no further hex digit? */
static int
build_failure_content_id(const char *p, char close)
{
	if (strncmp(p, "sha256:", 7) != 0)
		return 0;
	p += 7;
	for (int i = 0; i < 64; i++, p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return 0;
	if (close != '\0')
		return *p == close;
	return !isxdigit((unsigned char)*p);
}

int
build_failure_cache_lost(const char *err)
{
	/* (the words before the id; its quote, if the message quotes it) */
	static const struct {
		const char *before;
		char quote;
	} says[] = { { "unable to find image \"", '"' }, { "unable to find image ", 0 },
		{ "No such image: ", 0 }, { "unknown parent image ID ", 0 } };
	char *plain;
	int found = 0;

	if (err == NULL)
		return 0;
	plain = build_failure_plain(err);
	for (size_t i = 0; !found && i < sizeof says / sizeof says[0]; i++) {
		size_t n = strlen(says[i].before);

		for (const char *p = strstr(plain, says[i].before); !found && p != NULL;
		     p = strstr(p + 1, says[i].before))
			found = build_failure_content_id(p + n, says[i].quote);
	}
	free(plain);
	return found;
}
