/* progress-view.c - the terminal view of an operation's progress events
 * (see progress-view.h). */
#include "progress-view.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "xmalloc.h"

#define PROGRESS_VIEW_TICK_MS 100
#define PROGRESS_VIEW_INPUT_MAX (4 * 1024 * 1024)

struct progress_view {
	FILE *f;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t ticker;
	int stop;
	struct buf *input; /* a partial event line */
	/* The current phase: a message ("Creating container ...") or a
	 * lifecycle step, until the next one starts or it ends. */
	char *label;	    /* NULL: none */
	long long start_ms; /* when it started */
	char *last;	    /* its output's last line, cleaned */
	struct buf *kept;   /* its output, the last PROGRESS_VIEW_KEEP bytes */
	int cut;	    /* output was dropped from kept's front */
	int drawn;	    /* the updating line is on the screen */
	long long drawn_ms; /* when it was last drawn */
	/* A group's commands run together ("Running the STEP: [NAME] `CMD`"
	 * lines in a row): one phase, its label naming them all; the one
	 * that failed is told by the "failed" event's "member", its key,
	 * which the line that showed it carried too (never parsed back out of
	 * the text: a key may hold "] `"). */
	struct progress_view_member {
		char *text; /* "[NAME] `CMD`" */
		char *key;  /* its line's "member", or NULL (an older agent) */
	} * member;
	size_t nmember;	   /* 2 or more: a group */
	size_t prefix;	   /* the length of label's "Running the STEP: " */
	long long held_ms; /* failed, its line held for the operation's end */
	char *failed;	   /* the NAME the "failed" event named, or NULL */
	int cancelled;	   /* ^C: the phase's line ends "[cancelled after N s]" */
};

int
progress_view_wanted(FILE *f)
{
	const char *term = getenv("TERM"), *mode = getenv("RDEV_PROGRESS");

	if (mode != NULL && strcmp(mode, "plain") == 0)
		return 0;
	if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0)
		return 0;
	return log_get_level() == LOG_WARN && isatty(fileno(f));
}

/* s without control characters and terminal escape sequences (CSI: ESC [
 * parameters final byte; other ESC X pairs), tabs as spaces. New string. */
static char *
clean_text(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x1b) {
			if (i + 1 < len && s[i + 1] == '[') {
				for (i += 2; i < len &&
				     !((unsigned char)s[i] >= 0x40 &&
					 (unsigned char)s[i] <= 0x7e);
				     i++)
					;
			} else
				i++;
			continue;
		}
		if (c == '\t')
			*o++ = ' ';
		else if (c >= 0x20 && c != 0x7f)
			*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

static int
view_columns(const struct progress_view *v)
{
	struct winsize ws;

	if (ioctl(fileno(v->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Write s, at most *room columns of it (UTF-8: a continuation byte takes
 * none), never cutting a character. */
static void
put_cols(FILE *f, const char *s, int *room)
{
	const char *p = s, *end;

	while (*p != '\0') {
		end = p + 1;
		while ((*end & 0xc0) == 0x80)
			end++;
		if (*room <= 0)
			break;
		fwrite(p, 1, (size_t)(end - p), f);
		(*room)--;
		p = end;
	}
}

static double
view_elapsed_s(const struct progress_view *v)
{
	long long end = v->held_ms != 0 ? v->held_ms : clock_now_ms();

	return (double)(end - v->start_ms) / 1000.0;
}

/* The length of label's "Running the STEP: " when it names a command of a
 * group ("... [NAME] `CMD`"), else 0. */
static size_t
group_prefix(const char *label)
{
	const char *at = strstr(label, ": [");

	if (at == NULL || strstr(at, "] `") == NULL)
		return 0;
	return (size_t)(at - label) + 2;
}

/* The updating line: "[ 3.2s] LABEL | LAST", to the width. */
static void
view_draw(struct progress_view *v)
{
	char head[32];
	int room = view_columns(v) - 1;

	if (v->label == NULL)
		return;
	snprintf(head, sizeof head, "[%4.1fs] ", view_elapsed_s(v));
	fputs("\r\033[K", v->f);
	put_cols(v->f, head, &room);
	put_cols(v->f, v->label, &room);
	if (v->last != NULL && *v->last != '\0' && room > 3) {
		put_cols(v->f, " | ", &room);
		put_cols(v->f, v->last, &room);
	}
	fflush(v->f);
	v->drawn = 1;
	v->drawn_ms = clock_now_ms();
}

static void
view_clear(struct progress_view *v)
{
	if (v->drawn) {
		fputs("\r\033[K", v->f);
		v->drawn = 0;
	}
}

/* The current phase ends: a line that stays, after its output when it
 * failed; a failed group's names the command its "failed" event named (by
 * its key, not by text: a masked secret or two alike commands would not
 * tell them apart); when none shown has that key (an agent before
 * "member"), the one whose "[NAME] `CMD`" error (the operation's, or NULL)
 * holds. */
static void
view_finish_phase(struct progress_view *v, int failed, const char *error)
{
	const char *label = v->label;
	char *one = NULL;
	size_t i;

	if (v->label == NULL)
		return;
	failed = failed || v->held_ms != 0;
	/* (from the last: the groups of a step run one after the other, each
	 * joining the phase, and the one that failed is the last to start;
	 * an earlier group may have a command of the same NAME) */
	for (i = v->nmember; failed && v->failed != NULL && v->nmember > 1 && i > 0; i--)
		if (v->member[i - 1].key != NULL &&
		    strcmp(v->failed, v->member[i - 1].key) == 0) {
			one = xasprintf(
			    "%.*s%s", (int)v->prefix, v->label, v->member[i - 1].text);
			label = one;
			break;
		}
	for (i = v->nmember;
	     failed && one == NULL && error != NULL && v->nmember > 1 && i > 0; i--)
		if (strstr(error, v->member[i - 1].text) != NULL) {
			one = xasprintf(
			    "%.*s%s", (int)v->prefix, v->label, v->member[i - 1].text);
			label = one;
			break;
		}
	view_clear(v);
	if (failed && buf_len(v->kept) > 0) {
		if (v->cut)
			fputs("[...]\n", v->f);
		fwrite(buf_data(v->kept), 1, buf_len(v->kept), v->f);
		if (buf_data(v->kept)[buf_len(v->kept) - 1] != '\n')
			fputc('\n', v->f);
	}
	if (v->cancelled)
		fprintf(v->f, "[cancelled after %.1fs] %s\n", view_elapsed_s(v), label);
	else
		fprintf(v->f, "[%s %.1fs] %s\n", failed ? "FAILED" : "done",
		    view_elapsed_s(v), label);
	fflush(v->f);
	free(one);
	free(v->label);
	free(v->last);
	v->label = v->last = NULL;
	buf_reset(v->kept);
	v->cut = 0;
	for (i = 0; i < v->nmember; i++) {
		free(v->member[i].text);
		free(v->member[i].key);
	}
	free(v->member);
	v->member = NULL;
	v->nmember = v->prefix = 0;
	v->held_ms = 0;
	free(v->failed);
	v->failed = NULL;
}

/* A phase starts with label, or joins the current group's (member: the
 * key its event gave the command it shows, or NULL). */
static void
view_start_phase(struct progress_view *v, const char *label, const char *member)
{
	char *clean = clean_text(label, strlen(label)), *joined;
	size_t n = group_prefix(clean);

	/* the next command of the current group */
	if (v->label != NULL && v->held_ms == 0 && n > 0 && n == v->prefix &&
	    strncmp(clean, v->label, n) == 0) {
		joined = xasprintf("%s, %s", v->label, clean + n);
		free(v->label);
		v->label = joined;
	} else {
		view_finish_phase(v, 0, NULL);
		v->label = xstrdup(clean);
		v->prefix = n;
		v->start_ms = clock_now_ms();
	}
	if (n > 0) {
		v->member = xreallocarray(v->member, v->nmember + 1, sizeof *v->member);
		v->member[v->nmember].text = xstrdup(clean + n);
		v->member[v->nmember++].key =
		    member != NULL ? clean_text(member, strlen(member)) : NULL;
	}
	free(clean);
	view_draw(v);
}

/* A line that stays (a warning, or text that is no event). */
static void
view_print(struct progress_view *v, const char *text, size_t len)
{
	view_clear(v);
	fwrite(text, 1, len, v->f);
	if (len == 0 || text[len - 1] != '\n')
		fputc('\n', v->f);
	view_draw(v);
}

static void
view_output(struct progress_view *v, const char *text)
{
	size_t len = strlen(text), over;
	const char *line, *end;

	buf_append(v->kept, text, len);
	if (buf_len(v->kept) > PROGRESS_VIEW_KEEP) {
		over = buf_len(v->kept) - PROGRESS_VIEW_KEEP;
		buf_consume(v->kept, over);
		v->cut = 1;
	}
	/* the last line with something in it */
	end = text + len;
	while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (end == text)
		return;
	for (line = end; line > text && line[-1] != '\n' && line[-1] != '\r'; line--)
		;
	free(v->last);
	v->last = clean_text(line, (size_t)(end - line));
	/* A redraw per line would be a write to the terminal per line (a
	 * command printing millions of them spent its time there): the ticker
	 * shows the new last line within a tick; drawn now only when the line
	 * is not up or is older than that. */
	if (!v->drawn || v->stop != 0 ||
	    clock_now_ms() - v->drawn_ms >= PROGRESS_VIEW_TICK_MS)
		view_draw(v);
}

static void
view_event(struct progress_view *v, const char *line, size_t len)
{
	cJSON *e = cJSON_ParseWithLength(line, len);
	const char *type = NULL, *text = NULL, *status = NULL, *name = NULL;
	const char *member = NULL;
	const cJSON *it;

	if (e == NULL || !cJSON_IsObject(e)) {
		view_print(v, line, len);
		cJSON_Delete(e);
		return;
	}
	if (cJSON_IsString(it = cJSON_GetObjectItemCaseSensitive(e, "type")))
		type = it->valuestring;
	if (cJSON_IsString(it = cJSON_GetObjectItemCaseSensitive(e, "text")))
		text = it->valuestring;
	if (cJSON_IsString(it = cJSON_GetObjectItemCaseSensitive(e, "status")))
		status = it->valuestring;
	if (cJSON_IsString(it = cJSON_GetObjectItemCaseSensitive(e, "name")))
		name = it->valuestring;
	if (cJSON_IsString(it = cJSON_GetObjectItemCaseSensitive(e, "member")))
		member = it->valuestring;
	if (type == NULL)
		view_print(v, line, len);
	else if (strcmp(type, "raw") == 0 && text != NULL)
		view_output(v, text);
	else if (strcmp(type, "text") == 0 && text != NULL) {
		if (strncmp(text, "warning: ", 9) == 0 ||
		    strstr(text, ": warning: ") != NULL)
			view_print(v, text, strlen(text));
		else
			view_start_phase(v, text, member);
	} else if (strcmp(type, "progress") == 0 && status != NULL) {
		/* A step's start follows the message naming it ("Running the
		 * postCreateCommand: ..."): a phase already. */
		if (strcmp(status, "running") == 0) {
			if (v->label == NULL && name != NULL)
				view_start_phase(v, name, NULL);
		} else if (strcmp(status, "failed") == 0 && v->nmember > 1) {
			/* (the group's line waits for its end: the operation's) */
			if (v->held_ms == 0)
				v->held_ms = clock_now_ms();
			if (member != NULL && v->failed == NULL)
				v->failed = clean_text(member, strlen(member));
		} else
			view_finish_phase(v, strcmp(status, "failed") == 0, NULL);
	}
	cJSON_Delete(e);
}

void
progress_view_sink(void *arg, const char *data, size_t len)
{
	struct progress_view *v = arg;
	const unsigned char *d;
	const char *nl;
	size_t n;

	pthread_mutex_lock(&v->mu);
	buf_append(v->input, data, len);
	for (;;) {
		d = buf_data(v->input);
		n = buf_len(v->input);
		if ((nl = memchr(d, '\n', n)) == NULL)
			break;
		view_event(v, (const char *)d, (size_t)(nl - (const char *)d));
		buf_consume(v->input, (size_t)(nl - (const char *)d) + 1);
	}
	/* (no event line is this long: shown as it is) */
	if (buf_len(v->input) > PROGRESS_VIEW_INPUT_MAX) {
		view_print(v, (const char *)buf_data(v->input), buf_len(v->input));
		buf_reset(v->input);
	}
	pthread_mutex_unlock(&v->mu);
}

static void *
view_ticker(void *arg)
{
	struct progress_view *v = arg;
	struct timespec until;

	pthread_mutex_lock(&v->mu);
	while (!v->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += PROGRESS_VIEW_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&v->cv, &v->mu, &until) == ETIMEDOUT &&
		    !v->stop && v->drawn)
			view_draw(v);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

struct progress_view *
progress_view_new(FILE *f)
{
	struct progress_view *v = xcalloc(1, sizeof *v);

	v->f = f;
	v->input = buf_new();
	v->kept = buf_new();
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	if (pthread_create(&v->ticker, NULL, view_ticker, v) != 0)
		v->stop = -1; /* no thread: the line updates with the output only */
	return v;
}

void
progress_view_cancel(struct progress_view *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	if (buf_len(v->input) > 0)
		view_event(v, (const char *)buf_data(v->input), buf_len(v->input));
	buf_reset(v->input);
	v->cancelled = 1;
	view_finish_phase(v, 0, NULL);
	v->cancelled = 0;
	/* (nothing is drawn after it: the cancel's message follows) */
	if (v->stop == 0) {
		v->stop = 1;
		pthread_cond_signal(&v->cv);
		pthread_mutex_unlock(&v->mu);
		pthread_join(v->ticker, NULL);
	} else
		pthread_mutex_unlock(&v->mu);
}

void
progress_view_end(struct progress_view *v, int failed, const char *error)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	if (buf_len(v->input) > 0)
		view_event(v, (const char *)buf_data(v->input), buf_len(v->input));
	view_finish_phase(v, failed, error);
	if (v->stop == 0) {
		v->stop = 1;
		pthread_cond_signal(&v->cv);
		pthread_mutex_unlock(&v->mu);
		pthread_join(v->ticker, NULL);
	} else
		pthread_mutex_unlock(&v->mu);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	buf_free(v->input);
	buf_free(v->kept);
	free(v->label);
	free(v->last);
	free(v);
}
