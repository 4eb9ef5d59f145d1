/* ssh-config-text.c - ssh_config text for `rdev ssh-config`
 * (ssh-config-text.h). */
#include "ssh-config-text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xmalloc.h"

/* s with every % doubled: ssh expands %-tokens in ProxyCommand and
 * UserKnownHostsFile. New string. */
char *
ssh_config_text_escape(const char *s)
{
	struct buf *b = buf_new();
	char *out;

	for (; *s != '\0'; s++)
		buf_append(b, *s == '%' ? "%%" : s, *s == '%' ? 2 : 1);
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

char *
ssh_config_text_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id != '\0'; id++) {
		h ^= (unsigned char)*id;
		h *= 16777619u;
	}
	return xasprintf("%06x", (unsigned)(h & 0xffffff));
}

/* The default alias: rdev-<the workspace folder's basename>, made of what
 * ssh_config takes in a Host pattern, a hash of id after it when something
 * had to be replaced. New string. */
char *
ssh_config_text_alias(const char *folder, const char *id)
{
	size_t end = strlen(folder), start;
	char *alias, *p, *h, *out;
	int replaced = 0;

	while (end > 1 && folder[end - 1] == '/')
		end--;
	for (start = end; start > 0 && folder[start - 1] != '/'; start--)
		;
	alias = xasprintf("rdev-%.*s", (int)(end - start), folder + start);
	for (p = alias + 5; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL) {
			*p = '_';
			replaced = 1;
		}
	if (!replaced)
		return alias;
	h = ssh_config_text_hash(id);
	out = xasprintf("%s-%s", alias, h);
	free(h);
	free(alias);
	return out;
}

/* Does line (up to its newline) start a block: "Host ..." or "Match ..."?
 * With alias: a "Host ALIAS" line exactly. */
static int
ssh_config_text_block_start(const char *line, const char *alias)
{
	size_t n;

	while (*line == ' ' || *line == '\t')
		line++;
	if (alias == NULL)
		return strncasecmp(line, "host ", 5) == 0 ||
		    strncasecmp(line, "match ", 6) == 0;
	if (strncasecmp(line, "host ", 5) != 0)
		return 0;
	for (line += 5; *line == ' '; line++)
		;
	n = strlen(alias);
	return strncmp(line, alias, n) == 0 &&
	    (line[n] == '\n' || line[n] == '\0' || line[n] == ' ' || line[n] == '\r');
}

/* old (a config file's text) without alias's block, plus block. New. */
char *
ssh_config_text_replace(const char *old, const char *alias, const char *block)
{
	struct buf *b = buf_new();
	const char *line, *end;
	int skipping = 0;
	char *out;

	for (line = old; *line != '\0'; line = end) {
		end = strchr(line, '\n');
		end = end != NULL ? end + 1 : line + strlen(line);
		if (ssh_config_text_block_start(line, NULL))
			skipping = ssh_config_text_block_start(line, alias);
		if (!skipping)
			buf_append(b, line, (size_t)(end - line));
	}
	if (buf_len(b) > 0 && buf_data(b)[buf_len(b) - 1] != '\n')
		buf_append(b, "\n", 1);
	buf_appendf(b, "%s", block);
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* Does the ssh config text include rdev.config? */
int
ssh_config_text_includes(const char *text, const char *name)
{
	const char *line, *end, *p;

	for (line = text; *line != '\0'; line = *end != '\0' ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (strncasecmp(p, "include", 7) == 0 && (p[7] == ' ' || p[7] == '\t') &&
		    memmem(p, (size_t)(end - p), name, strlen(name)) != NULL)
			return 1;
	}
	return 0;
}

char *
ssh_config_text_proxy(const char *text, const char *alias)
{
	const char *line, *end, *p;
	int in = 0;

	for (line = text; *line != '\0'; line = *end != '\0' ? end + 1 : end) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		if (ssh_config_text_block_start(line, NULL))
			in = ssh_config_text_block_start(line, alias);
		if (!in)
			continue;
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (strncasecmp(p, "proxycommand", 12) != 0 ||
		    (p[12] != ' ' && p[12] != '\t'))
			continue;
		for (p += 12; *p == ' ' || *p == '\t'; p++)
			;
		while (end > p && (end[-1] == '\r' || end[-1] == ' '))
			end--;
		return xstrndup(p, (size_t)(end - p));
	}
	return NULL;
}

/* The end of the shell word at p (quoted as shell_quote_argv quotes: '...',
 * "...", backslashes). */
static const char *
ssh_config_text_word_end(const char *p)
{
	char q = 0;

	for (; *p != '\0'; p++) {
		if (q == 0 && (*p == ' ' || *p == '\t'))
			break;
		if (q == 0 && (*p == '\'' || *p == '"'))
			q = *p;
		else if (q != 0 && *p == q)
			q = 0;
		else if (*p == '\\' && q != '\'' && p[1] != '\0')
			p++;
	}
	return p;
}

char *
ssh_config_text_identity(const char *proxy)
{
	const char *p = strstr(proxy, " ssh-proxy "), *end;
	struct buf *b = buf_new();
	char *out;

	/* (not one of ours: all of it) */
	if (p == NULL)
		p = proxy;
	else
		p += strlen(" ssh-proxy ");
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		end = ssh_config_text_word_end(p);
		/* (how the proxy talks to ssh, not which workspace) */
		if ((size_t)(end - p) != strlen("--fdpass") ||
		    strncmp(p, "--fdpass", (size_t)(end - p)) != 0) {
			if (buf_len(b) > 0)
				buf_append(b, " ", 1);
			buf_append(b, p, (size_t)(end - p));
		}
		p = end;
	}
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

int
ssh_config_text_same_proxy(const char *a, const char *b)
{
	char *ia = ssh_config_text_identity(a), *ib = ssh_config_text_identity(b);
	int same = strcmp(ia, ib) == 0;

	free(ia);
	free(ib);
	return same;
}
