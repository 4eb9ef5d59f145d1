/* mount-string.c - the fields of a `docker run --mount` string. */
#include "mount-string.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xmalloc.h"

static int
mount_string_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Go's strings.TrimSpace for ASCII: a new string. */
static char *
mount_string_trim(const char *s)
{
	size_t len;

	while (mount_string_is_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && mount_string_is_space(s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/*
 * Split one CSV record as Go's encoding/csv reads it with default settings:
 * fields separated by commas; a field that starts with a double quote runs to
 * the closing quote ("" inside stands for one quote) and must be followed by
 * a comma or the end; a quote anywhere in an unquoted field is an error
 * (MOUNT_STRING_LAX: a character of it). A line break outside quotes is
 * refused (Go would stop reading there). Returns a NULL-terminated array
 * (caller frees each and the array).
 */
static char **
mount_string_csv(const char *s, int flags, char **cause)
{
	char **fields = NULL;
	size_t n = 0, len, cap = 0;
	char *field; /* one scratch buffer for every field, copied out at its end */
	const char *p = s;

	/* A field is no longer than s; one buffer, not one of the rest of s per
	 * field, which is quadratic in the number of fields. */
	field = xmalloc(strlen(s) + 1);
	for (;;) {
		len = 0;
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0') {
					error_set(
					    cause, "missing closing \" in quoted field");
					goto fail;
				}
				if (*p == '\r' && p[1] == '\n')
					continue;
				if (*p == '"') {
					if (p[1] == '"') {
						field[len++] = '"';
						p++;
						continue;
					}
					p++;
					break;
				}
				field[len++] = *p;
			}
			if (*p != ',' && *p != '\0' && *p != '\n' &&
			    !(*p == '\r' && p[1] == '\n')) {
				error_set(cause,
				    "text after the closing \" of a quoted field "
				    "(quote whole fields: \"source=/a,b\")");
				goto fail;
			}
		} else {
			for (; *p != ',' && *p != '\0' && *p != '\n'; p++) {
				if (*p == '"' && !(flags & MOUNT_STRING_LAX)) {
					error_set(cause,
					    "\" inside an unquoted field (quote "
					    "whole fields: \"source=/a,b\")");
					goto fail;
				}
				if (*p == '\r' && p[1] == '\n')
					continue;
				field[len++] = *p;
			}
		}
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (*p == '\n') {
			error_set(cause, "line break in mount string");
			goto fail;
		}
		if (n + 2 > cap) {
			cap = cap == 0 ? 8 : cap * 2;
			fields = xreallocarray(fields, cap, sizeof *fields);
		}
		fields[n++] = xstrndup(field, len);
		if (*p == '\0')
			break;
		p++; /* the comma */
	}
	free(field);
	fields[n] = NULL;
	return fields;

fail:
	free(field);
	while (n > 0)
		free(fields[--n]);
	free(fields);
	return NULL;
}

char **
mount_string_split(const char *s, int flags, char **cause)
{
	char *value, **fields;

	value = mount_string_trim(s);
	if (*value == '\0') {
		free(value);
		error_set(cause, "value is empty");
		return NULL;
	}
	fields = mount_string_csv(value, flags, cause);
	free(value);
	return fields;
}

void
mount_string_fields_free(char **fields)
{
	size_t i;

	if (fields == NULL)
		return;
	for (i = 0; fields[i] != NULL; i++)
		free(fields[i]);
	free(fields);
}

int
mount_string_field(
    const char *field, int flags, char **key, const char **value, char **cause)
{
	const char *eq = strchr(field, '='), *val = eq != NULL ? eq + 1 : NULL;
	char *raw_key, *trimmed, *p;
	int bad;

	raw_key = eq != NULL ? xstrndup(field, (size_t)(eq - field)) : xstrdup(field);
	trimmed = mount_string_trim(raw_key);
	bad = strcmp(trimmed, raw_key) != 0;
	free(trimmed);
	if (bad) {
		error_set(cause, "key \"%s\" has spaces around it", raw_key);
		free(raw_key);
		return -1;
	}
	if (val != NULL && !(flags & MOUNT_STRING_LAX)) {
		trimmed = mount_string_trim(val);
		bad = *trimmed == '\0' || strcmp(trimmed, val) != 0;
		if (*trimmed == '\0')
			error_set(cause, "empty value for \"%s\"", raw_key);
		else if (bad)
			error_set(cause, "value of \"%s\" has spaces around it", raw_key);
		free(trimmed);
		if (bad) {
			free(raw_key);
			return -1;
		}
	}
	for (p = raw_key; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	*key = raw_key;
	*value = val;
	return 0;
}

char *
mount_string_target(const char *s)
{
	char **fields, *key, *target = NULL;
	const char *val;
	size_t i;

	if ((fields = mount_string_split(s, 0, NULL)) == NULL)
		return NULL;
	for (i = 0; fields[i] != NULL; i++) {
		if (mount_string_field(fields[i], 0, &key, &val, NULL) != 0) {
			free(target);
			target = NULL;
			break;
		}
		if (val != NULL &&
		    (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
			strcmp(key, "destination") == 0)) {
			free(target);
			target = xstrdup(val);
		}
		free(key);
	}
	mount_string_fields_free(fields);
	return target;
}
