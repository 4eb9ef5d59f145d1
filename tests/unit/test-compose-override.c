/* test-compose-override.c - the Compose override file, as JSON
 * (agent/compose-override.c). */
#include "test.h"
#include "test-json.h"

#include "compose-override.h"
#include "compose-yaml.h"
#include "xmalloc.h"

static char *
generate(const char *merged, const char *service, const char *image_config,
    const char *labels, const char *extra_mount, int override_command)
{
	struct compose_override_input in = { 0 };
	cJSON *m = test_json(merged), *s = service ? test_json(service) : NULL;
	cJSON *ic = image_config ? test_json(image_config) : NULL,
	      *l = labels ? test_json(labels) : NULL;
	cJSON *extra = NULL;
	char *cause = NULL, *out;

	in.service = "app";
	in.merged = m;
	in.service_config = s;
	in.image_config = ic;
	in.labels = l;
	/* (a --mount, in the string form mounts also take) */
	if (extra_mount != NULL) {
		extra = cJSON_CreateArray();
		cJSON_AddItemToArray(extra, cJSON_CreateString(extra_mount));
		in.extra_mounts = extra;
	}
	in.override_command = override_command;
	out = compose_override_generate(&in, &cause);
	cJSON_Delete(m);
	cJSON_Delete(s);
	cJSON_Delete(ic);
	cJSON_Delete(l);
	cJSON_Delete(extra);
	if (out == NULL) {
		fprintf(stderr, "  generate: %s\n", cause);
		free(cause);
	}
	return out;
}

/* The override text as compact JSON, after checking that it is JSON, that
 * YAML (libyaml, as Compose's readers) reads the same tree, and that it has
 * no tab (YAML does not indent with tabs). New string. */
static char *
compact(const char *text)
{
	cJSON *j = cJSON_Parse(text), *y;
	char *cause = NULL, *out;

	if (j == NULL)
		TEST_FAIL("not JSON:\n%s", text);
	y = compose_yaml_parse("override", text, strlen(text), &cause);
	if (y == NULL)
		TEST_FAIL("not YAML: %s\n%s", cause, text);
	if (!cJSON_Compare(j, y, 1))
		TEST_FAIL("YAML reads another tree:\n%s", text);
	ASSERT_TRUE(strchr(text, '\t') == NULL);
	out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	cJSON_Delete(y);
	return out;
}

/* generate() made compact(); the test fails when generate() does. */
static char *
generate_compact(const char *merged, const char *service, const char *image_config,
    const char *labels, const char *extra_mount, int override_command)
{
	char *text = generate(
	    merged, service, image_config, labels, extra_mount, override_command);
	char *out;

	ASSERT_NOT_NULL(text);
	out = compact(text);
	free(text);
	return out;
}

TEST(dollar_doubles_each_dollar)
{
	char *s = compose_override_dollar("a$b$$ ${X} $");

	ASSERT_STR_EQ(s, "a$$b$$$$ $${X} $$");
	free(s);
}

TEST(override_full_keeps_service_command)
{
	char *got = generate_compact(
	    "{\"init\":true,\"privileged\":true,\"capAdd\":[\"SYS_PTRACE\"],"
	    "\"securityOpt\":[\"seccomp=unconfined\"],\"entrypoints\":[\"/init.sh $X\"],"
	    "\"containerUser\":\"dev\",\"containerEnv\":{\"A\":\"1\",\"B\":2}}",
	    "{\"command\":[\"sleep\",\"infinity\"]}",
	    "{\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"Cmd\":[\"bash\"]}",
	    "{\"devcontainer.local_folder\":\"/w\"}", NULL, 0);

	ASSERT_STR_EQ(got,
	    "{\"services\":{\"app\":{"
	    "\"entrypoint\":[\"/bin/sh\",\"-c\",\"echo Container started\\ntrap "
	    "\\\"exit 0\\\" 15\\n/init.sh $$X\\nexec \\\"$$@\\\"\\nwhile sleep 1 & "
	    "wait $$!; do :; done\",\"-\",\"/docker-entrypoint.sh\"],"
	    "\"init\":true,\"user\":\"dev\",\"environment\":[\"A=1\",\"B=2\"],"
	    "\"privileged\":true,\"cap_add\":[\"SYS_PTRACE\"],"
	    "\"security_opt\":[\"seccomp=unconfined\"],"
	    "\"labels\":[\"devcontainer.local_folder=/w\"]}}}");
	free(got);
}

TEST(override_indents_with_spaces)
{
	char *got = generate("{}", "{\"command\":\"x\"}", NULL, NULL, NULL, 0);

	ASSERT_NOT_NULL(got);
	ASSERT_TRUE(
	    strncmp(got, "{\n  \"services\": {\n    \"app\": {\n      \"entrypoint\": [",
		50) == 0);
	free(got);
}

TEST(override_command_true_clears_command_and_entrypoint_args)
{
	char *got =
	    generate_compact("{}", "{\"command\":\"run-me 1\",\"entrypoint\":\"/e.sh\"}",
		"{\"Entrypoint\":[\"/x\"],\"Cmd\":[\"y\"]}", NULL, NULL, 1);

	ASSERT_STR_CONTAINS(got, "done\",\"-\"],\"command\":[]}");
	ASSERT_TRUE(strstr(got, "/e.sh") == NULL);
	ASSERT_TRUE(strstr(got, "run-me") == NULL);
	free(got);
}

TEST(override_image_cmd_used_when_service_has_neither)
{
	char *got = generate_compact("{}", "{}",
	    "{\"Entrypoint\":[\"/ep\",\"$A\"],\"Cmd\":[\"echo\",\"$B\"]}", NULL, NULL, 0);

	ASSERT_STR_CONTAINS(
	    got, "\"-\",\"/ep\",\"$$A\"],\"command\":[\"echo\",\"$$B\"]}");
	free(got);
}

TEST(override_service_entrypoint_string_is_split_and_image_cmd_ignored)
{
	/* `compose config` has escaped '$' already: kept as is. */
	char *got = generate_compact("{}", "{\"entrypoint\":\"/e.sh 'a b' $$HOME\"}",
	    "{\"Entrypoint\":[\"/x\"],\"Cmd\":[\"y\"]}", NULL, NULL, 0);

	ASSERT_STR_CONTAINS(got, "\"-\",\"/e.sh\",\"a b\",\"$$HOME\"],\"command\":[]}");
	free(got);
}

TEST(override_env_values_are_escaped)
{
	char *got = generate_compact(
	    "{\"containerEnv\":{\"Q\":\"it's \\\"x\\\"\",\"D\":\"$HOME/${X}\","
	    "\"N\":\"a\\nb\",\"C\":\"k: v # c\",\"T\":\"- [a] {b} & *c !d |e >f %g "
	    "@h\"}}",
	    NULL, NULL, NULL, NULL, 0);

	ASSERT_STR_CONTAINS(got,
	    "\"environment\":[\"Q=it's \\\"x\\\"\",\"D=$$HOME/$${X}\",\"N=a\\nb\","
	    "\"C=k: v # c\",\"T=- [a] {b} & *c !d |e >f %g @h\"]");
	free(got);
}

/* What YAML would not take as it is comes as \u escapes; the rest (é, a
 * tab) as JSON writes it. */
TEST(override_escapes_what_yaml_rejects_or_folds)
{
	char *text = generate("{\"containerEnv\":{\"X\":\"t\\tdel\x7f nel\xc2\x85 "
			      "c1\xc2\x9f ls\xe2\x80\xa8 ps\xe2\x80\xa9 ff\xef\xbf\xbe"
			      "\xef\xbf\xbf \xc3\xa9 \xe2\x82\xac\"}}",
	    NULL, NULL, NULL, NULL, 0);
	char *got;

	ASSERT_NOT_NULL(text);
	ASSERT_STR_CONTAINS(text,
	    "\"X=t\\tdel\\u007f nel\\u0085 c1\\u009f ls\\u2028 ps\\u2029 "
	    "ff\\ufffe\\uffff \xc3\xa9 \xe2\x82\xac\"");
	got = compact(text);
	ASSERT_STR_CONTAINS(got,
	    "X=t\\tdel\x7f nel\xc2\x85 c1\xc2\x9f ls\xe2\x80\xa8 ps\xe2\x80\xa9 "
	    "ff\xef\xbf\xbe\xef\xbf\xbf \xc3\xa9 \xe2\x82\xac\"");
	free(got);
	free(text);
}

TEST(override_labels_escape_metadata_json)
{
	char *got = generate_compact("{}", NULL, NULL,
	    "{\"devcontainer.metadata\":\"[{\\\"remoteEnv\\\":{\\\"P\\\":\\\"${"
	    "containerEnv:PATH}\\\"}}]\"}",
	    NULL, 0);

	ASSERT_STR_CONTAINS(got,
	    "\"labels\":[\"devcontainer.metadata=[{\\\"remoteEnv\\\":"
	    "{\\\"P\\\":\\\"$${containerEnv:PATH}\\\"}}]\"]");
	free(got);
}

TEST(override_volumes_and_named_volumes)
{
	char *got =
	    generate_compact("{\"mounts\":[\"source=cache,target=/cache,type=volume\","
			     "\"type=bind,source=/etc/x,target=/x,readonly\","
			     "{\"type\":\"volume\",\"source\":\"ext\",\"target\":\"/"
			     "e\",\"external\":true},"
			     "\"type=tmpfs,target=/tmp/t\","
			     "\"type=volume,source=cache,target=/cache2\"]}",
		NULL, NULL, NULL,
		"type=bind,source=/home/u/my $work "
		"\"q\",target=/workspace,consistency=cached",
		0);

	ASSERT_STR_CONTAINS(got,
	    "\"volumes\":[\"cache:/cache\",\"/etc/x:/x:ro\",\"ext:/e\",\"/tmp/t\","
	    "\"cache:/cache2\",\"/home/u/my $$work \\\"q\\\":/workspace\"]}},"
	    "\"volumes\":{\"cache\":{},\"ext\":{\"external\":true}}}");
	free(got);
}

TEST(override_mount_without_target_is_an_error)
{
	struct compose_override_input in = { 0 };
	cJSON *m =
	    test_json("{\"mounts\":[\"type=bind,source=/a,target=/b\",\"source=/x\"]}");
	char *cause = NULL;

	in.service = "app";
	in.merged = m;
	ASSERT_NULL(compose_override_generate(&in, &cause));
	ASSERT_STR_CONTAINS(cause, "mounts[1] source=/x: no target");
	free(cause);
	cJSON_Delete(m);
}

/* A mount string as docker reads it (mount-string.h): whole fields quoted,
 * a comma inside one, keys in any case, external= of a string. */
TEST(override_mount_string_fields)
{
	char *got =
	    generate_compact("{\"mounts\":[\"\\\"source=/a,b\\\",target=/c,RO\","
			     "\"Type=Volume,SRC=v1,dst=/v,external=true\","
			     "\"type=volume,source=v2,destination=/w,external=false,"
			     "volume-nocopy,consistency=cached\","
			     "\"type=volume,source=v3,target=/x,source=v4\"]}",
		NULL, NULL, NULL, NULL, 0);

	ASSERT_STR_CONTAINS(got,
	    "\"volumes\":[\"/a,b:/c:ro\",\"v1:/v\",\"v2:/w\",\"v4:/x\"]}},"
	    "\"volumes\":{\"v1\":{\"external\":true},\"v2\":{},\"v4\":{}}}");
	free(got);
}

/* A mount string docker refuses for its syntax is refused, naming why; it
 * names no volume for down either. */
TEST(override_mount_string_hostile)
{
	static const struct {
		const char *mount, *why;
	} cases[] = {
		{ "\"source=/a,target=/b", "missing closing \" in quoted field" },
		{ "\"source=/a\"x,target=/b", "text after the closing \"" },
		{ "source=/a,target=/b\nsource=/c", "line break in mount string" },
		{ "  ", "value is empty" },
		{ "source=/a, target=/b", "key \" target\" has spaces around it" },
		{ ",,,,", "no target" },
		{ "target", "no target" },
	};
	struct compose_override_input in = { 0 };
	char *cause, *want;
	cJSON *m, *mounts;

	in.service = "app";
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		m = cJSON_CreateObject();
		mounts = cJSON_AddArrayToObject(m, "mounts");
		cJSON_AddItemToArray(mounts, cJSON_CreateString(cases[i].mount));
		in.merged = m;
		cause = NULL;
		ASSERT_NULL(compose_override_generate(&in, &cause));
		want = xasprintf("mounts[0] %s: ", cases[i].mount);
		ASSERT_TRUE(strncmp(cause, want, strlen(want)) == 0);
		ASSERT_STR_CONTAINS(cause, cases[i].why);
		ASSERT_NULL(
		    compose_override_volume_name(cJSON_GetArrayItem(mounts, 0), "proj"));
		free(want);
		free(cause);
		cJSON_Delete(m);
	}
}

/* As the reference reads a mount string for Compose (its parseMount()
 * splits on commas): an empty value ("source=${localEnv:UNSET}") is no
 * source, an anonymous volume; a bare '"' is a character of the value. These
 * are checked before the build as well. */
TEST(override_mount_string_lax)
{
	char *got = generate_compact("{\"mounts\":[\"source=,target=/data,type=volume\","
				     "\"source=/p \\\"q\\\",target=/x,type=bind\","
				     "\"type=volume,source=v,target=/v,external=\"]}",
	    NULL, NULL, NULL, NULL, 0);
	cJSON *m = test_json("{\"mounts\":[\"source=,target=/data,type=volume\","
			     "\"source=/p \\\"q\\\",target=/x\"],"
			     "\"bad\":[\"source=/a\",\"source=/b,target=/c\"]}");
	char *cause = NULL;

	ASSERT_STR_CONTAINS(got,
	    "\"volumes\":[\"/data\",\"/p \\\"q\\\":/x\",\"v:/v\"]}},"
	    "\"volumes\":{\"v\":{}}}");
	free(got);
	ASSERT_INT_EQ(compose_override_mounts_check(
			  cJSON_GetObjectItemCaseSensitive(m, "mounts"), NULL, &cause),
	    0);
	ASSERT_INT_EQ(
	    compose_override_mounts_check(cJSON_GetObjectItemCaseSensitive(m, "mounts"),
		cJSON_GetObjectItemCaseSensitive(m, "bad"), &cause),
	    -1);
	ASSERT_STR_EQ(cause, "mounts[2] source=/a: no target");
	free(cause);
	cJSON_Delete(m);
}

/* Down's names for the volumes the override declares. */
TEST(override_volume_name)
{
	static const struct {
		const char *mount, *want;
	} cases[] = {
		{ "\"type=volume\",\"source=a,b\",target=/x", "p_a,b" },
		{ "TYPE=VOLUME,source=c,target=/x,external=true", "c" },
		{ "{\"type\":\"volume\",\"source\":\"d\",\"target\":\"/x\","
		  "\"external\":true}",
		    "d" },
		{ "type=bind,source=/e,target=/x", NULL },
		{ "type=volume,target=/x", NULL },
	};
	cJSON *m;
	char *got;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		m = cases[i].mount[0] == '{' ? test_json(cases[i].mount)
					     : cJSON_CreateString(cases[i].mount);
		got = compose_override_volume_name(m, "p");
		if (cases[i].want == NULL)
			ASSERT_NULL(got);
		else
			ASSERT_STR_EQ(got, cases[i].want);
		free(got);
		cJSON_Delete(m);
	}
}

TEST(override_version_and_image)
{
	struct compose_override_input in = { 0 };
	cJSON *m = test_json("{}");
	char *cause = NULL, *text, *got;

	in.service = "my app";
	in.merged = m;
	in.version = "3.8";
	in.image = "rdev-uid-x:1";
	text = compose_override_generate(&in, &cause);
	ASSERT_NOT_NULL(text);
	got = compact(text);
	ASSERT_TRUE(strncmp(got,
			"{\"version\":\"3.8\",\"services\":{\"my app\":{"
			"\"image\":\"rdev-uid-x:1\",\"entrypoint\":[",
			73) == 0);
	free(got);
	free(text);
	cJSON_Delete(m);
}

/* Every other service of the project gets the owner labels (only them), so
 * that each container of it says whose it is (agent/owner.h). */
TEST(override_owner_labels_on_every_service)
{
	struct compose_override_input in = { 0 };
	cJSON *m = test_json("{}"),
	      *l = test_json("{\"dev.rdev.owner_uid\":\"1001\","
			     "\"dev.rdev.owner_name\":\"alice\","
			     "\"dev.rdev.owner_client\":\"a@m\","
			     "\"devcontainer.local_folder\":\"/w\"}");
	cJSON *svcs = test_json("{\"app\":{},\"db\":{\"image\":\"pg\"},\"c$\":{}}");
	char *cause = NULL, *text, *got;

	in.service = "app";
	in.merged = m;
	in.labels = l;
	in.services = svcs;
	text = compose_override_generate(&in, &cause);
	ASSERT_NOT_NULL(text);
	got = compact(text);
	ASSERT_STR_CONTAINS(got,
	    "\"db\":{\"labels\":[\"dev.rdev.owner_uid=1001\","
	    "\"dev.rdev.owner_name=alice\"]},"
	    "\"c$\":{\"labels\":[\"dev.rdev.owner_uid=1001\","
	    "\"dev.rdev.owner_name=alice\"]}}");
	/* (the dev container's own labels once: app is not written again) */
	ASSERT_TRUE(strstr(strstr(got, "devcontainer.local_folder=/w") + 1,
			"devcontainer.local_folder") == NULL);
	free(got);
	free(text);
	cJSON_Delete(m);
	cJSON_Delete(l);
	cJSON_Delete(svcs);
}

TEST(split_words)
{
	cJSON *w = compose_override_split_words(
	    "  sh -c 'echo \"a b\"' \"x\\\"y\" a\\ b $$HOME ");
	char *s = cJSON_PrintUnformatted(w);

	ASSERT_STR_EQ(
	    s, "[\"sh\",\"-c\",\"echo \\\"a b\\\"\",\"x\\\"y\",\"a b\",\"$$HOME\"]");
	free(s);
	cJSON_Delete(w);
}
