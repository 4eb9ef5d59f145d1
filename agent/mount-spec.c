/* mount-spec.c - devcontainer.json mounts as Docker Engine API Mount objects. */
#include "mount-spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mount-string.h"
#include "xmalloc.h"

/* Largest integer a JSON number (a double) carries exactly. */
#define MOUNT_SPEC_MAX_EXACT 9007199254740992.0

/* One mount while it is parsed; turned into JSON at the end so the keys come
 * out in the order of Docker's Go structs whatever the input order. */
struct mount_spec {
	char *type;
	char *source;
	char *target;
	int readonly;

	int bind; /* any bind-* option given */
	char *propagation;
	int nonrecursive;
	int ro_nonrecursive;
	int ro_force_recursive;

	int volume; /* any volume-* option given */
	int nocopy;
	cJSON *labels;
	char *subpath;
	char *driver_name;
	cJSON *driver_opts;

	int tmpfs; /* any tmpfs-* option given */
	int64_t tmpfs_size;
	uint32_t tmpfs_mode;
};

static void
mount_spec_clear(struct mount_spec *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
	free(m->propagation);
	cJSON_Delete(m->labels);
	free(m->subpath);
	free(m->driver_name);
	cJSON_Delete(m->driver_opts);
	memset(m, 0, sizeof *m);
}

static void
mount_spec_replace(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static char *
mount_spec_lower(const char *s)
{
	char *l = xstrdup(s), *p;

	for (p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

/* Set key=value in a map object (a later value for a key replaces it). */
static void
mount_spec_map_set(cJSON **map, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *k;

	k = eq != NULL ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	if (*k == '\0') {
		free(k);
		return;
	}
	if (*map == NULL)
		*map = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(*map, k);
	cJSON_AddStringToObject(*map, k, eq != NULL ? eq + 1 : "");
	free(k);
}

/* Go's strconv.ParseFloat restricted to plain decimal notation. */
static int
mount_spec_parse_decimal(const char *s, double *out)
{
	const char *p = s;
	char *end;
	int digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	for (; isdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (digits == 0)
		return -1;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != '\0')
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE)
		return -1;
	return 0;
}

int
mount_spec_parse_bytes(const char *s, int64_t *bytes, char **cause)
{
	const char *space = strchr(s, ' '), *sfx_start, *p;
	char *num, *sfx = NULL;
	double size, mul = 1;
	int64_t units[] = { 1LL << 10, 1LL << 20, 1LL << 30, 1LL << 40, 1LL << 50 };
	const char *letters = "kmgtp", *u;
	size_t sep;
	int ok;

	if (space != NULL) {
		num = xstrndup(s, (size_t)(space - s));
		sfx_start = space + 1;
	} else {
		/* The suffix starts after the last digit or dot. */
		sep = (size_t)-1;
		for (p = s; *p != '\0'; p++)
			if (isdigit((unsigned char)*p) || *p == '.')
				sep = (size_t)(p - s);
		if (sep == (size_t)-1)
			return error_set(cause, "invalid size: '%s'", s);
		num = xstrndup(s, sep + 1);
		sfx_start = s + sep + 1;
	}
	ok = mount_spec_parse_decimal(num, &size) == 0;
	free(num);
	if (!ok || size < 0)
		return error_set(cause, "invalid size: '%s'", s);
	if (*sfx_start != '\0') {
		sfx = mount_spec_lower(sfx_start);
		if (strlen(sfx) > 3)
			goto bad_suffix;
		if (sfx[0] == 'b') {
			if (sfx[1] != '\0')
				goto bad_suffix;
		} else {
			if ((u = strchr(letters, sfx[0])) == NULL || sfx[0] == '\0')
				goto bad_suffix;
			mul = (double)units[u - letters];
			if (sfx[1] != '\0' && strcmp(sfx + 1, "b") != 0 &&
			    strcmp(sfx + 1, "ib") != 0)
				goto bad_suffix;
		}
		free(sfx);
	}
	size *= mul;
	if (size > MOUNT_SPEC_MAX_EXACT)
		return error_set(cause, "size too large: '%s'", s);
	*bytes = (int64_t)size;
	return 0;

bad_suffix:
	error_set(cause, "invalid suffix: '%s'", sfx);
	free(sfx);
	return -1;
}

/* Docker's parseBoolValue: no value means true; else 1, true, 0 or false. */
static int
mount_spec_bool(const char *key, const char *val, int *out, char **cause)
{
	if (val == NULL || strcmp(val, "1") == 0 || strcmp(val, "true") == 0)
		*out = 1;
	else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0)
		*out = 0;
	else
		return error_set(cause,
		    "invalid value \"%s\" for \"%s\" (true, false, 1 "
		    "or 0)",
		    val, key);
	return 0;
}

/* A source like "./data": docker makes it absolute against its own working
 * directory, which means nothing on a remote host. */
static int
mount_spec_check_relative(const char *source, char **cause)
{
	if (source != NULL && source[0] == '.')
		return error_set(cause,
		    "relative source \"%s\" is not supported (use an "
		    "absolute path, e.g. ${localWorkspaceFolder}/...)",
		    source);
	return 0;
}

/* Apply one field, as docker's MountOpt.Set does: key lowercased, val
 * NULL for a bare key (mount_string_field). */
static int
mount_spec_field(struct mount_spec *m, const char *key, const char *val, char **cause)
{
	unsigned long long ull;
	char *end;

	if (val == NULL && strcmp(key, "readonly") != 0 && strcmp(key, "ro") != 0 &&
	    strcmp(key, "volume-nocopy") != 0 && strcmp(key, "bind-nonrecursive") != 0 &&
	    strcmp(key, "bind-create-src") != 0) {
		if (*key == '\0')
			error_set(cause, "empty field (expected key=value)");
		else if (strcmp(key, "type") == 0 || strcmp(key, "source") == 0 ||
		    strcmp(key, "src") == 0 || strcmp(key, "target") == 0 ||
		    strcmp(key, "dst") == 0 || strcmp(key, "destination") == 0 ||
		    strncmp(key, "bind-", 5) == 0 || strncmp(key, "volume-", 7) == 0 ||
		    strncmp(key, "tmpfs-", 6) == 0 || strcmp(key, "consistency") == 0)
			error_set(cause, "\"%s\" needs a value (%s=...)", key, key);
		else
			error_set(cause, "unknown key \"%s\"", key);
		return -1;
	}

	if (strcmp(key, "type") == 0) {
		free(m->type);
		m->type = mount_spec_lower(val);
	} else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0) {
		if (mount_spec_check_relative(val, cause) != 0)
			return -1;
		mount_spec_replace(&m->source, val);
	} else if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
	    strcmp(key, "destination") == 0) {
		mount_spec_replace(&m->target, val);
	} else if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0) {
		if (mount_spec_bool(key, val, &m->readonly, cause) != 0)
			return -1;
	} else if (strcmp(key, "consistency") == 0) {
		/* Accepted for compatibility; Docker on Linux ignores it. */
	} else if (strcmp(key, "bind-propagation") == 0) {
		m->bind = 1;
		free(m->propagation);
		m->propagation = mount_spec_lower(val);
	} else if (strcmp(key, "bind-nonrecursive") == 0) {
		error_set(cause,
		    "bind-nonrecursive is deprecated, use "
		    "bind-recursive=disabled instead");
		return -1;
	} else if (strcmp(key, "bind-recursive") == 0) {
		m->bind = 1;
		if (strcmp(val, "enabled") == 0)
			;
		else if (strcmp(val, "disabled") == 0)
			m->nonrecursive = 1;
		else if (strcmp(val, "writable") == 0)
			m->ro_nonrecursive = 1;
		else if (strcmp(val, "readonly") == 0)
			m->ro_force_recursive = 1;
		else {
			error_set(cause,
			    "invalid value \"%s\" for \"bind-recursive\" "
			    "(enabled, disabled, writable or readonly)",
			    val);
			return -1;
		}
	} else if (strcmp(key, "bind-create-src") == 0) {
		error_set(cause,
		    "\"bind-create-src\" is not supported by rdev (create "
		    "the source directory first, e.g. in initializeCommand)");
		return -1;
	} else if (strcmp(key, "volume-subpath") == 0) {
		m->volume = 1;
		mount_spec_replace(&m->subpath, val);
	} else if (strcmp(key, "volume-nocopy") == 0) {
		m->volume = 1;
		if (mount_spec_bool(key, val, &m->nocopy, cause) != 0)
			return -1;
	} else if (strcmp(key, "volume-label") == 0) {
		m->volume = 1;
		mount_spec_map_set(&m->labels, val);
	} else if (strcmp(key, "volume-driver") == 0) {
		m->volume = 1;
		mount_spec_replace(&m->driver_name, val);
	} else if (strcmp(key, "volume-opt") == 0) {
		m->volume = 1;
		mount_spec_map_set(&m->driver_opts, val);
	} else if (strcmp(key, "tmpfs-size") == 0) {
		m->tmpfs = 1;
		if (mount_spec_parse_bytes(val, &m->tmpfs_size, NULL) != 0) {
			error_set(cause, "invalid value for tmpfs-size: %s", val);
			return -1;
		}
	} else if (strcmp(key, "tmpfs-mode") == 0) {
		m->tmpfs = 1;
		errno = 0;
		ull = strtoull(val, &end, 8);
		if (*end != '\0' || !isdigit((unsigned char)*val) || errno == ERANGE ||
		    ull > 0xffffffffULL) {
			error_set(cause, "invalid value for tmpfs-mode: %s", val);
			return -1;
		}
		m->tmpfs_mode = (uint32_t)ull;
	} else if (strcmp(key, "image-subpath") == 0) {
		error_set(cause, "\"image-subpath\" is not supported by rdev");
		return -1;
	} else {
		error_set(cause, "unknown key \"%s\"", key);
		return -1;
	}
	return 0;
}

/* The checks docker makes after parsing (validateMountOptions), plus those
 * the daemon would make, with messages that name the mount's keys. */
static int
mount_spec_validate(const struct mount_spec *m, char **cause)
{
	const char *t = m->type;

	if (t == NULL || *t == '\0')
		return error_set(cause, "type is required");
	if (strcmp(t, "bind") != 0 && strcmp(t, "volume") != 0 && strcmp(t, "tmpfs") != 0)
		return error_set(cause, "unknown type \"%s\" (bind, volume or tmpfs)", t);
	if (strcmp(t, "bind") != 0 && m->bind)
		return error_set(
		    cause, "cannot mix 'bind-*' options with mount type '%s'", t);
	if (strcmp(t, "volume") != 0 && m->volume)
		return error_set(
		    cause, "cannot mix 'volume-*' options with mount type '%s'", t);
	if (strcmp(t, "tmpfs") != 0 && m->tmpfs)
		return error_set(
		    cause, "cannot mix 'tmpfs-*' options with mount type '%s'", t);
	if (m->ro_nonrecursive && !m->readonly)
		return error_set(cause,
		    "option 'bind-recursive=writable' requires "
		    "'readonly' to be specified in conjunction");
	if (m->ro_force_recursive) {
		if (!m->readonly)
			return error_set(cause,
			    "option 'bind-recursive=readonly' requires "
			    "'readonly' to be specified in conjunction");
		if (m->propagation == NULL || strcmp(m->propagation, "rprivate") != 0)
			return error_set(cause,
			    "option 'bind-recursive=readonly' requires "
			    "'bind-propagation=rprivate' to be specified in conjunction");
		/* The docker client refuses it below API 1.44; rdev speaks 1.41. */
		return error_set(cause,
		    "option 'bind-recursive=readonly' requires Docker "
		    "API 1.44 (rdev uses 1.41)");
	}
	if (m->target == NULL || *m->target == '\0')
		return error_set(cause, "target is required");
	if (strcmp(t, "bind") == 0 && (m->source == NULL || *m->source == '\0'))
		return error_set(cause, "source is required for a bind mount");
	if (strcmp(t, "tmpfs") == 0 && m->source != NULL && *m->source != '\0')
		return error_set(cause, "a tmpfs mount takes no source");
	/* The daemon refuses these when the container is created ("invalid
	 * mount path: 'data' mount path must be absolute"), after the image is
	 * built or pulled, and without naming the mount. */
	if (m->target[0] != '/')
		return error_set(
		    cause, "target \"%s\" is not an absolute path", m->target);
	if (strcmp(t, "bind") == 0 && m->source[0] != '/')
		return error_set(cause,
		    "source \"%s\" of a bind mount is not an absolute path (%s)",
		    m->source,
		    m->source[0] == '~' ? "~ is not expanded: use ${localEnv:HOME}/..."
					: "use e.g. ${localWorkspaceFolder}/...");
	return 0;
}

/* The Mount object, keys in the order of Docker's mount.Mount. */
static cJSON *
mount_spec_json(struct mount_spec *m)
{
	cJSON *o = cJSON_CreateObject(), *opts, *drv;

	cJSON_AddStringToObject(o, "Type", m->type);
	if (m->source != NULL && *m->source != '\0')
		cJSON_AddStringToObject(o, "Source", m->source);
	cJSON_AddStringToObject(o, "Target", m->target);
	if (m->readonly)
		cJSON_AddTrueToObject(o, "ReadOnly");
	if (m->bind) {
		opts = cJSON_AddObjectToObject(o, "BindOptions");
		if (m->propagation != NULL)
			cJSON_AddStringToObject(opts, "Propagation", m->propagation);
		if (m->nonrecursive)
			cJSON_AddTrueToObject(opts, "NonRecursive");
		if (m->ro_nonrecursive)
			cJSON_AddTrueToObject(opts, "ReadOnlyNonRecursive");
		if (m->ro_force_recursive)
			cJSON_AddTrueToObject(opts, "ReadOnlyForceRecursive");
	}
	if (m->volume) {
		opts = cJSON_AddObjectToObject(o, "VolumeOptions");
		if (m->nocopy)
			cJSON_AddTrueToObject(opts, "NoCopy");
		if (m->labels != NULL) {
			cJSON_AddItemToObject(opts, "Labels", m->labels);
			m->labels = NULL;
		}
		if (m->subpath != NULL)
			cJSON_AddStringToObject(opts, "Subpath", m->subpath);
		/* docker 28 (the rig's CLI) always sends a DriverConfig with volume
		 * options, empty without volume-driver/volume-opt: the default. */
		drv = cJSON_AddObjectToObject(opts, "DriverConfig");
		if (m->driver_name != NULL)
			cJSON_AddStringToObject(drv, "Name", m->driver_name);
		if (m->driver_opts != NULL) {
			cJSON_AddItemToObject(drv, "Options", m->driver_opts);
			m->driver_opts = NULL;
		}
	}
	if (m->tmpfs) {
		opts = cJSON_AddObjectToObject(o, "TmpfsOptions");
		if (m->tmpfs_size != 0)
			cJSON_AddNumberToObject(opts, "SizeBytes", (double)m->tmpfs_size);
		if (m->tmpfs_mode != 0)
			cJSON_AddNumberToObject(opts, "Mode", (double)m->tmpfs_mode);
	}
	return o;
}

/* Parse a --mount string into m (type defaults to volume, as in docker). */
static int
mount_spec_parse_into(struct mount_spec *m, const char *s, char **cause)
{
	char **fields, *key;
	const char *val;
	size_t i;
	int rc = 0;

	m->type = xstrdup("volume");
	if ((fields = mount_string_split(s, 0, cause)) == NULL)
		return -1;
	for (i = 0; fields[i] != NULL && rc == 0; i++) {
		if ((rc = mount_string_field(fields[i], 0, &key, &val, cause)) != 0)
			break;
		rc = mount_spec_field(m, key, val, cause);
		free(key);
	}
	mount_string_fields_free(fields);
	return rc;
}

cJSON *
mount_spec_parse(const char *mount, char **cause)
{
	struct mount_spec m;
	cJSON *out = NULL;

	memset(&m, 0, sizeof m);
	if (mount_spec_parse_into(&m, mount, cause) != 0 ||
	    mount_spec_validate(&m, cause) != 0) {
		error_prefix(cause, "mount \"%s\"", mount);
		goto out;
	}
	out = mount_spec_json(&m);
out:
	mount_spec_clear(&m);
	return out;
}

/* A spec object {"type","source","target"}; other keys are ignored, as the
 * reference CLI ignores them. */
static int
mount_spec_object(struct mount_spec *m, const cJSON *mount, char **cause)
{
	const cJSON *type, *source, *target;

	type = cJSON_GetObjectItemCaseSensitive(mount, "type");
	source = cJSON_GetObjectItemCaseSensitive(mount, "source");
	target = cJSON_GetObjectItemCaseSensitive(mount, "target");
	if (type != NULL && !cJSON_IsString(type))
		return error_set(cause, "\"type\" is not a string");
	if (source != NULL && !cJSON_IsNull(source) && !cJSON_IsString(source))
		return error_set(cause, "\"source\" is not a string");
	if (target != NULL && !cJSON_IsString(target))
		return error_set(cause, "\"target\" is not a string");
	if (type != NULL)
		m->type = mount_spec_lower(type->valuestring);
	if (cJSON_IsString(source) && *source->valuestring != '\0') {
		if (mount_spec_check_relative(source->valuestring, cause) != 0)
			return -1;
		m->source = xstrdup(source->valuestring);
	}
	if (target != NULL)
		m->target = xstrdup(target->valuestring);
	return 0;
}

cJSON *
mount_spec_to_api(const cJSON *mount, char **cause)
{
	struct mount_spec m;
	cJSON *out = NULL;
	char *text;

	if (cJSON_IsString(mount))
		return mount_spec_parse(mount->valuestring, cause);
	if (!cJSON_IsObject(mount)) {
		error_set(cause, "mount is neither a string nor an object");
		return NULL;
	}
	memset(&m, 0, sizeof m);
	if (mount_spec_object(&m, mount, cause) != 0 ||
	    mount_spec_validate(&m, cause) != 0) {
		if ((text = cJSON_PrintUnformatted(mount)) == NULL)
			fatal("cJSON_PrintUnformatted: out of memory");
		error_prefix(cause, "mount %s", text);
		free(text);
		goto out;
	}
	out = mount_spec_json(&m);
out:
	mount_spec_clear(&m);
	return out;
}

char *
mount_spec_target(const cJSON *mount)
{
	struct mount_spec m;
	const cJSON *t;
	char *target = NULL;

	if (cJSON_IsObject(mount)) {
		t = cJSON_GetObjectItemCaseSensitive(mount, "target");
		if (cJSON_IsString(t) && *t->valuestring != '\0')
			return xstrdup(t->valuestring);
		return NULL;
	}
	if (!cJSON_IsString(mount))
		return NULL;
	memset(&m, 0, sizeof m);
	if (mount_spec_parse_into(&m, mount->valuestring, NULL) == 0 &&
	    m.target != NULL && *m.target != '\0') {
		target = m.target;
		m.target = NULL;
	}
	mount_spec_clear(&m);
	return target;
}
