/* compose-naming.c - the Compose project name (see compose-naming.h). */
#include "compose-naming.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

char *
compose_naming_normalize(const char *name, int new_style)
{
	char *out = xmalloc(strlen(name) + 1), *o = out;
	const char *p;
	int c;

	for (p = name; *p != '\0'; p++) {
		c = tolower((unsigned char)*p);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (new_style && (c == '-' || c == '_')))
			*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

char *
compose_naming_dotenv(const char *text)
{
	const char *line = text, *end;
	size_t len;

	while (line != NULL && *line != '\0') {
		end = strchr(line, '\n');
		len = end != NULL ? (size_t)(end - line) : strlen(line);
		if (len > 21 && strncmp(line, "COMPOSE_PROJECT_NAME=", 21) == 0) {
			const char *v = line + 21;
			len -= 21;
			while (len > 0 && isspace((unsigned char)*v)) {
				v++;
				len--;
			}
			while (len > 0 && isspace((unsigned char)v[len - 1]))
				len--;
			return xstrndup(v, len);
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

/* Strip trailing slashes (keeping "/"); new string. */
static char *
compose_naming_path_clean(const char *p)
{
	char *s = xstrdup(p);
	size_t len = strlen(s);

	while (len > 1 && s[len - 1] == '/')
		s[--len] = '\0';
	return s;
}

static const char *
compose_naming_basename(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : p;
}

char *
compose_naming_project(
    const struct compose_naming_input *in, enum compose_naming_source *from)
{
	enum compose_naming_source ignored;
	char *n, *v, *dir, *slash, *local, *devc, *base;

	if (from == NULL)
		from = &ignored;
	*from = COMPOSE_NAMING_ENV;
	if (in->env_name != NULL) {
		n = compose_naming_normalize(in->env_name, in->new_style);
		if (*n != '\0')
			return n;
		free(n);
	}
	if (in->dotenv_text != NULL &&
	    (v = compose_naming_dotenv(in->dotenv_text)) != NULL) {
		n = compose_naming_normalize(v, in->new_style);
		free(v);
		*from = COMPOSE_NAMING_DOTENV;
		if (*n != '\0')
			return n;
		free(n);
	}
	if (in->config_name != NULL && *in->config_name != '\0' &&
	    (strcmp(in->config_name, "devcontainer") != 0 || in->name_in_files)) {
		*from = COMPOSE_NAMING_CONFIG;
		return compose_naming_normalize(in->config_name, in->new_style);
	}

	dir = compose_naming_path_clean(in->first_file);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	local = compose_naming_path_clean(in->local_folder);
	devc = xasprintf("%s/.devcontainer", strcmp(local, "/") == 0 ? "" : local);
	if (strcmp(dir, devc) == 0) {
		base = xasprintf("%s_devcontainer", compose_naming_basename(local));
		n = compose_naming_normalize(base, in->new_style);
		free(base);
		*from = COMPOSE_NAMING_WORKSPACE;
	} else {
		n = compose_naming_normalize(compose_naming_basename(dir), in->new_style);
		*from = COMPOSE_NAMING_DIR;
	}
	free(dir);
	free(local);
	free(devc);
	return n;
}
