/* test-config-merge.c - image metadata and the spec's merge table.
 *
 * One test per row of the spec's "Merge Logic" table, plus label parsing
 * and building. Expected outputs marked "reference" were produced by
 * @devcontainers/cli 0.89.0 (`read-configuration
 * --include-merged-configuration`, and the LABEL line `build` writes) for the
 * same input, with configFilePath removed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config-merge.h"
#include "test.h"

static char got[65536];

/* Parse test JSON; a typo in a test is a broken test, not a failure. */
static cJSON *
parse(const char *json)
{
	cJSON *v;

	if (json == NULL)
		return NULL;
	v = cJSON_Parse(json);
	if (v == NULL) {
		fprintf(stderr, "bad JSON in test: %s\n", json);
		abort();
	}
	return v;
}

/* Copy a printed tree into got and free it. */
static const char *
keep(cJSON *v)
{
	char *s;

	if (v == NULL) {
		snprintf(got, sizeof got, "(absent)");
		return got;
	}
	s = cJSON_PrintUnformatted(v);
	snprintf(got, sizeof got, "%s", s);
	free(s);
	return got;
}

/* config_merge(metadata, config), printed. metadata may be NULL. */
static const char *
merge(const char *metadata, const char *config)
{
	cJSON *m = parse(metadata), *c = parse(config), *out;

	out = config_merge(m, c);
	keep(out);
	cJSON_Delete(out);
	cJSON_Delete(m);
	cJSON_Delete(c);
	return got;
}

/* One property of config_merge(metadata, config), printed, or "(absent)". */
static const char *
merged(const char *metadata, const char *config, const char *key)
{
	cJSON *m = parse(metadata), *c = parse(config), *out;

	out = config_merge(m, c);
	keep(cJSON_GetObjectItemCaseSensitive(out, key));
	cJSON_Delete(out);
	cJSON_Delete(m);
	cJSON_Delete(c);
	return got;
}

/* config_metadata_label(metadata, config). */
static const char *
label(const char *metadata, const char *config)
{
	cJSON *m = parse(metadata), *c = parse(config);
	char *s;

	s = config_metadata_label(m, c);
	snprintf(got, sizeof got, "%s", s);
	free(s);
	cJSON_Delete(m);
	cJSON_Delete(c);
	return got;
}

/* config_metadata_parse(value), printed, or "error: CAUSE". */
static const char *
parse_label(const char *value)
{
	char *cause = NULL;
	cJSON *v;

	v = config_metadata_parse(value, &cause);
	if (v == NULL) {
		snprintf(got, sizeof got, "error: %s", cause);
		free(cause);
		return got;
	}
	keep(v);
	cJSON_Delete(v);
	return got;
}

/* --- The merge table, row by row. --- */

TEST(merge_id_not_merged)
{
	ASSERT_STR_EQ(merged("[{\"id\":\"ghcr.io/x/node:1\",\"init\":true}]",
			  "{\"image\":\"i\"}", "id"),
	    "(absent)");
	ASSERT_STR_EQ(merged("[{\"id\":\"ghcr.io/x/node:1\",\"init\":true}]",
			  "{\"image\":\"i\"}", "init"),
	    "true");
}

TEST(merge_init_any_true)
{
	ASSERT_STR_EQ(merged("[{\"init\":false},{\"init\":true}]",
			  "{\"image\":\"i\",\"init\":false}", "init"),
	    "true");
	ASSERT_STR_EQ(merged("[{\"init\":false}]", "{\"init\":false}", "init"), "false");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\",\"init\":true}", "init"), "true");
	/* Always present, false when nobody says. */
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "init"), "false");
}

TEST(merge_privileged_any_true)
{
	ASSERT_STR_EQ(merged("[{\"privileged\":true},{\"privileged\":false}]",
			  "{\"privileged\":false}", "privileged"),
	    "true");
	ASSERT_STR_EQ(
	    merged("[{\"privileged\":false}]", "{\"image\":\"i\"}", "privileged"),
	    "false");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "privileged"), "false");
}

TEST(merge_capadd_union)
{
	ASSERT_STR_EQ(merged("[{\"capAdd\":[\"SYS_PTRACE\",\"NET_ADMIN\"]},"
			     "{\"capAdd\":[\"NET_ADMIN\"]}]",
			  "{\"capAdd\":[\"SYS_PTRACE\",\"SYS_ADMIN\"]}", "capAdd"),
	    "[\"SYS_PTRACE\",\"NET_ADMIN\",\"SYS_ADMIN\"]");
	/* Nothing to add: no key, even if the config had an empty list. */
	ASSERT_STR_EQ(
	    merged(NULL, "{\"image\":\"i\",\"capAdd\":[]}", "capAdd"), "(absent)");
}

TEST(merge_securityopt_union)
{
	ASSERT_STR_EQ(merged("[{\"securityOpt\":[\"seccomp=unconfined\"]},"
			     "{\"securityOpt\":[\"apparmor=unconfined\","
			     "\"seccomp=unconfined\"]}]",
			  "{\"securityOpt\":[\"label=disable\",\"apparmor=unconfined\"]}",
			  "securityOpt"),
	    "[\"seccomp=unconfined\",\"apparmor=unconfined\","
	    "\"label=disable\"]");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "securityOpt"), "(absent)");
}

TEST(merge_entrypoint_collected)
{
	const char *md = "[{\"entrypoint\":\"/a.sh\"},{\"entrypoint\":\"\"},"
			 "{\"id\":\"f\",\"entrypoint\":\"/b.sh\"}]";

	ASSERT_STR_EQ(merged(md, "{\"entrypoint\":\"/c.sh\"}", "entrypoints"),
	    "[\"/a.sh\",\"/b.sh\"]");
	/* devcontainer.json's own entrypoint is not image metadata and the
	 * property is replaced by entrypoints. */
	ASSERT_STR_EQ(merged(md, "{\"entrypoint\":\"/c.sh\"}", "entrypoint"), "(absent)");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "entrypoints"), "(absent)");
}

TEST(merge_mounts_last_source_wins_per_target)
{
	/* /data: volume v1 then v2 (object); /y: src=/x then the config's
	 * bind (destination= alias); /c only once. Each survivor keeps the
	 * position of its last occurrence. */
	ASSERT_STR_EQ(
	    merged("[{\"mounts\":[\"source=v1,target=/data,"
		   "type=volume\",\"type=bind,src=/x,dst=/y\"]},{\"mounts\":"
		   "[{\"source\":\"v2\",\"target\":\"/data\",\"type\":\"volume\"}]}]",
		"{\"mounts\":[\"source=/h,destination=/y,type=bind\","
		"\"source=c,target=/c,type=volume\"]}",
		"mounts"),
	    "[{\"source\":\"v2\",\"target\":\"/data\",\"type\":\"volume\"},"
	    "\"source=/h,destination=/y,type=bind\","
	    "\"source=c,target=/c,type=volume\"]");
	ASSERT_STR_EQ(
	    merged(NULL, "{\"image\":\"i\",\"mounts\":[]}", "mounts"), "(absent)");
}

TEST(merge_mounts_keep_original_form)
{
	/* The reference's own test: strings stay strings, objects objects. */
	ASSERT_STR_EQ(
	    merged("[{\"mounts\":["
		   "\"source=source1,dst=target1,type=volume\","
		   "\"source=source2,target=target2,type=volume\","
		   "\"source=source3,destination=target3,type=volume\"]},"
		   "{\"mounts\":[{\"source\":\"source4\",\"target\":\"target1\","
		   "\"type\":\"volume\"}]},"
		   "{\"mounts\":[{\"source\":\"source5\",\"target\":\"target3\","
		   "\"type\":\"volume\"}]}]",
		"{\"image\":\"i\"}", "mounts"),
	    "[\"source=source2,target=target2,type=volume\","
	    "{\"source\":\"source4\",\"target\":\"target1\",\"type\":\"volume\"},"
	    "{\"source\":\"source5\",\"target\":\"target3\",\"type\":\"volume\"}]");
}

/* A lifecycle hook: falsy commands skipped, the rest in order (config
 * last), in their own forms; the singular key is gone. */
static void
check_hook(const char *hook, const char *hooks)
{
	char md[512], cfg[256], want[256];

	snprintf(md, sizeof md,
	    "[{\"%s\":\"a\"},{\"%s\":\"\"},"
	    "{\"id\":\"f\",\"%s\":[\"b\",\"c\"]}]",
	    hook, hook, hook);
	snprintf(cfg, sizeof cfg, "{\"image\":\"i\",\"%s\":{\"x\":\"d\"}}", hook);
	snprintf(want, sizeof want, "[\"a\",[\"b\",\"c\"],{\"x\":\"d\"}]");
	ASSERT_STR_EQ(merged(md, cfg, hooks), want);
	ASSERT_STR_EQ(merged(md, cfg, hook), "(absent)");
	/* Always present, empty when nobody has one. */
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", hooks), "[]");
}

TEST(merge_on_create_commands_collected)
{
	check_hook("onCreateCommand", "onCreateCommands");
}

TEST(merge_update_content_commands_collected)
{
	check_hook("updateContentCommand", "updateContentCommands");
}

TEST(merge_post_create_commands_collected)
{
	check_hook("postCreateCommand", "postCreateCommands");
}

TEST(merge_post_start_commands_collected)
{
	check_hook("postStartCommand", "postStartCommands");
}

TEST(merge_post_attach_commands_collected)
{
	check_hook("postAttachCommand", "postAttachCommands");
}

TEST(merge_lifecycle_commands_collected_in_order)
{
	/* Base image, two features, then devcontainer.json. */
	ASSERT_STR_EQ(merged("[{\"postCreateCommand\":\"base\"},"
			     "{\"id\":\"f1\",\"postCreateCommand\":\"f1\"},"
			     "{\"id\":\"f2\",\"postCreateCommand\":\"f2\"}]",
			  "{\"postCreateCommand\":\"mine\"}", "postCreateCommands"),
	    "[\"base\",\"f1\",\"f2\",\"mine\"]");
}

TEST(merge_lifecycle_forms_kept_distinct)
{
	/* reference: string, array and object forms are separate elements,
	 * never flattened or deduplicated; initializeCommand is not
	 * merged and stays as it is. */
	ASSERT_STR_EQ(merge("[{\"onCreateCommand\":\"a\",\"updateContentCommand\":[\"b\","
			    "\"c\"],\"postCreateCommand\":{\"p\":\"x\",\"q\":[\"y\","
			    "\"z\"]},\"postStartCommand\":\"s1\","
			    "\"postAttachCommand\":null}]",
			  "{\"image\":\"foo\",\"onCreateCommand\":[\"a\"],"
			  "\"updateContentCommand\":\"b c\","
			  "\"postCreateCommand\":{\"p\":\"x\"},"
			  "\"postStartCommand\":\"s1\","
			  "\"postAttachCommand\":{\"10\":\"x\",\"2\":\"y\"},"
			  "\"waitFor\":\"postCreateCommand\","
			  "\"initializeCommand\":\"echo init\"}"),
	    "{\"image\":\"foo\",\"waitFor\":\"postCreateCommand\","
	    "\"initializeCommand\":\"echo init\",\"init\":false,"
	    "\"privileged\":false,\"onCreateCommands\":[\"a\",[\"a\"]],"
	    "\"updateContentCommands\":[[\"b\",\"c\"],\"b c\"],"
	    "\"postCreateCommands\":[{\"p\":\"x\",\"q\":[\"y\",\"z\"]},"
	    "{\"p\":\"x\"}],\"postStartCommands\":[\"s1\",\"s1\"],"
	    "\"postAttachCommands\":[{\"2\":\"y\",\"10\":\"x\"}],"
	    "\"remoteEnv\":{},\"containerEnv\":{},\"portsAttributes\":{}}");
}

TEST(merge_wait_for_last_wins)
{
	ASSERT_STR_EQ(merged("[{\"waitFor\":\"postCreateCommand\"}]", "{\"image\":\"i\"}",
			  "waitFor"),
	    "\"postCreateCommand\"");
	ASSERT_STR_EQ(merged("[{\"waitFor\":\"postCreateCommand\"}]",
			  "{\"waitFor\":\"onCreateCommand\"}", "waitFor"),
	    "\"onCreateCommand\"");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "waitFor"), "(absent)");
}

TEST(merge_customizations)
{
	/* Merging is left to the tools: each tool gets the list of what
	 * every entry said, in order. */
	ASSERT_STR_EQ(
	    merged("[{\"customizations\":{\"vscode\":"
		   "{\"extensions\":[\"a\"]},\"codespaces\":{}}},"
		   "{\"customizations\":{\"vscode\":{\"extensions\":[\"b\"]}}}]",
		"{\"customizations\":{\"vscode\":{\"settings\":{\"x\":1}},"
		"\"jetbrains\":{\"p\":2}}}",
		"customizations"),
	    "{\"vscode\":[{\"extensions\":[\"a\"]},{\"extensions\":[\"b\"]},"
	    "{\"settings\":{\"x\":1}}],\"codespaces\":[{}],"
	    "\"jetbrains\":[{\"p\":2}]}");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "customizations"), "(absent)");
}

TEST(merge_container_user_last_wins)
{
	const char *md = "[{\"containerUser\":\"a\"},{\"containerUser\":\"b\"}]";

	ASSERT_STR_EQ(merged(md, "{}", "containerUser"), "\"b\"");
	ASSERT_STR_EQ(merged(md, "{\"containerUser\":\"c\"}", "containerUser"), "\"c\"");
	/* An empty value does not win (JavaScript truthiness). */
	ASSERT_STR_EQ(merged(md, "{\"containerUser\":\"\"}", "containerUser"), "\"b\"");
}

TEST(merge_remote_user_last_wins)
{
	ASSERT_STR_EQ(
	    merged("[{\"remoteUser\":\"vscode\"}]", "{\"image\":\"i\"}", "remoteUser"),
	    "\"vscode\"");
	ASSERT_STR_EQ(merged("[{\"remoteUser\":\"vscode\"}]", "{\"remoteUser\":\"me\"}",
			  "remoteUser"),
	    "\"me\"");
	/* The config's key keeps its position, with the image's value. */
	ASSERT_STR_EQ(merge("[{\"remoteUser\":\"vscode\"}]",
			  "{\"image\":\"i\",\"remoteUser\":\"\",\"name\":\"n\"}"),
	    "{\"image\":\"i\",\"remoteUser\":\"vscode\",\"name\":\"n\","
	    "\"init\":false,\"privileged\":false,\"onCreateCommands\":[],"
	    "\"updateContentCommands\":[],\"postCreateCommands\":[],"
	    "\"postStartCommands\":[],\"postAttachCommands\":[],"
	    "\"remoteEnv\":{},\"containerEnv\":{},\"portsAttributes\":{}}");
}

TEST(merge_user_env_probe_last_wins)
{
	ASSERT_STR_EQ(merged("[{\"userEnvProbe\":\"loginShell\"}]",
			  "{\"userEnvProbe\":\"none\"}", "userEnvProbe"),
	    "\"none\"");
	ASSERT_STR_EQ(merged("[{\"userEnvProbe\":\"loginShell\"}]", "{\"image\":\"i\"}",
			  "userEnvProbe"),
	    "\"loginShell\"");
}

TEST(merge_remote_env_per_variable_last_wins)
{
	ASSERT_STR_EQ(merged("[{\"remoteEnv\":{\"A\":\"1\",\"B\":\"1\","
			     "\"C\":\"1\"}},{\"remoteEnv\":{\"A\":\"2\",\"B\":\"2\"}}]",
			  "{\"remoteEnv\":{\"A\":\"3\",\"C\":null}}", "remoteEnv"),
	    "{\"A\":\"3\",\"B\":\"2\",\"C\":null}");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "remoteEnv"), "{}");
}

TEST(merge_container_env_per_variable_last_wins)
{
	ASSERT_STR_EQ(merged("[{\"containerEnv\":{\"PATH\":\"/a\","
			     "\"X\":\"1\"}},{\"containerEnv\":{\"Y\":\"2\"}}]",
			  "{\"containerEnv\":{\"X\":\"3\"}}", "containerEnv"),
	    "{\"PATH\":\"/a\",\"X\":\"3\",\"Y\":\"2\"}");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "containerEnv"), "{}");
}

TEST(merge_override_command_last_wins)
{
	/* The last boolean wins, false included. */
	ASSERT_STR_EQ(merged("[{\"overrideCommand\":true}]",
			  "{\"overrideCommand\":false}", "overrideCommand"),
	    "false");
	ASSERT_STR_EQ(
	    merged("[{\"overrideCommand\":false}]", "{}", "overrideCommand"), "false");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "overrideCommand"), "(absent)");
}

TEST(merge_ports_attributes_per_port_last_wins)
{
	/* Per port, not per attribute: 8080 loses onAutoForward. Port keys
	 * come out in JavaScript's order (numeric ones first, ascending). */
	ASSERT_STR_EQ(
	    merged("[{\"portsAttributes\":{\"8080\":{\"label\":"
		   "\"a\",\"onAutoForward\":\"notify\"},\"3000\":{\"label\":\"b\"}}}]",
		"{\"portsAttributes\":{\"db\":{\"label\":\"d\"},\"8080\":{\"label\":"
		"\"c\"}}}",
		"portsAttributes"),
	    "{\"3000\":{\"label\":\"b\"},\"8080\":{\"label\":\"c\"},"
	    "\"db\":{\"label\":\"d\"}}");
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "portsAttributes"), "{}");
}

TEST(merge_other_ports_attributes_last_wins)
{
	/* The whole object, not per attribute. */
	ASSERT_STR_EQ(merged("[{\"otherPortsAttributes\":{\"onAutoForward\":"
			     "\"silent\",\"label\":\"x\"}}]",
			  "{\"otherPortsAttributes\":{\"onAutoForward\":\"ignore\"}}",
			  "otherPortsAttributes"),
	    "{\"onAutoForward\":\"ignore\"}");
	ASSERT_STR_EQ(merged("[{\"otherPortsAttributes\":{\"label\":\"x\"}}]", "{}",
			  "otherPortsAttributes"),
	    "{\"label\":\"x\"}");
}

TEST(merge_forward_ports_union)
{
	/* 3000 and "localhost:3000" are one port; first position kept;
	 * "localhost:N" comes out as N; other hosts stay strings. */
	ASSERT_STR_EQ(merged("[{\"forwardPorts\":[3000,\"localhost:4000\","
			     "\"db:5432\"]}]",
			  "{\"forwardPorts\":[\"localhost:3000\",4000,8080,\"db:5432\"]}",
			  "forwardPorts"),
	    "[3000,4000,\"db:5432\",8080]");
	/* The string "3000" is not the number 3000 (reference). */
	ASSERT_STR_EQ(merged(NULL,
			  "{\"forwardPorts\":[3000,\"3000\","
			  "\"localhost:3000\"]}",
			  "forwardPorts"),
	    "[3000,\"3000\"]");
	ASSERT_STR_EQ(merged(NULL, "{\"forwardPorts\":[]}", "forwardPorts"), "(absent)");
}

TEST(merge_shutdown_action_last_wins)
{
	ASSERT_STR_EQ(merged("[{\"shutdownAction\":\"none\"}]",
			  "{\"shutdownAction\":\"stopContainer\"}", "shutdownAction"),
	    "\"stopContainer\"");
	/* It is one of the replaced properties: it moves to the end. */
	ASSERT_STR_EQ(merge("[{\"shutdownAction\":\"none\"}]",
			  "{\"shutdownAction\":\"stopContainer\",\"image\":\"i\"}"),
	    "{\"image\":\"i\",\"init\":false,\"privileged\":false,"
	    "\"onCreateCommands\":[],\"updateContentCommands\":[],"
	    "\"postCreateCommands\":[],\"postStartCommands\":[],"
	    "\"postAttachCommands\":[],\"remoteEnv\":{},\"containerEnv\":{},"
	    "\"portsAttributes\":{},\"shutdownAction\":\"stopContainer\"}");
}

TEST(merge_update_remote_user_uid_last_wins)
{
	ASSERT_STR_EQ(merged("[{\"updateRemoteUserUID\":false}]",
			  "{\"updateRemoteUserUID\":true}", "updateRemoteUserUID"),
	    "true");
	ASSERT_STR_EQ(merged("[{\"updateRemoteUserUID\":true}]",
			  "{\"updateRemoteUserUID\":false}", "updateRemoteUserUID"),
	    "false");
	ASSERT_STR_EQ(
	    merged("[{\"updateRemoteUserUID\":true}]", "{}", "updateRemoteUserUID"),
	    "true");
}

TEST(merge_host_requirements_max_cpus)
{
	ASSERT_STR_EQ(merged("[{\"hostRequirements\":{\"cpus\":4}},"
			     "{\"hostRequirements\":{\"cpus\":2}}]",
			  "{\"hostRequirements\":{\"cpus\":1}}", "hostRequirements"),
	    "{\"cpus\":4}");
}

TEST(merge_host_requirements_max_memory)
{
	/* Compared in bytes, output as a decimal string of bytes. */
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"memory\":\"8gb\"}}]",
		"{\"hostRequirements\":{\"memory\":\"4gb\"}}", "hostRequirements"),
	    "{\"cpus\":0,\"memory\":\"8589934592\"}");
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"memory\":\"4gb\"}}]",
		"{\"hostRequirements\":{\"memory\":\"6144mb\"}}", "hostRequirements"),
	    "{\"cpus\":0,\"memory\":\"6442450944\"}");
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"memory\":\"1tb\"}}]",
		"{\"hostRequirements\":{\"memory\":\"3000000000\"}}", "hostRequirements"),
	    "{\"cpus\":0,\"memory\":\"1099511627776\"}");
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"memory\":\"512kb\"}}]",
		"{\"hostRequirements\":{\"memory\":\"100\"}}", "hostRequirements"),
	    "{\"cpus\":0,\"memory\":\"524288\"}");
	/* Units are lowercase only; "16GB" counts as nothing. */
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"memory\":\"16GB\"}}]",
		"{\"hostRequirements\":{\"memory\":\"4gb\"}}", "hostRequirements"),
	    "{\"cpus\":0,\"memory\":\"4294967296\"}");
}

TEST(merge_host_requirements_max_storage)
{
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"storage\":\"32gb\","
		   "\"cpus\":2}}]",
		"{\"hostRequirements\":{\"storage\":\"1tb\"}}", "hostRequirements"),
	    "{\"cpus\":2,\"storage\":\"1099511627776\"}");
}

TEST(merge_host_requirements_gpu)
{
	const char *cfg = "{\"image\":\"i\"}";

	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"gpu\":true}}]", cfg, "hostRequirements"),
	    "{\"cpus\":0,\"gpu\":true}");
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"gpu\":\"optional\"}},"
		   "{\"hostRequirements\":{\"gpu\":false}}]",
		"{\"hostRequirements\":{\"gpu\":\"optional\"}}", "hostRequirements"),
	    "{\"cpus\":0,\"gpu\":\"optional\"}");
	ASSERT_STR_EQ(merged("[{\"hostRequirements\":{\"gpu\":false}}]",
			  "{\"hostRequirements\":{\"gpu\":true}}", "hostRequirements"),
	    "{\"cpus\":0,\"gpu\":true}");
	/* true with "optional" (or true twice) becomes an empty object. */
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"gpu\":true}}]",
		"{\"hostRequirements\":{\"gpu\":\"optional\"}}", "hostRequirements"),
	    "{\"cpus\":0,\"gpu\":{}}");
	/* Objects: max cores, max memory in bytes. */
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"gpu\":{\"cores\":2,"
		   "\"memory\":\"4gb\"}}},{\"hostRequirements\":{\"gpu\":"
		   "{\"cores\":8}}},{\"hostRequirements\":{\"gpu\":\"optional\"}}]",
		cfg, "hostRequirements"),
	    "{\"cpus\":0,\"gpu\":{\"cores\":8,\"memory\":\"4294967296\"}}");
	/* The reference's own test. */
	ASSERT_STR_EQ(
	    merged("[{\"hostRequirements\":{\"gpu\":true}},"
		   "{\"hostRequirements\":{\"gpu\":{\"cores\":4}}},"
		   "{\"hostRequirements\":{\"gpu\":{\"memory\":\"8gb\"}}}]",
		"{\"hostRequirements\":{\"gpu\":\"optional\"}}", "hostRequirements"),
	    "{\"cpus\":0,\"gpu\":{\"cores\":4,\"memory\":\"8589934592\"}}");
}

TEST(merge_host_requirements_absent)
{
	ASSERT_STR_EQ(
	    merged("[{\"init\":true}]", "{\"remoteUser\":\"u\"}", "hostRequirements"),
	    "(absent)");
}

TEST(merge_host_requirements_no_entries_quirk)
{
	/* reference: with no metadata at all, Math.max() of nothing is
	 * -Infinity and leaks into the output. */
	ASSERT_STR_EQ(merged(NULL, "{\"image\":\"i\"}", "hostRequirements"),
	    "{\"cpus\":null,\"memory\":\"-Infinity\",\"storage\":\"-Infinity\"}");
	ASSERT_STR_EQ(merged("[{}]", "{\"image\":\"i\"}", "hostRequirements"),
	    "{\"cpus\":null,\"memory\":\"-Infinity\",\"storage\":\"-Infinity\"}");
}

TEST(merge_other_last_wins)
{
	/* Properties outside the table (image, workspaceFolder, runArgs...)
	 * come from the config, unchanged and in place. */
	ASSERT_STR_EQ(merge("[{\"remoteUser\":\"vscode\"}]",
			  "{\"name\":\"n\",\"image\":\"i\",\"workspaceFolder\":\"/w\","
			  "\"runArgs\":[\"--x\"],\"features\":{}}"),
	    "{\"name\":\"n\",\"image\":\"i\",\"workspaceFolder\":\"/w\","
	    "\"runArgs\":[\"--x\"],\"features\":{},\"init\":false,"
	    "\"privileged\":false,\"onCreateCommands\":[],"
	    "\"updateContentCommands\":[],\"postCreateCommands\":[],"
	    "\"postStartCommands\":[],\"postAttachCommands\":[],"
	    "\"remoteUser\":\"vscode\",\"remoteEnv\":{},\"containerEnv\":{},"
	    "\"portsAttributes\":{}}");
}

/* --- Whole outputs compared with the reference. --- */

TEST(merge_reference_no_metadata)
{
	ASSERT_STR_EQ(merge(NULL, "{\"image\":\"foo\"}"),
	    "{\"image\":\"foo\",\"init\":false,\"privileged\":false,"
	    "\"onCreateCommands\":[],\"updateContentCommands\":[],"
	    "\"postCreateCommands\":[],\"postStartCommands\":[],"
	    "\"postAttachCommands\":[],\"remoteEnv\":{},"
	    "\"containerEnv\":{},\"portsAttributes\":{},"
	    "\"hostRequirements\":{\"cpus\":null,"
	    "\"memory\":\"-Infinity\",\"storage\":\"-Infinity\"}}");
}

TEST(merge_reference_all_rows)
{
	ASSERT_STR_EQ(merge("[{\"id\":\"base\",\"init\":true,\"capAdd\":[\"SYS_PTRACE\"],"
			    "\"mounts\":[\"source=v1,target=/data,type=volume\","
			    "\"type=bind,src=/x,dst=/y\"],"
			    "\"customizations\":{\"vscode\":{\"extensions\":[\"a\"]}},"
			    "\"onCreateCommand\":\"echo base\","
			    "\"postCreateCommand\":[\"a\",\"b\"],"
			    "\"remoteEnv\":{\"A\":\"1\",\"B\":\"2\"},"
			    "\"forwardPorts\":[3000,\"localhost:4000\",\"db:5432\"],"
			    "\"portsAttributes\":{\"8080\":{\"label\":\"x\"},"
			    "\"3000\":{\"label\":\"y\"}},"
			    "\"hostRequirements\":{\"cpus\":2,\"memory\":\"4gb\","
			    "\"gpu\":true},\"entrypoint\":\"/base.sh\","
			    "\"remoteUser\":\"vscode\",\"waitFor\":\"onCreateCommand\"},"
			    "\n{\"id\":\"feat\",\"privileged\":false,"
			    "\"capAdd\":[\"SYS_PTRACE\",\"NET_ADMIN\"],"
			    "\"securityOpt\":[\"seccomp=unconfined\"],"
			    "\"mounts\":[{\"source\":\"v2\",\"target\":\"/data\","
			    "\"type\":\"volume\"}],"
			    "\"customizations\":{\"vscode\":{\"extensions\":[\"b\"]},"
			    "\"codespaces\":{}},\"onCreateCommand\":{\"x\":\"echo x\","
			    "\"y\":[\"echo\",\"y\"]},\"entrypoint\":\"/feat.sh\","
			    "\"hostRequirements\":{\"cpus\":4,\"memory\":\"8gb\","
			    "\"storage\":\"32gb\",\"gpu\":\"optional\"},"
			    "\"containerEnv\":{\"C\":\"3\"}}]",
			  "{\"image\":\"foo\",\"remoteUser\":\"\","
			  "\"remoteEnv\":{\"B\":\"x\",\"Z\":null},"
			  "\"forwardPorts\":[\"localhost:3000\",4000,8080],"
			  "\"portsAttributes\":{\"3000\":{\"label\":\"z\"},\"a\":{}},"
			  "\"postCreateCommand\":\"npm i\","
			  "\"hostRequirements\":{\"memory\":\"6144mb\"},"
			  "\"overrideCommand\":false,\"shutdownAction\":\"none\","
			  "\"init\":false,\"entrypoint\":\"ignored\","
			  "\"capAdd\":[\"X\"],\"userEnvProbe\":\"loginShell\","
			  "\"containerUser\":\"u\",\"updateRemoteUserUID\":true,"
			  "\"otherPortsAttributes\":{\"onAutoForward\":\"silent\"}}"),
	    "{\"image\":\"foo\",\"remoteUser\":\"vscode\","
	    "\"remoteEnv\":{\"A\":\"1\",\"B\":\"x\",\"Z\":null},"
	    "\"forwardPorts\":[3000,4000,\"db:5432\",8080],"
	    "\"portsAttributes\":{\"3000\":{\"label\":\"z\"},"
	    "\"8080\":{\"label\":\"x\"},\"a\":{}},"
	    "\"hostRequirements\":{\"cpus\":4,\"memory\":\"8589934592\","
	    "\"storage\":\"34359738368\",\"gpu\":{}},"
	    "\"overrideCommand\":false,\"init\":true,"
	    "\"capAdd\":[\"SYS_PTRACE\",\"NET_ADMIN\",\"X\"],"
	    "\"userEnvProbe\":\"loginShell\",\"containerUser\":\"u\","
	    "\"updateRemoteUserUID\":true,"
	    "\"otherPortsAttributes\":{\"onAutoForward\":\"silent\"},"
	    "\"privileged\":false,"
	    "\"securityOpt\":[\"seccomp=unconfined\"],"
	    "\"entrypoints\":[\"/base.sh\",\"/feat.sh\"],"
	    "\"mounts\":[\"type=bind,src=/x,dst=/y\",{\"source\":\"v2\","
	    "\"target\":\"/data\",\"type\":\"volume\"}],"
	    "\"customizations\":{\"vscode\":[{\"extensions\":[\"a\"]},"
	    "{\"extensions\":[\"b\"]}],\"codespaces\":[{}]},"
	    "\"onCreateCommands\":[\"echo base\",{\"x\":\"echo x\","
	    "\"y\":[\"echo\",\"y\"]}],\"updateContentCommands\":[],"
	    "\"postCreateCommands\":[[\"a\",\"b\"],\"npm i\"],"
	    "\"postStartCommands\":[],\"postAttachCommands\":[],"
	    "\"waitFor\":\"onCreateCommand\","
	    "\"containerEnv\":{\"C\":\"3\"},\"shutdownAction\":\"none\"}");
}

TEST(merge_reference_ill_typed_values)
{
	/* Wrong types are handled the JavaScript way, not rejected: a string
	 * capAdd is one capability, a string customizations has index keys,
	 * "localhost:0x10" parses as hex, mounts without a target share one
	 * "undefined" target, and so on. */
	ASSERT_STR_EQ(merge("[{}, {\"capAdd\":\"SYS_ADMIN\",\"securityOpt\":[\"a\",\"a\","
			    "1,1,true,null,{\"x\":1},{\"x\":1}],\"init\":\"false\","
			    "\"privileged\":0,\"customizations\":\"ab\","
			    "\"remoteEnv\":[\"p\",\"q\"],\"containerEnv\":\"xy\","
			    "\"forwardPorts\":3000.5,\"mounts\":\"target=/a,type=bind\","
			    "\"entrypoint\":\"\",\"onCreateCommand\":\"\","
			    "\"postStartCommand\":0,\"postAttachCommand\":[],"
			    "\"updateContentCommand\":{},"
			    "\"hostRequirements\":{\"cpus\":\"3\",\"memory\":\"4GB\","
			    "\"storage\":4096,\"gpu\":{\"cores\":\"2\","
			    "\"memory\":\"1gb\"}}},  {\"forwardPorts\":[3000,"
			    "\"localhost:3000.5\",\"127.0.0.1:localhost:80\","
			    "\"localhost:0x10\",1e21,\"x:localhost:9\",null],"
			    "\"mounts\":[{\"type\":\"volume\"},\"src=a\",\"target=/a,"
			    "source=b\",\"dst=/c,target\",\"destination=/d=e,x\"],"
			    "\"hostRequirements\":{\"cpus\":1.5,\"gpu\":{\"cores\":4,"
			    "\"memory\":\"512mb\"}},\"portsAttributes\":{\"10\":{},"
			    "\"9\":{},\"b\":1,\"1\":2,\"01\":3,\"4294967295\":4,"
			    "\"4294967294\":5},\"waitFor\":\"\","
			    "\"overrideCommand\":\"true\",\"updateRemoteUserUID\":null}]",
			  "{\"image\":\"foo\",\"forwardPorts\":[],\"capAdd\":[],"
			  "\"mounts\":[],\"z\":1,\"10\":2,\"a\":3,\"2\":4}"),
	    "{\"2\":4,\"10\":2,\"image\":\"foo\",\"forwardPorts\":[3000,"
	    "3000,null,16,1,null,null],\"capAdd\":[\"SYS_ADMIN\"],"
	    "\"mounts\":[\"target=/a,source=b\",\"dst=/c,target\","
	    "\"destination=/d=e,x\"],\"z\":1,\"a\":3,\"init\":true,"
	    "\"privileged\":false,\"securityOpt\":[\"a\",1,true,null,"
	    "{\"x\":1},{\"x\":1}],\"customizations\":{\"0\":[\"a\"],"
	    "\"1\":[\"b\"]},\"onCreateCommands\":[],"
	    "\"updateContentCommands\":[{}],\"postCreateCommands\":[],"
	    "\"postStartCommands\":[],\"postAttachCommands\":[[]],"
	    "\"remoteEnv\":{\"0\":\"p\",\"1\":\"q\"},"
	    "\"containerEnv\":{\"0\":\"x\",\"1\":\"y\"},"
	    "\"portsAttributes\":{\"1\":2,\"9\":{},\"10\":{},"
	    "\"4294967294\":5,\"b\":1,\"01\":3,\"4294967295\":4},"
	    "\"hostRequirements\":{\"cpus\":3,\"storage\":\"4096\","
	    "\"gpu\":{\"cores\":4,\"memory\":\"1073741824\"}}}");
}

TEST(merge_reference_feature)
{
	cJSON *feature =
	    parse("{\"id\":\"myfeat\",\"version\":\"1.0.0\",\"name\":\"My\","
		  "\"options\":{},\"containerEnv\":{\"F\":\"1\"},\"init\":true,"
		  "\"capAdd\":[\"SYS_PTRACE\"],\"entrypoint\":\"/f.sh\","
		  "\"mounts\":[{\"source\":\"fv\",\"target\":\"/fv\","
		  "\"type\":\"volume\"}],"
		  "\"customizations\":{\"vscode\":{\"extensions\":[\"f\"]}},"
		  "\"postCreateCommand\":\"echo feat\",\"privileged\":false,"
		  "\"securityOpt\":[\"s\"],\"onCreateCommand\":[\"a\",\"b\"]}");
	cJSON *config = parse("{\"image\":\"foo\",\"features\":{\"./myfeat\":{}},"
			      "\"remoteUser\":\"me\"}");
	cJSON *md, *out;
	char *s;

	md = cJSON_CreateArray();
	cJSON_AddItemToArray(md, config_metadata_from_feature(feature, "./myfeat"));
	out = config_merge(md, config);
	keep(out);
	cJSON_Delete(out);
	ASSERT_STR_EQ(got,
	    "{\"image\":\"foo\",\"features\":{\"./myfeat\":{}},"
	    "\"remoteUser\":\"me\",\"init\":true,\"privileged\":false,"
	    "\"capAdd\":[\"SYS_PTRACE\"],\"securityOpt\":[\"s\"],"
	    "\"entrypoints\":[\"/f.sh\"],\"mounts\":[{\"source\":\"fv\","
	    "\"target\":\"/fv\",\"type\":\"volume\"}],"
	    "\"customizations\":{\"vscode\":[{\"extensions\":[\"f\"]}]},"
	    "\"onCreateCommands\":[[\"a\",\"b\"]],"
	    "\"updateContentCommands\":[],"
	    "\"postCreateCommands\":[\"echo feat\"],"
	    "\"postStartCommands\":[],\"postAttachCommands\":[],"
	    "\"remoteEnv\":{},\"containerEnv\":{},\"portsAttributes\":{}}");
	s = config_metadata_label(md, config);
	snprintf(got, sizeof got, "%s", s);
	free(s);
	cJSON_Delete(md);
	cJSON_Delete(feature);
	cJSON_Delete(config);
	ASSERT_STR_EQ(got,
	    "[ {\"id\":\"./myfeat\",\"onCreateCommand\":[\"a\",\"b\"],"
	    "\"postCreateCommand\":\"echo feat\",\"init\":true,"
	    "\"privileged\":false,\"capAdd\":[\"SYS_PTRACE\"],"
	    "\"securityOpt\":[\"s\"],\"entrypoint\":\"/f.sh\","
	    "\"mounts\":[{\"source\":\"fv\",\"target\":\"/fv\","
	    "\"type\":\"volume\"}],"
	    "\"customizations\":{\"vscode\":{\"extensions\":[\"f\"]}}},"
	    " {\"remoteUser\":\"me\"} ]");
}

/* --- Entry handling and object semantics. --- */

TEST(merge_js_key_order)
{
	/* Integer-like keys first, ascending; duplicates collapse to the
	 * last value at the first position (JSON.parse + JSON.stringify). */
	ASSERT_STR_EQ(merge(NULL,
			  "{\"b\":1,\"10\":2,\"a\":3,\"2\":4,"
			  "\"b\":5,\"remoteEnv\":{\"X\":\"1\",\"X\":\"2\"}}"),
	    "{\"2\":4,\"10\":2,\"b\":5,\"a\":3,\"remoteEnv\":{\"X\":\"2\"},"
	    "\"init\":false,\"privileged\":false,\"onCreateCommands\":[],"
	    "\"updateContentCommands\":[],\"postCreateCommands\":[],"
	    "\"postStartCommands\":[],\"postAttachCommands\":[],"
	    "\"containerEnv\":{},\"portsAttributes\":{}}");
}

TEST(js_copy_key_order)
{
	/* The "configuration" that read-configuration prints is the parsed
	 * file as JSON.stringify prints it: the reference prints
	 * {"portsAttributes":{"5678":..,"8000":..}} for a file that lists
	 * 8000 first (conformance case python-image). */
	cJSON *in = parse("{\"image\":\"x\",\"portsAttributes\":{\"8000\":"
			  "{\"label\":\"a\"},\"5678\":{},\"x:1\":[{\"b\":1,\"1\":2}]},"
			  "\"01\":1,\"7\":true}");
	cJSON *out = config_merge_js_copy(in);

	keep(out);
	cJSON_Delete(out);
	cJSON_Delete(in);
	ASSERT_STR_EQ(got,
	    "{\"7\":true,\"image\":\"x\",\"portsAttributes\":{\"5678\":{},"
	    "\"8000\":{\"label\":\"a\"},\"x:1\":[{\"1\":2,\"b\":1}]},\"01\":1}");
}

TEST(merge_skips_non_object_entries)
{
	ASSERT_STR_EQ(
	    merged("[\"x\",3,null,[],{},{\"init\":true}]", "{\"image\":\"i\"}", "init"),
	    "true");
	/* Not an array: no entries. */
	ASSERT_STR_EQ(merged("{\"init\":true}", "{\"image\":\"i\"}", "init"), "false");
}

TEST(merge_null_config)
{
	cJSON *md = parse("[{\"remoteUser\":\"u\"}]"), *out;

	out = config_merge(md, NULL);
	keep(cJSON_GetObjectItemCaseSensitive(out, "remoteUser"));
	cJSON_Delete(out);
	cJSON_Delete(md);
	ASSERT_STR_EQ(got, "\"u\"");
}

TEST(merge_does_not_modify_inputs)
{
	const char *md_text = "[{\"mounts\":[\"target=/a\"],\"remoteEnv\":"
			      "{\"b\":\"1\",\"1\":\"2\"}}]";
	const char *cfg_text = "{\"mounts\":[\"target=/a\"],"
			       "\"postCreateCommand\":\"x\",\"remoteEnv\":{\"b\":\"3\"}}";
	cJSON *md = parse(md_text), *cfg = parse(cfg_text);
	cJSON *want_md = parse(md_text), *want_cfg = parse(cfg_text);
	int same;

	cJSON_Delete(config_merge(md, cfg));
	same = cJSON_Compare(md, want_md, 1) && cJSON_Compare(cfg, want_cfg, 1);
	cJSON_Delete(md);
	cJSON_Delete(cfg);
	cJSON_Delete(want_md);
	cJSON_Delete(want_cfg);
	ASSERT_TRUE(same);
}

TEST(merge_entries_without_config_entry)
{
	/* An existing container: its label plus the updateable properties;
	 * the config's other metadata properties do not take part. */
	cJSON *md = parse("[{\"remoteUser\":\"a\",\"capAdd\":[\"X\"]}]");
	cJSON *cfg = parse("{\"remoteUser\":\"b\",\"capAdd\":[\"Y\"],"
			   "\"remoteEnv\":{\"E\":\"1\"},\"postCreateCommand\":\"p\"}");
	cJSON *out;

	cJSON_AddItemToArray(md, config_metadata_updateable_from_config(cfg));
	out = config_merge_entries(md, cfg);
	keep(out);
	cJSON_Delete(out);
	cJSON_Delete(md);
	cJSON_Delete(cfg);
	ASSERT_STR_EQ(got,
	    "{\"remoteUser\":\"b\",\"capAdd\":[\"X\"],"
	    "\"remoteEnv\":{\"E\":\"1\"},\"init\":false,\"privileged\":false,"
	    "\"onCreateCommands\":[],\"updateContentCommands\":[],"
	    "\"postCreateCommands\":[],\"postStartCommands\":[],"
	    "\"postAttachCommands\":[],\"containerEnv\":{},"
	    "\"portsAttributes\":{}}");
}

TEST(metadata_from_config_picks_properties)
{
	cJSON *cfg = parse("{\"image\":\"i\",\"hostRequirements\":{\"cpus\":2},"
			   "\"entrypoint\":\"/e\",\"remoteUser\":\"u\",\"init\":null,"
			   "\"onCreateCommand\":\"o\",\"name\":\"n\",\"features\":{}}");
	cJSON *entry;

	entry = config_metadata_from_config(cfg);
	keep(entry);
	cJSON_Delete(entry);
	cJSON_Delete(cfg);
	/* The reference's pick order; present keys even when null; no
	 * entrypoint, image, name or features. */
	ASSERT_STR_EQ(got,
	    "{\"onCreateCommand\":\"o\",\"init\":null,"
	    "\"remoteUser\":\"u\",\"hostRequirements\":{\"cpus\":2}}");
}

TEST(metadata_updateable_from_config)
{
	cJSON *cfg = parse("{\"remoteEnv\":{\"A\":\"1\"},\"capAdd\":[\"X\"],"
			   "\"userEnvProbe\":\"none\",\"remoteUser\":\"u\"}");
	cJSON *entry;

	entry = config_metadata_updateable_from_config(cfg);
	keep(entry);
	cJSON_Delete(entry);
	cJSON_Delete(cfg);
	ASSERT_STR_EQ(got,
	    "{\"remoteUser\":\"u\",\"userEnvProbe\":\"none\","
	    "\"remoteEnv\":{\"A\":\"1\"}}");
}

TEST(metadata_from_feature)
{
	cJSON *f = parse("{\"id\":\"node\",\"version\":\"1\","
			 "\"containerEnv\":{\"A\":\"1\"},\"entrypoint\":\"/e\","
			 "\"init\":true,\"postStartCommand\":\"s\"}");
	cJSON *entry;

	entry = config_metadata_from_feature(f, "ghcr.io/x/node:1");
	keep(entry);
	cJSON_Delete(entry);
	/* containerEnv goes into the Dockerfile, not the metadata. */
	ASSERT_STR_EQ(got,
	    "{\"id\":\"ghcr.io/x/node:1\","
	    "\"postStartCommand\":\"s\",\"init\":true,\"entrypoint\":\"/e\"}");
	entry = config_metadata_from_feature(f, NULL);
	keep(entry);
	cJSON_Delete(entry);
	cJSON_Delete(f);
	ASSERT_STR_EQ(got,
	    "{\"postStartCommand\":\"s\",\"init\":true,"
	    "\"entrypoint\":\"/e\"}");
}

/* --- The label. --- */

TEST(label_reference_format)
{
	ASSERT_STR_EQ(label("[{\"id\":\"base\",\"init\":true,\"capAdd\":[\"SYS_PTRACE\"],"
			    "\"mounts\":[\"source=v1,target=/data,type=volume\","
			    "\"type=bind,src=/x,dst=/y\"],"
			    "\"customizations\":{\"vscode\":{\"extensions\":[\"a\"]}},"
			    "\"onCreateCommand\":\"echo base\","
			    "\"postCreateCommand\":[\"a\",\"b\"],"
			    "\"remoteEnv\":{\"A\":\"1\",\"B\":\"2\"},"
			    "\"forwardPorts\":[3000,\"localhost:4000\",\"db:5432\"],"
			    "\"portsAttributes\":{\"8080\":{\"label\":\"x\"},"
			    "\"3000\":{\"label\":\"y\"}},"
			    "\"hostRequirements\":{\"cpus\":2,\"memory\":\"4gb\","
			    "\"gpu\":true},\"entrypoint\":\"/base.sh\","
			    "\"remoteUser\":\"vscode\",\"waitFor\":\"onCreateCommand\"},"
			    "\n{\"id\":\"feat\",\"privileged\":false,"
			    "\"capAdd\":[\"SYS_PTRACE\",\"NET_ADMIN\"],"
			    "\"securityOpt\":[\"seccomp=unconfined\"],"
			    "\"mounts\":[{\"source\":\"v2\",\"target\":\"/data\","
			    "\"type\":\"volume\"}],"
			    "\"customizations\":{\"vscode\":{\"extensions\":[\"b\"]},"
			    "\"codespaces\":{}},\"onCreateCommand\":{\"x\":\"echo x\","
			    "\"y\":[\"echo\",\"y\"]},\"entrypoint\":\"/feat.sh\","
			    "\"hostRequirements\":{\"cpus\":4,\"memory\":\"8gb\","
			    "\"storage\":\"32gb\",\"gpu\":\"optional\"},"
			    "\"containerEnv\":{\"C\":\"3\"}}]",
			  "{\"image\":\"foo\",\"remoteUser\":\"\","
			  "\"remoteEnv\":{\"B\":\"x\",\"Z\":null},"
			  "\"forwardPorts\":[\"localhost:3000\",4000,8080],"
			  "\"portsAttributes\":{\"3000\":{\"label\":\"z\"},\"a\":{}},"
			  "\"postCreateCommand\":\"npm i\","
			  "\"hostRequirements\":{\"memory\":\"6144mb\"},"
			  "\"overrideCommand\":false,\"shutdownAction\":\"none\","
			  "\"init\":false,\"entrypoint\":\"ignored\","
			  "\"capAdd\":[\"X\"],\"userEnvProbe\":\"loginShell\","
			  "\"containerUser\":\"u\",\"updateRemoteUserUID\":true,"
			  "\"otherPortsAttributes\":{\"onAutoForward\":\"silent\"}}"),
	    "[ {\"id\":\"base\",\"init\":true,"
	    "\"capAdd\":[\"SYS_PTRACE\"],\"mounts\":[\"source=v1,"
	    "target=/data,type=volume\",\"type=bind,src=/x,dst=/y\"],"
	    "\"customizations\":{\"vscode\":{\"extensions\":[\"a\"]}},"
	    "\"onCreateCommand\":\"echo base\","
	    "\"postCreateCommand\":[\"a\",\"b\"],"
	    "\"remoteEnv\":{\"A\":\"1\",\"B\":\"2\"},"
	    "\"forwardPorts\":[3000,\"localhost:4000\",\"db:5432\"],"
	    "\"portsAttributes\":{\"3000\":{\"label\":\"y\"},"
	    "\"8080\":{\"label\":\"x\"}},"
	    "\"hostRequirements\":{\"cpus\":2,\"memory\":\"4gb\","
	    "\"gpu\":true},\"entrypoint\":\"/base.sh\","
	    "\"remoteUser\":\"vscode\",\"waitFor\":\"onCreateCommand\"},"
	    " {\"id\":\"feat\",\"privileged\":false,"
	    "\"capAdd\":[\"SYS_PTRACE\",\"NET_ADMIN\"],"
	    "\"securityOpt\":[\"seccomp=unconfined\"],"
	    "\"mounts\":[{\"source\":\"v2\",\"target\":\"/data\","
	    "\"type\":\"volume\"}],"
	    "\"customizations\":{\"vscode\":{\"extensions\":[\"b\"]},"
	    "\"codespaces\":{}},\"onCreateCommand\":{\"x\":\"echo x\","
	    "\"y\":[\"echo\",\"y\"]},\"entrypoint\":\"/feat.sh\","
	    "\"hostRequirements\":{\"cpus\":4,\"memory\":\"8gb\","
	    "\"storage\":\"32gb\",\"gpu\":\"optional\"},"
	    "\"containerEnv\":{\"C\":\"3\"}},"
	    " {\"postCreateCommand\":\"npm i\",\"containerUser\":\"u\","
	    "\"init\":false,\"capAdd\":[\"X\"],\"remoteUser\":\"\","
	    "\"userEnvProbe\":\"loginShell\",\"remoteEnv\":{\"B\":\"x\","
	    "\"Z\":null},\"overrideCommand\":false,"
	    "\"portsAttributes\":{\"3000\":{\"label\":\"z\"},\"a\":{}},"
	    "\"otherPortsAttributes\":{\"onAutoForward\":\"silent\"},"
	    "\"forwardPorts\":[\"localhost:3000\",4000,8080],"
	    "\"shutdownAction\":\"none\",\"updateRemoteUserUID\":true,"
	    "\"hostRequirements\":{\"memory\":\"6144mb\"}} ]");
}

TEST(label_single_entry)
{
	ASSERT_STR_EQ(label(NULL, "{\"image\":\"i\",\"remoteUser\":\"u\"}"),
	    "[ {\"remoteUser\":\"u\"} ]");
}

TEST(label_skips_empty_entries)
{
	ASSERT_STR_EQ(
	    label("[{},{\"id\":\"a\"},{}]", "{\"image\":\"i\"}"), "[ {\"id\":\"a\"} ]");
	ASSERT_STR_EQ(label(NULL, "{\"image\":\"i\"}"), "[]");
	ASSERT_STR_EQ(label(NULL, NULL), "[]");
}

TEST(label_round_trips)
{
	char *cause = NULL, *again;
	cJSON *md;

	/* Quotes, backslashes and dollars survive (no Dockerfile escaping
	 * in the value itself). */
	label("[{\"id\":\"f\",\"init\":true}]",
	    "{\"image\":\"i\",\"postCreateCommand\":[\"a\",\"b c\"],"
	    "\"remoteEnv\":{\"X\":\"$Y \\\"q\\\" \\\\\"}}");
	md = config_metadata_parse(got, &cause);
	ASSERT_NOT_NULL(md);
	again = config_metadata_label(md, NULL);
	cJSON_Delete(md);
	snprintf(got, sizeof got, "%s", again);
	free(again);
	ASSERT_STR_EQ(got,
	    "[ {\"id\":\"f\",\"init\":true}, "
	    "{\"postCreateCommand\":[\"a\",\"b c\"],"
	    "\"remoteEnv\":{\"X\":\"$Y \\\"q\\\" \\\\\"}} ]");
}

/* --- Parsing the label. --- */

TEST(parse_label_array)
{
	ASSERT_STR_EQ(parse_label("[ {\"id\":\"a\"}, {\"remoteUser\":\"u\"} ]"),
	    "[{\"id\":\"a\"},{\"remoteUser\":\"u\"}]");
}

TEST(parse_label_single_object)
{
	ASSERT_STR_EQ(parse_label("{ \"postCreateCommand\": \"touch /x\" }"),
	    "[{\"postCreateCommand\":\"touch /x\"}]");
}

TEST(parse_label_empty)
{
	ASSERT_STR_EQ(parse_label(NULL), "[]");
	ASSERT_STR_EQ(parse_label(""), "[]");
	ASSERT_STR_EQ(parse_label(" \n"), "[]");
	ASSERT_STR_EQ(parse_label("[]"), "[]");
}

TEST(parse_label_garbage)
{
	ASSERT_STR_EQ(parse_label("[{\"id\":"),
	    "error: image label devcontainer.metadata: invalid JSON at "
	    "offset 7");
	ASSERT_STR_CONTAINS(parse_label("not json"),
	    "error: image label devcontainer.metadata: invalid JSON");
	ASSERT_STR_CONTAINS(parse_label("[{}] trailing"),
	    "error: image label devcontainer.metadata: invalid JSON");
}

TEST(parse_label_not_array_or_object)
{
	ASSERT_STR_EQ(parse_label("42"),
	    "error: image label "
	    "devcontainer.metadata: not a JSON array or object");
	ASSERT_STR_EQ(parse_label("null"),
	    "error: image label "
	    "devcontainer.metadata: not a JSON array or object");
}

TEST(parse_label_non_object_entry)
{
	/* The reference merges the object entries of such a label and skips
	 * the rest (conformance case meta-mixed-entries); dropping the whole
	 * label lost its remoteUser and capAdd. */
	ASSERT_STR_EQ(parse_label("[{\"id\":\"a\"},{},\"x\",3,[],"
				  "{\"remoteUser\":\"u\"}]"),
	    "[{\"id\":\"a\"},{},{\"remoteUser\":\"u\"}]");
	ASSERT_STR_EQ(parse_label("[null]"), "[]");
}

TEST(parse_label_duplicate_keys)
{
	/* JSON.parse semantics: the last value, at the first position. */
	ASSERT_STR_EQ(parse_label("[{\"remoteUser\":\"a\",\"init\":true,"
				  "\"remoteUser\":\"b\"}]"),
	    "[{\"remoteUser\":\"b\",\"init\":true}]");
}

/* config_merge_ports(merged, config, image), printed; image may be NULL (a
 * container made without the label). */
static const char *
ports_over_image(const char *merged, const char *config, const char *image)
{
	cJSON *m = parse(merged), *c = parse(config), *i = parse(image), *out;
	const char *s;

	out = config_merge_ports(m, c, i);
	s = keep(out);
	cJSON_Delete(out);
	cJSON_Delete(m);
	cJSON_Delete(c);
	cJSON_Delete(i);
	return s;
}

/* The same for a container made without the label. */
static const char *
ports_over(const char *merged, const char *config)
{
	return ports_over_image(merged, config, NULL);
}

TEST(ports_attributes_of_the_configuration_over_frozen_ones)
{
	/* a reused container's frozen metadata had 3000 "old"; the edited
	 * devcontainer.json says "new": the forwards take it, per port */
	ASSERT_STR_EQ(
	    ports_over("{\"forwardPorts\":[3000],\"portsAttributes\":"
		       "{\"3000\":{\"label\":\"old\"},\"4000\":{\"label\":"
		       "\"feature\"}},\"otherPortsAttributes\":{\"onAutoForward\":"
		       "\"silent\"}}",
		"{\"portsAttributes\":{\"3000\":{\"label\":\"new\"}},"
		"\"otherPortsAttributes\":{\"onAutoForward\":\"ignore\"}}"),
	    "{\"forwardPorts\":[3000],\"portsAttributes\":{\"3000\":{\"label\":"
	    "\"new\"},\"4000\":{\"label\":\"feature\"}},\"otherPortsAttributes\":"
	    "{\"onAutoForward\":\"ignore\"}}");
	/* in JavaScript key order, as the merge's (a replaced key keeps its
	 * place, a port before a range): the first key that matches a port is
	 * what forwards it, so a range before an exact port would win */
	ASSERT_STR_EQ(ports_over("{\"portsAttributes\":{\"3000\":{\"label\":\"old\"},"
				 "\"3000-3010\":{\"onAutoForward\":\"ignore\"}}}",
			  "{\"portsAttributes\":{\"3000-3010\":{\"onAutoForward\":"
			  "\"ignore\"},\"3000\":{\"label\":\"web\"},\"20\":{}}}"),
	    "{\"portsAttributes\":{\"20\":{},\"3000\":{\"label\":\"web\"},"
	    "\"3000-3010\":{\"onAutoForward\":\"ignore\"}}}");
	ASSERT_STR_EQ(ports_over("{\"portsAttributes\":{\"9\":{},\"a\":{}}}",
			  "{\"portsAttributes\":{\"3000-3010\":{\"label\":\"r\"},"
			  "\"3000\":{\"label\":\"web\"}}}"),
	    "{\"portsAttributes\":{\"9\":{},\"3000\":{\"label\":\"web\"},"
	    "\"a\":{},\"3000-3010\":{\"label\":\"r\"}}}");
	/* without what the image gave (an old container), only added and
	 * changed keys count: a key removed or renamed in the configuration
	 * stays as the frozen metadata has it (which of its entries is the old
	 * configuration's is not known), as does an otherPortsAttributes
	 * removed (docs/CLI.md: up --recreate) */
	ASSERT_STR_EQ(
	    ports_over("{\"portsAttributes\":{\"3000\":{\"label\":\"old\"},"
		       "\"4000\":{\"label\":\"removed\"}},"
		       "\"otherPortsAttributes\":{\"onAutoForward\":\"ignore\"}}",
		"{\"portsAttributes\":{\"3000-3010\":{\"label\":\"renamed\"}}}"),
	    "{\"portsAttributes\":{\"3000\":{\"label\":\"old\"},\"4000\":{\"label\":"
	    "\"removed\"},\"3000-3010\":{\"label\":\"renamed\"}},"
	    "\"otherPortsAttributes\":{\"onAutoForward\":\"ignore\"}}");
	/* none in the configuration: the merged ones stay */
	ASSERT_STR_EQ(ports_over("{\"portsAttributes\":{\"3000\":{\"label\":\"a\"}}}",
			  "{\"image\":\"x\"}"),
	    "{\"portsAttributes\":{\"3000\":{\"label\":\"a\"}}}");
	ASSERT_STR_EQ(ports_over("{}", "{\"portsAttributes\":{\"80\":{}}}"),
	    "{\"portsAttributes\":{\"80\":{}}}");
	ASSERT_STR_EQ(ports_over("{}", NULL), "{}");
}

/* config_merge_ports_of_entries(entries), printed. */
static const char *
ports_of_entries(const char *entries)
{
	cJSON *e = parse(entries), *out;
	const char *s;

	out = config_merge_ports_of_entries(e);
	s = keep(out);
	cJSON_Delete(out);
	cJSON_Delete(e);
	return s;
}

TEST(ports_of_image_entries)
{
	/* per port last wins, in JavaScript key order; the last truthy
	 * otherPortsAttributes; the rest left out */
	ASSERT_STR_EQ(ports_of_entries("[{\"portsAttributes\":{\"a\":{},\"80\":"
				       "{\"label\":\"x\"}},\"otherPortsAttributes\":"
				       "{\"onAutoForward\":\"silent\"}},{\"init\":true,"
				       "\"portsAttributes\":{\"80\":{\"label\":\"y\"},"
				       "\"9\":{}},\"otherPortsAttributes\":null}]"),
	    "{\"forwardPorts\":[],\"portsAttributes\":{\"9\":{},\"80\":{\"label\":"
	    "\"y\"},\"a\":{}},\"otherPortsAttributes\":{\"onAutoForward\":\"silent\"}}");
	ASSERT_STR_EQ(ports_of_entries("[{\"init\":true},{}]"), "{\"forwardPorts\":[]}");
	ASSERT_STR_EQ(ports_of_entries(NULL), "{\"forwardPorts\":[]}");
}

TEST(ports_attributes_removed_from_the_configuration)
{
	/* the container was made with 3000 "old" and 4000 and an
	 * otherPortsAttributes in its configuration, the image gave none: the
	 * configuration now has only 3000 "new", so 4000's label and the
	 * otherPortsAttributes are gone, as a new container would have it */
	ASSERT_STR_EQ(
	    ports_over_image("{\"forwardPorts\":[3000],\"portsAttributes\":"
			     "{\"3000\":{\"label\":\"old\"},\"4000\":{\"label\":"
			     "\"removed\"}},\"otherPortsAttributes\":"
			     "{\"onAutoForward\":\"ignore\"}}",
		"{\"portsAttributes\":{\"3000\":{\"label\":\"new\"}}}", "{}"),
	    "{\"forwardPorts\":[3000],\"portsAttributes\":{\"3000\":"
	    "{\"label\":\"new\"}}}");
	/* none left at all: an empty portsAttributes, as the merge's */
	ASSERT_STR_EQ(ports_over_image("{\"portsAttributes\":{\"4000\":"
				       "{\"onAutoForward\":\"ignore\"}}}",
			  "{\"image\":\"x\"}", "{}"),
	    "{\"portsAttributes\":{}}");
}

TEST(ports_attributes_renamed_in_the_configuration)
{
	/* "3000" made "3000-3010": the old exact key no longer wins */
	ASSERT_STR_EQ(
	    ports_over_image("{\"portsAttributes\":{\"3000\":"
			     "{\"onAutoForward\":\"ignore\"}}}",
		"{\"portsAttributes\":{\"3000-3010\":{\"label\":\"r\"}}}", "{}"),
	    "{\"portsAttributes\":{\"3000-3010\":{\"label\":\"r\"}}}");
}

TEST(ports_attributes_the_image_also_defines)
{
	/* 4000 and otherPortsAttributes were the configuration's and the
	 * image's: removed from the configuration, the image's apply (the
	 * spec's merge: per port last wins, otherPortsAttributes last wins);
	 * the image's 5000 stays; keys in JavaScript order */
	ASSERT_STR_EQ(
	    ports_over_image("{\"portsAttributes\":{\"3000\":{},\"4000\":{\"label\":"
			     "\"cfg\"},\"5000\":{\"label\":\"img5\"}},"
			     "\"otherPortsAttributes\":{\"onAutoForward\":\"ignore\"}}",
		"{\"portsAttributes\":{\"3000\":{\"label\":\"web\"}}}",
		"{\"portsAttributes\":{\"4000\":{\"label\":\"img\"},\"5000\":"
		"{\"label\":\"img5\"}},\"otherPortsAttributes\":"
		"{\"onAutoForward\":\"silent\"}}"),
	    "{\"portsAttributes\":{\"3000\":{\"label\":\"web\"},\"4000\":"
	    "{\"label\":\"img\"},\"5000\":{\"label\":\"img5\"}},"
	    "\"otherPortsAttributes\":{\"onAutoForward\":\"silent\"}}");
	/* the configuration's own still win over the image's */
	ASSERT_STR_EQ(ports_over_image("{}",
			  "{\"portsAttributes\":{\"4000\":{\"label\":\"cfg\"}},"
			  "\"otherPortsAttributes\":{\"onAutoForward\":\"notify\"}}",
			  "{\"portsAttributes\":{\"4000\":{\"label\":\"img\"}},"
			  "\"otherPortsAttributes\":{\"onAutoForward\":\"silent\"}}"),
	    "{\"portsAttributes\":{\"4000\":{\"label\":\"cfg\"}},"
	    "\"otherPortsAttributes\":{\"onAutoForward\":\"notify\"}}");
	/* a null otherPortsAttributes is no value: the image's stays, as the
	 * merge's last truthy one */
	ASSERT_STR_EQ(ports_over_image("{}", "{\"otherPortsAttributes\":null}",
			  "{\"otherPortsAttributes\":{\"onAutoForward\":\"silent\"}}"),
	    "{\"portsAttributes\":{},\"otherPortsAttributes\":"
	    "{\"onAutoForward\":\"silent\"}}");
}

TEST(ports_attributes_of_an_old_container)
{
	/* no label (made before rdev wrote it): overlay only, a removed key
	 * stays (docs/CLI.md) */
	ASSERT_STR_EQ(ports_over_image("{\"portsAttributes\":{\"4000\":"
				       "{\"label\":\"removed\"}}}",
			  "{\"portsAttributes\":{\"3000\":{}}}", NULL),
	    "{\"portsAttributes\":{\"3000\":{},\"4000\":{\"label\":"
	    "\"removed\"}}}");
}

TEST(ports_to_forward)
{
	cJSON *m = parse("{\"image\":\"x\",\"forwardPorts\":[3000,\"db:5432\"],"
			 "\"portsAttributes\":{\"4000\":{}},\"init\":true}"),
	      *c = parse("{\"forwardPorts\":[3000],\"portsAttributes\":{\"3000\":"
			 "{\"label\":\"w\"}}}"),
	      *i = parse("{\"forwardPorts\":[\"db:5432\"]}"), *out;

	/* only the three properties, merged's left alone */
	out = config_merge_ports(m, c, i);
	ASSERT_STR_EQ(keep(out),
	    "{\"forwardPorts\":[\"db:5432\",3000],"
	    "\"portsAttributes\":{\"3000\":{\"label\":\"w\"}}}");
	cJSON_Delete(out);
	ASSERT_STR_EQ(keep(m),
	    "{\"image\":\"x\",\"forwardPorts\":[3000,"
	    "\"db:5432\"],\"portsAttributes\":{\"4000\":{}},"
	    "\"init\":true}");
	cJSON_Delete(m);
	cJSON_Delete(c);
	cJSON_Delete(i);
}

/* forwardPorts for a reused container: the union a new container's merge
 * would make of the image's and the configuration's as it is now (a port
 * added counts at once, one removed goes); without the image's (a
 * container made before rdev recorded it) the frozen ones stay and the
 * configuration's are added. "localhost:N" is N, as the merge's. */
TEST(forward_ports_of_a_reused_container)
{
	cJSON *m = parse("{\"forwardPorts\":[3000,\"db:5432\",4000]}"),
	      *c = parse("{\"forwardPorts\":[4000,\"localhost:8080\"]}"),
	      *i = parse("{\"forwardPorts\":[\"db:5432\"]}"), *none = parse("{}"),
	      *i0 = parse("{\"forwardPorts\":[]}"), *out;

	out = config_merge_ports(m, c, i);
	ASSERT_STR_EQ(keep(out),
	    "{\"forwardPorts\":[\"db:5432\",4000,8080],\"portsAttributes\":{}}");
	cJSON_Delete(out);
	out = config_merge_ports(m, c, NULL);
	ASSERT_STR_EQ(keep(out), "{\"forwardPorts\":[3000,\"db:5432\",4000,8080]}");
	cJSON_Delete(out);
	/* the image gave none ([]), the configuration has none now */
	out = config_merge_ports(m, none, i0);
	ASSERT_STR_EQ(keep(out), "{\"portsAttributes\":{}}");
	cJSON_Delete(out);
	/* a label without forwardPorts (written before rdev recorded them):
	 * not known, the frozen ones stay */
	out = config_merge_ports(m, none, none);
	ASSERT_STR_EQ(keep(out),
	    "{\"forwardPorts\":[3000,\"db:5432\",4000],\"portsAttributes\":{}}");
	cJSON_Delete(out);
	/* what the image's entries give is recorded */
	ASSERT_STR_EQ(ports_of_entries("[{\"forwardPorts\":[1,\"localhost:2\"]},"
				       "{\"forwardPorts\":[2,\"s:3\"]}]"),
	    "{\"forwardPorts\":[1,2,\"s:3\"]}");
	cJSON_Delete(m);
	cJSON_Delete(c);
	cJSON_Delete(i);
	cJSON_Delete(none);
	cJSON_Delete(i0);
}
