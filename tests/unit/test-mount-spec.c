/* test-mount-spec.c - mounts as Docker API Mount objects. */
#include <stdlib.h>
#include <string.h>

#include "mount-spec.h"
#include "test.h"

/* Mount m as compact JSON, or "ERROR: cause" when it is NULL; frees both. */
static char *
mount_text(cJSON *m, char *cause)
{
	char *out;

	if (m == NULL) {
		out = malloc(strlen(cause) + 8);
		strcpy(out, "ERROR: ");
		strcat(out, cause);
		free(cause);
		return out;
	}
	out = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	return out;
}

/* The Mount object for a --mount string (compact JSON), or "ERROR: cause". */
static char *
mount_str(const char *s)
{
	char *cause = NULL;
	cJSON *m = mount_spec_parse(s, &cause);

	return mount_text(m, cause);
}

/* The same through mount_spec_to_api for a JSON value (string or object). */
static char *
mount_json(const char *json)
{
	cJSON *v = cJSON_Parse(json), *m;
	char *cause = NULL;

	if (v == NULL)
		return strdup("BAD TEST JSON");
	m = mount_spec_to_api(v, &cause);
	cJSON_Delete(v);
	return mount_text(m, cause);
}

/* fn(s) (mount_str or mount_json) is want. */
#define CHECK_MOUNT_BY(fn, s, want) \
	do { \
		char *got_ = fn(s); \
		int ok_ = strcmp(got_, (want)) == 0; \
		if (!ok_) { \
			fprintf(stderr, "  %s:%d: mount %s\n    got  %s\n    want %s\n", \
			    __FILE__, __LINE__, s, got_, want); \
			free(got_); \
			TEST_FAIL("mount differs"); \
		} \
		free(got_); \
	} while (0)
#define CHECK_MOUNT(s, want) CHECK_MOUNT_BY(mount_str, s, want)
#define CHECK_JSON(j, want) CHECK_MOUNT_BY(mount_json, j, want)

TEST(bind_basic)
{
	CHECK_MOUNT("type=bind,source=/a,target=/b",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\"}");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,readonly",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\",\"ReadOnly\":true}");
	CHECK_MOUNT("destination=/b,source=/a,type=bind,ro=true",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\",\"ReadOnly\":true}");
}

TEST(readonly_values)
{
	CHECK_MOUNT("type=bind,src=/a,dst=/b,ro=1",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\",\"ReadOnly\":true}");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,readonly=false",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\"}");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,ro=0",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\"}");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,ro=yes",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,ro=yes\": invalid value \"yes\" for "
	    "\"ro\" (true, false, 1 or 0)");
}

TEST(keys_are_case_insensitive_type_lowercased)
{
	CHECK_MOUNT("TYPE=BIND,Source=/a,Target=/b",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\"}");
}

TEST(default_type_is_volume)
{
	CHECK_MOUNT("source=myvol,target=/data",
	    "{\"Type\":\"volume\",\"Source\":\"myvol\",\"Target\":\"/data\"}");
	CHECK_MOUNT("target=/data", "{\"Type\":\"volume\",\"Target\":\"/data\"}");
}

TEST(consistency_ignored)
{
	CHECK_MOUNT("type=bind,source=/a,target=/b,consistency=cached",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\"}");
}

TEST(bind_options)
{
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-propagation=RSHARED",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\","
	    "\"BindOptions\":{\"Propagation\":\"rshared\"}}");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-recursive=disabled",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\","
	    "\"BindOptions\":{\"NonRecursive\":true}}");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-recursive=enabled",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\",\"BindOptions\":{}}");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-recursive=writable,ro",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\",\"ReadOnly\":true,"
	    "\"BindOptions\":{\"ReadOnlyNonRecursive\":true}}");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-recursive=writable",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,bind-recursive=writable\": option "
	    "'bind-recursive=writable' requires 'readonly' to be specified in "
	    "conjunction");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-recursive=readonly,ro",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,bind-recursive=readonly,ro\": option "
	    "'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be "
	    "specified in conjunction");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-recursive=readonly,ro,"
		    "bind-propagation=rprivate",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,bind-recursive=readonly,ro,"
	    "bind-propagation=rprivate\": option 'bind-recursive=readonly' requires "
	    "Docker "
	    "API 1.44 (rdev uses 1.41)");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-recursive=maybe",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,bind-recursive=maybe\": invalid "
	    "value "
	    "\"maybe\" for \"bind-recursive\" (enabled, disabled, writable or readonly)");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-nonrecursive",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,bind-nonrecursive\": "
	    "bind-nonrecursive "
	    "is deprecated, use bind-recursive=disabled instead");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,bind-create-src",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,bind-create-src\": "
	    "\"bind-create-src\" "
	    "is not supported by rdev (create the source directory first, e.g. in "
	    "initializeCommand)");
}

TEST(volume_options)
{
	CHECK_MOUNT("type=volume,src=v,dst=/d,volume-nocopy",
	    "{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/d\","
	    "\"VolumeOptions\":{\"NoCopy\":true,\"DriverConfig\":{}}}");
	CHECK_MOUNT("type=volume,src=v,dst=/d,volume-nocopy=false",
	    "{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/"
	    "d\",\"VolumeOptions\":{\"DriverConfig\":{}}}");
	CHECK_MOUNT("type=volume,src=v,dst=/d,volume-driver=local,volume-opt=type=nfs,"
		    "volume-opt=o=addr=1.2.3.4,volume-label=a=b,volume-label=c",
	    "{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/d\",\"VolumeOptions\":{"
	    "\"Labels\":{\"a\":\"b\",\"c\":\"\"},\"DriverConfig\":{\"Name\":\"local\","
	    "\"Options\":{\"type\":\"nfs\",\"o\":\"addr=1.2.3.4\"}}}}");
	/* A later value for the same option key replaces the earlier one. */
	CHECK_MOUNT("type=volume,src=v,dst=/d,volume-opt=a=1,volume-opt=a=2",
	    "{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/d\",\"VolumeOptions\":{"
	    "\"DriverConfig\":{\"Options\":{\"a\":\"2\"}}}}");
	CHECK_MOUNT("type=volume,src=v,dst=/d,volume-subpath=sub/dir",
	    "{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/d\",\"VolumeOptions\":{"
	    "\"Subpath\":\"sub/dir\",\"DriverConfig\":{}}}");
}

TEST(tmpfs_options)
{
	CHECK_MOUNT("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770",
	    "{\"Type\":\"tmpfs\",\"Target\":\"/"
	    "t\",\"TmpfsOptions\":{\"SizeBytes\":67108864,"
	    "\"Mode\":1016}}");
	CHECK_MOUNT("type=tmpfs,target=/t,tmpfs-size=1.5k",
	    "{\"Type\":\"tmpfs\",\"Target\":\"/"
	    "t\",\"TmpfsOptions\":{\"SizeBytes\":1536}}");
	CHECK_MOUNT("type=tmpfs,target=/t,tmpfs-size=12x",
	    "ERROR: mount \"type=tmpfs,target=/t,tmpfs-size=12x\": invalid value for "
	    "tmpfs-size: 12x");
	CHECK_MOUNT("type=tmpfs,target=/t,tmpfs-mode=0789",
	    "ERROR: mount \"type=tmpfs,target=/t,tmpfs-mode=0789\": invalid value for "
	    "tmpfs-mode: 0789");
	CHECK_MOUNT("type=tmpfs,src=/x,target=/t",
	    "ERROR: mount \"type=tmpfs,src=/x,target=/t\": a tmpfs mount takes no "
	    "source");
}

TEST(mixing_options)
{
	CHECK_MOUNT("type=volume,src=v,dst=/d,bind-propagation=shared",
	    "ERROR: mount \"type=volume,src=v,dst=/d,bind-propagation=shared\": cannot "
	    "mix "
	    "'bind-*' options with mount type 'volume'");
	CHECK_MOUNT("type=bind,src=/a,dst=/d,volume-nocopy",
	    "ERROR: mount \"type=bind,src=/a,dst=/d,volume-nocopy\": cannot mix "
	    "'volume-*' "
	    "options with mount type 'bind'");
	CHECK_MOUNT("type=bind,src=/a,dst=/d,tmpfs-size=1m",
	    "ERROR: mount \"type=bind,src=/a,dst=/d,tmpfs-size=1m\": cannot mix "
	    "'tmpfs-*' "
	    "options with mount type 'bind'");
}

TEST(quoted_fields)
{
	CHECK_MOUNT("type=bind,\"source=/a,b\",\"target=/c,d\"",
	    "{\"Type\":\"bind\",\"Source\":\"/a,b\",\"Target\":\"/c,d\"}");
	CHECK_MOUNT("type=bind,\"source=/say \"\"hi\"\"\",target=/c",
	    "{\"Type\":\"bind\",\"Source\":\"/say \\\"hi\\\"\",\"Target\":\"/c\"}");
	/* As in Go's encoding/csv: quotes only around whole fields. */
	CHECK_MOUNT("type=bind,source=\"/a\",target=/c",
	    "ERROR: mount \"type=bind,source=\"/a\",target=/c\": \" inside an unquoted "
	    "field (quote whole fields: \"source=/a,b\")");
	CHECK_MOUNT("type=bind,\"source=/a\"x,target=/c",
	    "ERROR: mount \"type=bind,\"source=/a\"x,target=/c\": text after the closing "
	    "\" "
	    "of a quoted field (quote whole fields: \"source=/a,b\")");
	CHECK_MOUNT("type=bind,\"source=/a",
	    "ERROR: mount \"type=bind,\"source=/a\": missing closing \" in quoted field");
}

TEST(whitespace)
{
	/* The whole string is trimmed; keys and values are not. */
	CHECK_MOUNT("  type=bind,src=/a,dst=/b \n",
	    "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\"}");
	CHECK_MOUNT("type=bind, src=/a,dst=/b",
	    "ERROR: mount \"type=bind, src=/a,dst=/b\": key \" src\" has spaces around "
	    "it");
	CHECK_MOUNT("type=bind,src= /a,dst=/b",
	    "ERROR: mount \"type=bind,src= /a,dst=/b\": value of \"src\" has spaces "
	    "around it");
	CHECK_MOUNT("type=bind,src=/a\n,dst=/b",
	    "ERROR: mount \"type=bind,src=/a\n,dst=/b\": line break in mount string");
	CHECK_MOUNT("   ", "ERROR: mount \"   \": value is empty");
}

TEST(field_errors)
{
	CHECK_MOUNT("type=bind,src=/a,dst=/b,foo=1",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,foo=1\": unknown key \"foo\"");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,foo",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,foo\": unknown key \"foo\"");
	CHECK_MOUNT("type=bind,src,dst=/b",
	    "ERROR: mount \"type=bind,src,dst=/b\": \"src\" needs a value (src=...)");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,\": empty field (expected "
	    "key=value)");
	CHECK_MOUNT("type=,src=/a,dst=/b",
	    "ERROR: mount \"type=,src=/a,dst=/b\": empty value for \"type\"");
	CHECK_MOUNT("type=npipe,src=/a,dst=/b",
	    "ERROR: mount \"type=npipe,src=/a,dst=/b\": unknown type \"npipe\" (bind, "
	    "volume or tmpfs)");
	CHECK_MOUNT("type=bind,src=/a,dst=/b,image-subpath=x",
	    "ERROR: mount \"type=bind,src=/a,dst=/b,image-subpath=x\": \"image-subpath\" "
	    "is "
	    "not supported by rdev");
}

TEST(required_fields)
{
	CHECK_MOUNT("type=bind,source=/a",
	    "ERROR: mount \"type=bind,source=/a\": target is required");
	CHECK_MOUNT("type=bind,target=/a",
	    "ERROR: mount \"type=bind,target=/a\": source is required for a bind mount");
}

TEST(relative_source_refused)
{
	CHECK_MOUNT("type=bind,source=./data,target=/d",
	    "ERROR: mount \"type=bind,source=./data,target=/d\": relative source "
	    "\"./data\" "
	    "is not supported (use an absolute path, e.g. ${localWorkspaceFolder}/...)");
	CHECK_JSON("{\"type\":\"bind\",\"source\":\"../x\",\"target\":\"/d\"}",
	    "ERROR: mount {\"type\":\"bind\",\"source\":\"../x\",\"target\":\"/d\"}: "
	    "relative "
	    "source \"../x\" is not supported (use an absolute path, e.g. "
	    "${localWorkspaceFolder}/...)");
}

/* What the daemon would refuse at create, after the build: a target or a
 * bind's source that is not absolute ("~" is not a shell's). A volume's
 * source is a name. */
TEST(relative_paths_refused)
{
	CHECK_MOUNT("type=bind,source=data,target=/d",
	    "ERROR: mount \"type=bind,source=data,target=/d\": source \"data\" of a "
	    "bind mount is not an absolute path (use e.g. ${localWorkspaceFolder}/...)");
	CHECK_JSON("{\"type\":\"bind\",\"source\":\"~/cache\",\"target\":\"/c\"}",
	    "ERROR: mount {\"type\":\"bind\",\"source\":\"~/cache\",\"target\":"
	    "\"/c\"}: source \"~/cache\" of a bind mount is not an absolute path (~ "
	    "is not expanded: use ${localEnv:HOME}/...)");
	CHECK_MOUNT("type=volume,source=v,target=cache",
	    "ERROR: mount \"type=volume,source=v,target=cache\": target \"cache\" is "
	    "not an absolute path");
	CHECK_JSON("{\"type\":\"tmpfs\",\"target\":\"t\"}",
	    "ERROR: mount {\"type\":\"tmpfs\",\"target\":\"t\"}: target \"t\" is not "
	    "an absolute path");
	CHECK_MOUNT("type=volume,source=v,target=/cache",
	    "{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/cache\"}");
}

TEST(later_keys_win)
{
	CHECK_MOUNT("type=volume,type=bind,src=/a,src=/c,dst=/b,target=/d",
	    "{\"Type\":\"bind\",\"Source\":\"/c\",\"Target\":\"/d\"}");
}

TEST(object_form)
{
	CHECK_JSON("{\"type\":\"bind\",\"source\":\"/a,b\",\"target\":\"/c\"}",
	    "{\"Type\":\"bind\",\"Source\":\"/a,b\",\"Target\":\"/c\"}");
	CHECK_JSON("{\"type\":\"Volume\",\"source\":\"cache\",\"target\":\"/c\","
		   "\"external\":true}",
	    "{\"Type\":\"volume\",\"Source\":\"cache\",\"Target\":\"/c\"}");
	CHECK_JSON("{\"type\":\"volume\",\"target\":\"/c\"}",
	    "{\"Type\":\"volume\",\"Target\":\"/c\"}");
	CHECK_JSON("{\"type\":\"tmpfs\",\"target\":\"/t\"}",
	    "{\"Type\":\"tmpfs\",\"Target\":\"/t\"}");
	CHECK_JSON("{\"type\":\"bind\",\"source\":\"/a\"}",
	    "ERROR: mount {\"type\":\"bind\",\"source\":\"/a\"}: target is required");
	CHECK_JSON("{\"source\":\"/a\",\"target\":\"/b\"}",
	    "ERROR: mount {\"source\":\"/a\",\"target\":\"/b\"}: type is required");
	CHECK_JSON("{\"type\":\"bind\",\"source\":1,\"target\":\"/b\"}",
	    "ERROR: mount {\"type\":\"bind\",\"source\":1,\"target\":\"/b\"}: \"source\" "
	    "is "
	    "not a string");
	CHECK_JSON("{\"type\":\"bind\",\"target\":\"/b\"}",
	    "ERROR: mount {\"type\":\"bind\",\"target\":\"/b\"}: source is required for "
	    "a "
	    "bind mount");
	CHECK_JSON("42", "ERROR: mount is neither a string nor an object");
}

TEST(string_through_to_api)
{
	CHECK_JSON("\"type=bind,source=/w,target=/workspaces/w\"",
	    "{\"Type\":\"bind\",\"Source\":\"/w\",\"Target\":\"/workspaces/w\"}");
}

TEST(target_of_mounts)
{
	const char *cases[][2] = {
		{ "\"type=bind,source=/a,target=/b\"", "/b" },
		{ "\"type=bind,src=/a,dst=/c\"", "/c" },
		{ "\"destination=/d,type=volume\"", "/d" },
		{ "\"type=bind,\\\"target=/x,y\\\"\"", "/x,y" },
		{ "{\"type\":\"volume\",\"source\":\"v\",\"target\":\"/t\"}", "/t" },
	};
	const char *none[] = { "\"type=bind,source=/a\"", "\"foo=1,target=/b\"", "{}",
		"{\"target\":1}", "[]", "\"\"" };
	size_t i;
	cJSON *v;
	char *t;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = cJSON_Parse(cases[i][0]);
		ASSERT_NOT_NULL(v);
		t = mount_spec_target(v);
		cJSON_Delete(v);
		if (t == NULL || strcmp(t, cases[i][1]) != 0) {
			fprintf(stderr, "  %s -> %s\n", cases[i][0], t ? t : "(null)");
			free(t);
			TEST_FAIL("wrong target");
		}
		free(t);
	}
	for (i = 0; i < sizeof none / sizeof none[0]; i++) {
		v = cJSON_Parse(none[i]);
		ASSERT_NOT_NULL(v);
		t = mount_spec_target(v);
		cJSON_Delete(v);
		if (t != NULL) {
			fprintf(stderr, "  %s -> %s\n", none[i], t);
			free(t);
			TEST_FAIL("want no target");
		}
	}
	ASSERT_NULL(mount_spec_target(NULL));
}

TEST(parse_bytes)
{
	const struct {
		const char *s;
		long long want;
	} ok[] = {
		{ "0", 0 },
		{ "512", 512 },
		{ "512b", 512 },
		{ "512B", 512 },
		{ "1k", 1024 },
		{ "1K", 1024 },
		{ "1kb", 1024 },
		{ "1KiB", 1024 },
		{ "64m", 67108864 },
		{ "1.5g", 1610612736 },
		{ "2 GiB", 2147483648LL },
		{ "1t", 1099511627776LL },
		{ "1p", 1125899906842624LL },
		{ "1.9", 1 },
		{ ".5k", 512 },
		{ "1 ", 1 },
	};
	const char *bad[] = { "", "m", "-1m", "12x", "1kk", "1kbb", "1kib2", "1..2m",
		"abc", "1e", "9000p", "0x10" };
	int64_t n;
	char *cause;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cause = NULL;
		if (mount_spec_parse_bytes(ok[i].s, &n, &cause) != 0) {
			fprintf(stderr, "  %s: %s\n", ok[i].s, cause);
			free(cause);
			TEST_FAIL("parse failed");
		}
		if (n != ok[i].want)
			TEST_FAIL(
			    "%s: got %lld want %lld", ok[i].s, (long long)n, ok[i].want);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (mount_spec_parse_bytes(bad[i], &n, &cause) == 0)
			TEST_FAIL("\"%s\" parsed as %lld", bad[i], (long long)n);
		ASSERT_NOT_NULL(cause);
		free(cause);
	}
	cause = NULL;
	ASSERT_INT_EQ(mount_spec_parse_bytes("12x", &n, &cause), -1);
	ASSERT_STR_EQ(cause, "invalid suffix: 'x'");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(mount_spec_parse_bytes("abc", &n, &cause), -1);
	ASSERT_STR_EQ(cause, "invalid size: 'abc'");
	free(cause);
}
