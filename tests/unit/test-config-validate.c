/* test-config-validate.c - unit tests for common/config-validate*.c. */
#include "test.h"

#include "config-validate.h"
#include "jsonc.h"
#include "xmalloc.h"

struct result {
	int rc;
	enum config_kind kind;
	char *cause;
	struct config_warnings warnings;
};

static void
validate(const char *text, struct result *r)
{
	struct jsonc_doc *doc;
	char *cause = NULL;

	memset(r, 0, sizeof *r);
	r->kind = (enum config_kind) - 1;
	doc = jsonc_parse("devcontainer.json", text, strlen(text), &cause);
	if (doc == NULL) {
		fprintf(stderr, "  bad test JSON: %s\n", cause);
		free(cause);
		r->rc = -2;
		return;
	}
	r->rc = config_validate(doc, &r->kind, &r->warnings, &r->cause);
	jsonc_doc_free(doc);
}

static void
result_free(struct result *r)
{
	free(r->cause);
	config_warnings_clear(&r->warnings);
}

/* The warnings joined with "\n", for assertions; caller frees. */
static char *
warnings_text(const struct config_warnings *w)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < w->count; i++)
		len += strlen(w->items[i]) + 1;
	s = xcalloc(1, len);
	for (i = 0; i < w->count; i++) {
		strcat(s, w->items[i]);
		strcat(s, "\n");
	}
	return s;
}

/* config_validate_up() on a document that config_validate() accepts. */
static void
validate_up(const char *text, int forwards, struct result *r)
{
	struct jsonc_doc *doc;
	char *cause = NULL;

	memset(r, 0, sizeof *r);
	doc = jsonc_parse("devcontainer.json", text, strlen(text), &cause);
	if (doc == NULL || config_validate(doc, &r->kind, NULL, &cause) != 0) {
		fprintf(stderr, "  bad test config: %s\n", cause);
		free(cause);
		jsonc_doc_free(doc);
		r->rc = -2;
		return;
	}
	r->rc = config_validate_up(doc, forwards, &r->warnings, &r->cause);
	jsonc_doc_free(doc);
}

/* validate_up(text) with forwards: want NULL, it passes; else it fails
 * with the cause want. */
static void
up_want(const char *text, const char *want)
{
	struct result r;

	validate_up(text, 1, &r);
	ASSERT_INT_EQ(r.rc, want != NULL ? -1 : 0);
	if (want != NULL)
		ASSERT_STR_EQ(r.cause, want);
	result_free(&r);
}

/* A configuration read (or checked for up) once, and what comes of it. */
struct validate_case {
	const char *name;
	enum { VALIDATE_READ, VALIDATE_UP, VALIDATE_UP_UNFORWARDED } step;
	const char *text;
	int rc;
	const char *kind;     /* config_kind_name() of the kind, or NULL */
	const char *cause;    /* the error, or NULL */
	const char *warnings; /* warnings_text(), or NULL: not checked */
};

static const struct validate_case validate_cases[] = {
	{ .name = "kind_image",
	    .text = "{\"image\": \"debian\"}",
	    .kind = "image",
	    .warnings = "" },
	{ .name = "kind_dockerfile_build",
	    .text = "{\"build\": {\"dockerfile\": \"Dockerfile\", \"context\": \"..\"}}",
	    .kind = "dockerfile" },
	{ .name = "kind_dockerfile_legacy",
	    .text = "{\"dockerFile\": \"Dockerfile\", \"context\": \".\"}",
	    .kind = "dockerfile",
	    .warnings = "" },
	{ .name = "kind_compose",
	    .text = "{\"dockerComposeFile\": [\"a.yml\", \"b.yml\"], "
		    "\"service\": \"app\", \"runServices\": [\"app\", \"db\"]}",
	    .kind = "compose" },
	{ .name = "kind_dockerfile_wins_over_image_like_reference",
	    .text = "{\"image\": \"x\",\n \"build\": {\"dockerfile\": \"D\"}}",
	    .kind = "dockerfile",
	    .warnings = "devcontainer.json:1:2: \"image\" is ignored in a "
			"configuration of kind dockerfile\n" },
	{ .name = "compose_without_service",
	    .text = "{\n  \"dockerComposeFile\": \"docker-compose.yml\"\n}",
	    .rc = -1,
	    .cause = "devcontainer.json:2:24: \"dockerComposeFile\": "
		     "\"service\" is missing (it names the container to work in)" },
	{ .name = "no_container_source",
	    .text = "{\"name\": \"x\"}",
	    .rc = -1,
	    .cause = "devcontainer.json:1:1: configuration: no "
		     "container to run: set \"image\", \"build\".\"dockerfile\" (or "
		     "the legacy \"dockerFile\") or \"dockerComposeFile\" with "
		     "\"service\"" },
	{ .name = "build_without_dockerfile",
	    .text = "{\"build\": {\"context\": \"..\"}}",
	    .rc = -1,
	    .cause = "devcontainer.json:1:11: \"build\": \"dockerfile\" "
		     "is missing (and there is no \"image\" or \"dockerComposeFile\")" },
	{ .name = "root_must_be_object",
	    .text = "[1]",
	    .rc = -1,
	    .cause = "devcontainer.json:1:1: configuration: expected "
		     "an object, got array" },
	{ .name = "error_names_path_and_location",
	    .text = "{\n"
		    "  \"image\": \"debian\",\n"
		    "  \"forwardPorts\": [3000, \"db:5432\", {\"port\": 1}]\n"
		    "}",
	    .rc = -1,
	    .cause = "devcontainer.json:3:37: \"forwardPorts\"[2]: "
		     "expected a number or \"host:port\" string, got object" },
	{ .name = "forward_port_with_protocol_says_only_tcp",
	    .text = "{\"image\": \"x\", \"forwardPorts\": [\"db:53/udp\"]}",
	    .rc = -1,
	    .cause = "devcontainer.json:1:33: \"forwardPorts\"[0]: expected a number "
		     "or \"host:port\" string (only TCP is forwarded), "
		     "got \"db:53/udp\"" },
	{ .name = "forward_port_with_tcp_says_write_it_without",
	    .text = "{\"image\": \"x\", \"forwardPorts\": [\"3000/tcp\"]}",
	    .rc = -1,
	    .cause = "devcontainer.json:1:33: \"forwardPorts\"[0]: expected a number "
		     "or \"host:port\" string (without /tcp: ports are forwarded over "
		     "TCP), got \"3000/tcp\"" },
	{ .name = "forward_port_with_a_slash_elsewhere_is_not_a_port",
	    .text = "{\"image\": \"x\", \"forwardPorts\": [\"a/b:3\"]}",
	    .rc = -1,
	    .cause = "devcontainer.json:1:33: \"forwardPorts\"[0]: expected a number "
		     "or \"host:port\" string, got \"a/b:3\"" },
	{ .name = "nested_error_path",
	    .text = "{\"build\": {\"dockerfile\": \"D\", \"args\": {\"A\": 1}}}",
	    .rc = -1,
	    .cause = "devcontainer.json:1:45: \"build\".\"args\".\"A\": "
		     "expected a string, got number" },
	{ .name = "a_variable_left_as_written_is_a_warning",
	    .text = "{\n  \"image\": \"x\",\n"
		    "  \"containerEnv\": {\"A\": \"${nope:X}\", \"B\": "
		    "\"${localenv:H}\",\n"
		    "    \"C\": \"${localEnv:NOPE} ${containerEnv:P} ${devcontainerId} "
		    "${localEnv:} ${env::d}\"},\n"
		    "  \"runArgs\": [\"${containerEnv}\", "
		    "\"${containerEnv:P\"],\n"
		    "  \"mounts\": [\"${a${b}\"],\n"
		    "  \"customizations\": {\"vscode\": {\"x\": "
		    "\"${workspaceFolder}\"}},\n"
		    "  \"postCreateCommand\": \"echo ${HOME}\",\n"
		    "  \"features\": {\"f\": {\"o\": \"${HOME}\"}}\n}",
	    .warnings =
		"devcontainer.json:3:20: \"containerEnv\".\"A\": unknown variable "
		"${nope:X} left as written\n"
		"devcontainer.json:3:38: \"containerEnv\".\"B\": unknown variable "
		"${localenv:H} left as written\n"
		"devcontainer.json:5:15: \"runArgs\"[0]: variable ${containerEnv} "
		"names no variable: left as written\n"
		"devcontainer.json:5:34: \"runArgs\"[1]: unclosed variable "
		"${containerEnv:P left as written\n"
		"devcontainer.json:6:14: \"mounts\"[0]: unknown variable ${a${b} left "
		"as written\n" },
	/* A property given twice: the first is dropped (as JSON.parse does),
	 * with a warning naming both places. */
	{ .name = "duplicate_property_is_a_warning",
	    .text = "{\n  \"image\": \"x\",\n  \"containerEnv\": {\"A\": \"1\", \"A\": "
		    "\"2\"},\n"
		    "  \"image\": \"y\"\n}",
	    .warnings = "devcontainer.json:3:20: duplicate property \"A\": dropped "
			"for the one at 3:30\n"
			"devcontainer.json:2:3: duplicate property \"image\": "
			"dropped for the one at 4:3\n" },
	{ .name = "unknown_property_is_a_warning",
	    .text = "{\n  \"image\": \"x\",\n  \"foo\": 1,\n"
		    "  \"build\": {\"bar\": true},\n"
		    "  \"portsAttributes\": {\"80\": {\"colour\": \"red\"}}\n}",
	    .warnings = "devcontainer.json:3:3: unknown property \"foo\"\n"
			"devcontainer.json:4:13: unknown property \"build\".\"bar\"\n"
			"devcontainer.json:4:3: \"build\" is ignored in a "
			"configuration of kind image\n"
			"devcontainer.json:5:30: unknown property "
			"\"portsAttributes\".\"80\".\"colour\"\n" },
	{ .name = "up_empty_features_and_plain_config_pass",
	    .step = VALIDATE_UP,
	    .text = "{\"image\": \"x\", \"features\": {}, \"forwardPorts\": [3000], "
		    "\"hostRequirements\": {\"gpu\": false}, \"secrets\": {}, "
		    "\"shutdownAction\": \"none\", \"overrideFeatureInstallOrder\": "
		    "[], \"portsAttributes\": {\"3000\": {\"label\": \"web\", "
		    "\"protocol\": \"http\", \"elevateIfNeeded\": false}, "
		    "\"9000-9100\": {}}, \"customizations\": {\"vscode\": {}}}",
	    .warnings = "" },
	{ .name = "up_host_requirements_warned",
	    .step = VALIDATE_UP,
	    .text = "{\"image\": \"x\",\n  \"hostRequirements\": {\"cpus\": 2, "
		    "\"memory\": \"4gb\", \"gpu\": \"optional\"}}",
	    .warnings = "devcontainer.json:2:3: \"hostRequirements\": \"gpu\": "
			"\"optional\": the container gets no GPU (rdev gives none "
			"yet)\n" },
	{ .name = "up_harmless_properties_warned_once_each",
	    .step = VALIDATE_UP_UNFORWARDED,
	    .text = "{\"image\": \"x\",\n"
		    "\"secrets\": {\"A\": {}, \"B\": {\"description\": \"b\"}},\n"
		    "\"shutdownAction\": \"stopContainer\",\n"
		    "\"overrideFeatureInstallOrder\": [\"f\"],\n"
		    "\"forwardPorts\": [3000]}",
	    .warnings =
		"devcontainer.json:2:1: \"secrets\": not supplied: rdev has no "
		"secrets store; A, B are set only when --secrets-file gives them\n"
		"devcontainer.json:3:1: \"shutdownAction\": \"stopContainer\" is not "
		"acted on: the container keeps running after `up`, exec and shell "
		"until `rdev stop` or `rdev down`\n"
		"devcontainer.json:5:1: \"forwardPorts\": not forwarded: rdev-agent "
		"does not forward ports (`rdev up` does); from this machine, reach "
		"them at the container's address\n" },
	{ .name = "up_workspace_mount_without_workspace_folder_warned",
	    .step = VALIDATE_UP,
	    .text = "{\"image\": \"x\",\n"
		    "\"workspaceMount\": \"source=${localWorkspaceFolder},"
		    "target=/src,type=bind\"}",
	    .warnings = "devcontainer.json:2:1: \"workspaceMount\": mounts at "
			"\"/src\" but \"workspaceFolder\" is not set: commands and "
			"exec start in /workspaces/<folder name>, which this mount "
			"does not make; set \"workspaceFolder\": \"/src\"\n" },
	{ .name = "up_workspace_mount_with_its_folder_or_under_workspaces_passes",
	    .step = VALIDATE_UP,
	    .text =
		"{\"image\": \"x\", \"workspaceMount\": "
		"\"type=bind,src=/a,dst=/workspaces/${localWorkspaceFolderBasename}\"}",
	    .warnings = "" },
	{ .name = "up_workspace_mount_at_the_host_path_warned_any_key_case",
	    .step = VALIDATE_UP,
	    .text = "{\"image\": \"x\", \"workspaceMount\": "
		    "\"type=bind,Source=/a,Target=${localWorkspaceFolder}\"}",
	    .warnings = "devcontainer.json:1:16: \"workspaceMount\": mounts at "
			"\"${localWorkspaceFolder}\" but \"workspaceFolder\" is not "
			"set: commands and exec start in /workspaces/<folder name>, "
			"which this mount does not make; set \"workspaceFolder\": "
			"\"${localWorkspaceFolder}\"\n" },
	/* The target as docker reads it (mount-string.h): a quoted field. */
	{ .name = "up_workspace_mount_quoted_target_warned",
	    .step = VALIDATE_UP,
	    .text = "{\"image\": \"x\", \"workspaceMount\": "
		    "\"type=bind,source=/a,\\\"dst=/src,b\\\"\"}",
	    .warnings = "devcontainer.json:1:16: \"workspaceMount\": mounts at "
			"\"/src,b\" but \"workspaceFolder\" is not set: commands and "
			"exec start in /workspaces/<folder name>, which this mount "
			"does not make; set \"workspaceFolder\": \"/src,b\"\n" },
	{ .name = "up_workspace_mount_and_workspace_folder_pass",
	    .step = VALIDATE_UP,
	    .text = "{\"image\": \"x\", \"workspaceFolder\": \"/src\", "
		    "\"workspaceMount\": \"source=/a,target=/src,type=bind\"}",
	    .warnings = "" },
	/* elevateIfNeeded is about ports below 1024: on 3000 (a range from 1024
	 * too) it needs nothing, and is not warned of; a range reaching below
	 * 1024 is. */
	{ .name = "up_elevate_if_needed_only_below_1024",
	    .step = VALIDATE_UP,
	    .text = "{\"image\": \"x\", \"forwardPorts\": [3000],\n"
		    "\"portsAttributes\": {\"3000\": {\"elevateIfNeeded\": true},\n"
		    "\"1024-2000\": {\"elevateIfNeeded\": true},\n"
		    "\"1000-2000\": {\"elevateIfNeeded\": true}}}",
	    .warnings = "devcontainer.json:4:15: "
			"\"portsAttributes\".\"1000-2000\".\"elevateIfNeeded\": "
			"rdev does not elevate: a port below 1024 that this user may "
			"not bind is forwarded from the port plus 10000 (80 from "
			"10080), or the next free one (with requireLocalPort: not "
			"forwarded, an error)\n" },
	/* A name with '=' would set another variable ("B=C": "v" is B set
	 * to "C=v", as docker reads "B=C=v"); an empty one is no variable. */
	{ .name = "container_env_name_with_equals",
	    .text =
		"{\"image\": \"x\",\n  \"containerEnv\": {\"A\": \"1\", \"B=C\": \"v\"}}",
	    .rc = -1,
	    .cause = "devcontainer.json:2:30: \"containerEnv\".\"B=C\": an environment "
		     "variable's name cannot hold '=' (NAME=VALUE would set \"B\" to "
		     "\"C=...\")" },
	{ .name = "remote_env_empty_name",
	    .text = "{\"image\": \"x\", \"remoteEnv\": {\"\": null}}",
	    .rc = -1,
	    .cause =
		"devcontainer.json:1:30: \"remoteEnv\".\"\": an environment variable "
		"needs a name" },
	{ .name = "remote_env_name_with_equals",
	    .text = "{\"image\": \"x\", \"remoteEnv\": {\"=X\": \"v\"}}",
	    .rc = -1,
	    .cause = "devcontainer.json:1:30: \"remoteEnv\".\"=X\": an environment "
		     "variable's name cannot hold '=' (NAME=VALUE would set \"\" to "
		     "\"X=...\")" },
	{ .name = "up_forward_ports_fine_when_forwarded",
	    .step = VALIDATE_UP,
	    .text = "{\"image\": \"x\", \"forwardPorts\": [3000, \"db:5432\"]}",
	    .warnings = "" },
};

/* Run one validate_cases row: its step on its text, then each outcome it
 * names. */
static void
validate_check(const void *arg)
{
	const struct validate_case *c = arg;
	struct result r;
	char *w;

	if (c->step == VALIDATE_READ)
		validate(c->text, &r);
	else
		validate_up(c->text, c->step == VALIDATE_UP, &r);
	ASSERT_INT_EQ(r.rc, c->rc);
	if (c->kind != NULL)
		ASSERT_STR_EQ(config_kind_name(r.kind), c->kind);
	if (c->cause != NULL)
		ASSERT_STR_EQ(r.cause, c->cause);
	if (c->warnings != NULL) {
		w = warnings_text(&r.warnings);
		ASSERT_STR_EQ(w, c->warnings);
		free(w);
	}
	result_free(&r);
}
TEST_CASES(validate_check, validate_cases)

/* ${env} and ${localEnv} without a name fail the substitution wherever they
 * are (the reference's error, which says neither line nor property), and
 * ${containerEnv} where up substitutes it (remoteEnv, the ports): errors
 * naming the line and the property, before anything is made. */
TEST(a_variable_without_a_name_is_an_error)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "{\"image\": \"x\",\n  \"postCreateCommand\": [\"echo\", "
		  "\"${localEnv}\"]}",
		    "devcontainer.json:2:33: \"postCreateCommand\"[1]: '${localEnv}' can "
		    "not be resolved because no environment variable name is given "
		    "(write ${localEnv:NAME})" },
		{ "{\"image\": \"x\",\n  \"features\": {\"f\": {\"o\": \"a${env}\"}}}",
		    "devcontainer.json:2:27: \"features\".\"f\".\"o\": '${env}' can not "
		    "be resolved because no environment variable name is given "
		    "(write ${env:NAME})" },
	};
	struct result r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		validate(cases[i].text, &r);
		ASSERT_INT_EQ(r.rc, -1);
		ASSERT_STR_EQ(r.cause, cases[i].want);
		result_free(&r);
	}
	/* Read (read-configuration, status, logs: as the reference reads it),
	 * ${containerEnv} without a name is a warning even where up would
	 * fail on it (up_container_env_without_a_name_is_an_error); where up
	 * leaves it as written too; a lifecycle command's is the shell's
	 * business. */
	validate(
	    "{\"image\": \"x\",\n  \"remoteEnv\": {\"A\": \"${containerEnv}\"}}", &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ((int)r.warnings.count, 1);
	result_free(&r);
	validate("{\"image\": \"x\", \"containerEnv\": {\"A\": \"${containerEnv}\"},\n"
		 "  \"postStartCommand\": \"echo ${containerEnv} ${nope}\"}",
	    &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ((int)r.warnings.count, 1);
	result_free(&r);
}

/* A typo of a known property says which one it likely is; one of the
 * orchestration's is the error, at its place (its warning would not be
 * seen). */
TEST(unknown_property_typo_names_the_likely_one)
{
	struct result r;
	char *w;

	validate("{\"image\": \"x\", \"postCreatCommand\": \"a\", \"forwardports\": [1], "
		 "\"nmae\": \"n\", \"foo\": 1}",
	    &r);
	ASSERT_INT_EQ(r.rc, 0);
	w = warnings_text(&r.warnings);
	ASSERT_STR_EQ(w,
	    "devcontainer.json:1:16: unknown property \"postCreatCommand\" (did you "
	    "mean \"postCreateCommand\"?)\n"
	    "devcontainer.json:1:41: unknown property \"forwardports\" (did you "
	    "mean \"forwardPorts\"?)\n"
	    "devcontainer.json:1:62: unknown property \"nmae\"\n"
	    "devcontainer.json:1:75: unknown property \"foo\"\n");
	free(w);
	result_free(&r);
	validate("{\n  \"imagee\": \"x\"}", &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_EQ(r.cause,
	    "devcontainer.json:2:3: configuration: no container to run: unknown "
	    "property \"imagee\" (did you mean \"image\"?)");
	result_free(&r);
	validate("{\"dockerComposeFiles\": \"c.yml\", \"service\": \"s\"}", &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_CONTAINS(r.cause, "(did you mean \"dockerComposeFile\"?)");
	result_free(&r);
}

/* Names are case-sensitive (as the reference's JSON): "Image" is no image,
 * whose up then crashed (an image configuration without one), but the
 * typo's error at its place; so is a "Service" of Compose's. */
TEST(orchestration_names_are_case_sensitive)
{
	struct result r;

	validate("{\n  \"Image\": \"x\"}", &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_EQ(r.cause,
	    "devcontainer.json:2:3: configuration: no container to run: unknown "
	    "property \"Image\" (did you mean \"image\"?)");
	result_free(&r);
	validate("{\"dockerfile\": \"D\"}", &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_CONTAINS(r.cause, "(did you mean \"dockerFile\"?)");
	result_free(&r);
	validate("{\"dockerComposeFile\": \"c.yml\", \"Service\": \"s\"}", &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_CONTAINS(r.cause, "\"service\" is missing");
	result_free(&r);
}

TEST(kind_specific_properties_warned)
{
	struct result r;
	char *w;

	validate("{\"dockerComposeFile\": \"c.yml\", \"service\": \"s\", "
		 "\"appPort\": 80, \"runArgs\": [], \"workspaceMount\": \"\"}",
	    &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.warnings.count, 3);
	w = warnings_text(&r.warnings);
	ASSERT_STR_CONTAINS(
	    w, "\"appPort\" is ignored in a configuration of kind compose");
	ASSERT_STR_CONTAINS(w, "\"runArgs\" is ignored");
	ASSERT_STR_CONTAINS(w, "\"workspaceMount\" is ignored");
	free(w);
	result_free(&r);
}

TEST(lifecycle_command_forms)
{
	static const char *const good[] = {
		"\"echo hi\"",
		"[\"echo\", \"hi\"]",
		"[]",
		"{\"a\": \"echo a\", \"b\": [\"echo\", \"b\"]}",
		"{}",
	};
	static const struct {
		const char *value, *want;
	} bad[] = {
		{ "1",
		    "\"postCreateCommand\": expected a string, an array of "
		    "strings or an object of commands, got number" },
		{ "[\"a\", 2]",
		    "\"postCreateCommand\"[1]: expected a string, got number" },
		{ "{\"a\": 1}",
		    "\"postCreateCommand\".\"a\": expected a string or "
		    "an array of strings, got number" },
		{ "{\"a\": [true]}",
		    "\"postCreateCommand\".\"a\"[0]: expected a "
		    "string, got boolean" },
		{ "null",
		    "expected a string, an array of strings or an object of "
		    "commands, got null" },
	};
	struct result r;
	char *text;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		text =
		    xasprintf("{\"image\": \"x\", \"postCreateCommand\": %s}", good[i]);
		validate(text, &r);
		free(text);
		if (r.rc != 0)
			TEST_FAIL("%s: %s", good[i], r.cause);
		result_free(&r);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		text = xasprintf(
		    "{\"image\": \"x\", \"postCreateCommand\": %s}", bad[i].value);
		validate(text, &r);
		free(text);
		ASSERT_INT_EQ(r.rc, -1);
		ASSERT_STR_CONTAINS(r.cause, bad[i].want);
		result_free(&r);
	}
}

/* Every known property with a value of the wrong type or form. */
static const struct {
	const char *prop, *value, *want;
} bad_values[] = {
	{ "$schema", "1", "\"$schema\": expected a string, got number" },
	{ "name", "[]", "\"name\": expected a string, got array" },
	{ "image", "true", "\"image\": expected a string, got boolean" },
	{ "build", "\"Dockerfile\"", "\"build\": expected an object, got string" },
	{ "dockerFile", "{}", "\"dockerFile\": expected a string, got object" },
	{ "context", "1", "\"context\": expected a string, got number" },
	{ "dockerComposeFile", "[1]",
	    "\"dockerComposeFile\"[0]: expected a string, got number" },
	{ "service", "1", "\"service\": expected a string, got number" },
	{ "runServices", "\"app\"",
	    "\"runServices\": expected an array of strings, got string" },
	{ "appPort", "{}",
	    "\"appPort\": expected a number, a string or an array, got object" },
	{ "runArgs", "[\"--init\", 1]", "\"runArgs\"[1]: expected a string, got number" },
	{ "workspaceMount", "1", "\"workspaceMount\": expected a string, got number" },
	{ "workspaceFolder", "null", "\"workspaceFolder\": expected a string, got null" },
	{ "shutdownAction", "\"stopCompose\"",
	    "\"shutdownAction\": expected \"none\" or \"stopContainer\", got "
	    "\"stopCompose\"" },
	{ "overrideCommand", "\"yes\"",
	    "\"overrideCommand\": expected a boolean, got string" },
	{ "features", "[]", "\"features\": expected an object of features, got array" },
	{ "overrideFeatureInstallOrder", "[1]",
	    "\"overrideFeatureInstallOrder\"[0]: expected a string, got number" },
	{ "secrets", "{\"T\": \"x\"}",
	    "\"secrets\".\"T\": expected an object, got string" },
	{ "forwardPorts", "[70000]",
	    "\"forwardPorts\"[0]: expected a port number (1-65535), got 70000" },
	{ "forwardPorts", "[3000, 0]",
	    "\"forwardPorts\"[1]: expected a port number (1-65535), got 0" },
	{ "forwardPorts", "[-1]",
	    "\"forwardPorts\"[0]: expected a port number (1-65535), got -1" },
	{ "forwardPorts", "[\"db:0\"]",
	    "\"forwardPorts\"[0]: expected a number or \"host:port\" string, got "
	    "\"db:0\"" },
	{ "forwardPorts", "[\"db:65536\"]",
	    "\"forwardPorts\"[0]: expected a number or \"host:port\" string, got "
	    "\"db:65536\"" },
	{ "portsAttributes", "{\"80\": {\"onAutoForward\": \"never\"}}",
	    "\"portsAttributes\".\"80\".\"onAutoForward\": expected \"notify\", "
	    "\"openBrowser\", \"openBrowserOnce\", \"openPreview\", \"silent\" or "
	    "\"ignore\", got \"never\"" },
	{ "otherPortsAttributes", "{\"protocol\": \"ftp\"}",
	    "\"otherPortsAttributes\".\"protocol\": expected \"http\" or \"https\", got "
	    "\"ftp\"" },
	{ "updateRemoteUserUID", "1",
	    "\"updateRemoteUserUID\": expected a boolean, got number" },
	{ "containerEnv", "{\"A\": null}",
	    "\"containerEnv\".\"A\": expected a string, got null" },
	{ "containerUser", "0", "\"containerUser\": expected a string, got number" },
	{ "mounts", "[{\"source\": \"a\", \"target\": \"/b\"}]",
	    "\"mounts\"[0]: \"type\" is missing" },
	{ "init", "\"true\"", "\"init\": expected a boolean, got string" },
	{ "privileged", "null", "\"privileged\": expected a boolean, got null" },
	{ "capAdd", "\"SYS_PTRACE\"",
	    "\"capAdd\": expected an array of strings, got string" },
	{ "securityOpt", "[null]", "\"securityOpt\"[0]: expected a string, got null" },
	{ "remoteEnv", "{\"A\": 1}",
	    "\"remoteEnv\".\"A\": expected a string or null, got number" },
	{ "remoteUser", "{}", "\"remoteUser\": expected a string, got object" },
	{ "initializeCommand", "1", "\"initializeCommand\": expected a string" },
	{ "onCreateCommand", "true", "\"onCreateCommand\": expected a string" },
	{ "updateContentCommand", "[1]",
	    "\"updateContentCommand\"[0]: expected a string" },
	{ "postCreateCommand", "{\"a\": {}}",
	    "\"postCreateCommand\".\"a\": expected a string or an array of strings, got "
	    "object" },
	{ "postStartCommand", "null", "\"postStartCommand\": expected a string" },
	{ "postAttachCommand", "2", "\"postAttachCommand\": expected a string" },
	{ "waitFor", "\"postAttachCommand\"",
	    "\"waitFor\": expected \"initializeCommand\", \"onCreateCommand\", "
	    "\"updateContentCommand\", \"postCreateCommand\" or \"postStartCommand\", "
	    "got \"postAttachCommand\"" },
	{ "userEnvProbe", "\"bash\"",
	    "\"userEnvProbe\": expected \"none\", \"loginShell\", "
	    "\"loginInteractiveShell\" or \"interactiveShell\", got \"bash\"" },
	{ "hostRequirements", "{\"memory\": \"4GB\"}",
	    "\"hostRequirements\".\"memory\": expected a size such as \"4gb\"" },
	{ "customizations", "[]", "\"customizations\": expected an object, got array" },
	{ "extensions", "\"ms-python.python\"",
	    "\"extensions\": expected an array of strings, got string" },
	{ "settings", "[]", "\"settings\": expected an object, got array" },
	{ "devPort", "80.5", "\"devPort\": expected an integer, got 80.5" },
};

TEST(every_property_type_checked)
{
	struct result r;
	char *text;
	size_t i;

	for (i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
		text = xasprintf("{\"image\": \"x\", \"%s\": %s}", bad_values[i].prop,
		    bad_values[i].value);
		if (strcmp(bad_values[i].prop, "image") == 0)
			text = (free(text),
			    xasprintf("{\"image\": %s}", bad_values[i].value));
		validate(text, &r);
		if (r.rc != -1)
			TEST_FAIL("%s: accepted", text);
		if (strstr(r.cause, bad_values[i].want) == NULL)
			TEST_FAIL("%s: got \"%s\", want \"%s\"", text, r.cause,
			    bad_values[i].want);
		free(text);
		result_free(&r);
	}
}

/* The same properties with good values: accepted, no warning for image. */
static const struct {
	const char *prop, *value;
} good_values[] = {
	{ "$schema", "\"https://x\"" },
	{ "name", "\"n\"" },
	{ "workspaceFolder", "\"/w\"" },
	{ "workspaceMount", "\"type=bind,source=/a,target=/b\"" },
	{ "appPort", "8080" },
	{ "appPort", "\"8000:8010\"" },
	{ "appPort", "[1, \"2:3\"]" },
	{ "runArgs", "[\"--init\"]" },
	{ "shutdownAction", "\"none\"" },
	{ "overrideCommand", "false" },
	{ "features", "{\"ghcr.io/x/y:1\": {}, \"a\": \"latest\", \"b\": true}" },
	{ "overrideFeatureInstallOrder", "[\"a\"]" },
	{ "secrets",
	    "{\"TOKEN\": {\"description\": \"d\", \"documentationUrl\": \"u\"}}" },
	{ "forwardPorts", "[1, 65535, \"db:5432\", \"localhost:3000\", \"my_svc.x:1\"]" },
	{ "portsAttributes",
	    "{\"3000\": {\"label\": \"a\", \"onAutoForward\": \"silent\", "
	    "\"elevateIfNeeded\": true, \"requireLocalPort\": false, \"protocol\": "
	    "\"https\"}}" },
	{ "otherPortsAttributes", "{\"onAutoForward\": \"ignore\"}" },
	{ "updateRemoteUserUID", "true" },
	{ "containerEnv", "{\"A\": \"1\"}" },
	{ "containerUser", "\"root\"" },
	{ "mounts",
	    "[\"type=bind,source=/a,target=/b\", {\"type\": \"volume\", \"source\": "
	    "\"v\", \"target\": \"/v\"}]" },
	{ "init", "true" },
	{ "privileged", "false" },
	{ "capAdd", "[\"SYS_PTRACE\"]" },
	{ "securityOpt", "[]" },
	{ "remoteEnv", "{\"A\": \"x\", \"B\": null}" },
	{ "remoteUser", "\"vscode\"" },
	{ "initializeCommand", "\"true\"" },
	{ "waitFor", "\"onCreateCommand\"" },
	{ "userEnvProbe", "\"none\"" },
	{ "hostRequirements",
	    "{\"cpus\": 2, \"memory\": \"4gb\", \"storage\": \"32\", \"gpu\": "
	    "\"optional\"}" },
	{ "hostRequirements", "{\"gpu\": {\"cores\": 1, \"memory\": \"1tb\"}}" },
	{ "hostRequirements", "{\"gpu\": false}" },
	{ "customizations", "{\"vscode\": {\"extensions\": []}}" },
	{ "extensions", "[\"a.b\"]" },
	{ "settings", "{\"a\": 1}" },
	{ "devPort", "8000" },
};

TEST(good_values_accepted)
{
	struct result r;
	char *text;
	size_t i;

	for (i = 0; i < sizeof good_values / sizeof good_values[0]; i++) {
		text = xasprintf("{\"image\": \"x\", \"%s\": %s}", good_values[i].prop,
		    good_values[i].value);
		validate(text, &r);
		if (r.rc != 0)
			TEST_FAIL("%s: %s", text, r.cause);
		if (r.warnings.count != 0)
			TEST_FAIL("%s: warning %s", text, r.warnings.items[0]);
		free(text);
		result_free(&r);
	}
}

/* Values that are only known after substitution pass the value checks
 * (conformance case variables-nested: the reference accepts
 * "memory": "${localEnv:MEM:2gb}"); their type is still checked. */
TEST(variables_pass_value_checks)
{
	static const char *const ok[] = {
		"\"hostRequirements\": {\"memory\": \"${localEnv:MEM:2gb}\"}",
		"\"hostRequirements\": {\"storage\": \"${localEnv:DISK}gb\"}",
		"\"hostRequirements\": {\"gpu\": \"${localEnv:GPU:optional}\"}",
		"\"waitFor\": \"${localEnv:WAIT_FOR}\"",
		"\"userEnvProbe\": \"${localEnv:PROBE:none}\"",
		"\"forwardPorts\": [\"${localEnv:HOST}:3000\"]",
	};
	struct result r;
	char *text;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		text = xasprintf("{\"image\": \"x\", %s}", ok[i]);
		validate(text, &r);
		if (r.rc != 0)
			TEST_FAIL("%s: %s", text, r.cause);
		free(text);
		result_free(&r);
	}
	/* Not a variable: still checked. Not a string: type still checked. */
	validate("{\"image\": \"x\", \"waitFor\": \"$HOME\"}", &r);
	ASSERT_INT_EQ(r.rc, -1);
	result_free(&r);
	validate("{\"image\": \"x\", \"hostRequirements\": {\"memory\": 4}}", &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_CONTAINS(r.cause, "expected a size string");
	result_free(&r);
}

TEST(mount_type_other_than_bind_or_volume_warned)
{
	struct result r;

	validate("{\"image\": \"x\", \"mounts\": [{\"type\": \"tmpfs\", "
		 "\"target\": \"/t\"}]}",
	    &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.warnings.count, 1);
	ASSERT_STR_CONTAINS(r.warnings.items[0],
	    "\"mounts\"[0].\"type\": mount "
	    "type \"tmpfs\" is neither \"bind\" nor \"volume\"");
	result_free(&r);
}

TEST(compose_shutdown_action)
{
	struct result r;

	validate("{\"dockerComposeFile\": \"c\", \"service\": \"s\", "
		 "\"shutdownAction\": \"stopContainer\"}",
	    &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_CONTAINS(r.cause,
	    "expected \"none\" or \"stopCompose\", got "
	    "\"stopContainer\"");
	result_free(&r);
}

TEST(warnings_null_is_allowed)
{
	struct jsonc_doc *doc;
	enum config_kind kind;
	const char *text = "{\"image\": \"x\", \"foo\": 1}";

	doc = jsonc_parse("d.json", text, strlen(text), NULL);
	ASSERT_NOT_NULL(doc);
	ASSERT_INT_EQ(config_validate(doc, &kind, NULL, NULL), 0);
	jsonc_doc_free(doc);
}

/* Where up substitutes in the container (remoteEnv, the ports),
 * ${containerEnv} without a name cannot be resolved: up's error, at its
 * place, before anything is made. */
TEST(up_container_env_without_a_name_is_an_error)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "{\"image\": \"x\",\n  \"remoteEnv\": {\"A\": \"${containerEnv}\"}}",
		    "devcontainer.json:2:22: \"remoteEnv\".\"A\": '${containerEnv}' can "
		    "not be resolved because no environment variable name is given "
		    "(write ${containerEnv:NAME})" },
		{ "{\"image\": \"x\",\n  \"forwardPorts\": [\"${containerEnv}:80\"]}",
		    "devcontainer.json:2:20: \"forwardPorts\"[0]: '${containerEnv}' can "
		    "not be resolved because no environment variable name is given "
		    "(write ${containerEnv:NAME})" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		up_want(cases[i].text, cases[i].want);
	up_want(
	    "{\"image\": \"x\", \"remoteEnv\": {\"A\": \"${containerEnv:P}\"}}", NULL);
}

/* An object-form lifecycle command's entry with nothing to run is up's
 * error at its place (the reference fails on it once the container is
 * made), not skipped in silence. */
TEST(up_empty_command_entry_is_an_error)
{
	struct result r;

	validate_up("{\"image\": \"x\",\n  \"postCreateCommand\": {\"a\": \"true\", "
		    "\"b\": []}}",
	    1, &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_EQ(r.cause,
	    "devcontainer.json:2:43: \"postCreateCommand\".\"b\": an empty array: "
	    "no command to run (give one, or remove the entry)");
	result_free(&r);
	/* (a whole command that is empty runs nothing, as the reference's) */
	validate_up("{\"image\": \"x\", \"postCreateCommand\": [], \"onCreateCommand\": "
		    "{}, \"postStartCommand\": {\"a\": \"\"}}",
	    1, &r);
	ASSERT_INT_EQ(r.rc, 0);
	result_free(&r);
}

/* "image": "" is up's error at its place, not docker's "empty image name". */
TEST(up_empty_image_is_an_error)
{
	up_want("{\n  \"image\": \"\"}",
	    "devcontainer.json:2:12: \"image\": empty: name the image to run");
	up_want("{\"image\": \"\", \"build\": {\"dockerfile\": \"D\"}}", NULL);
}

/* A relative workspaceFolder is up's error, not each exec's failure. */
TEST(up_relative_workspace_folder_is_an_error)
{
	up_want("{\"image\": \"x\",\n  \"workspaceFolder\": \"src/app\"}",
	    "devcontainer.json:2:22: \"workspaceFolder\": \"src/app\" is not an "
	    "absolute path (a folder in the container: \"/workspaces/...\")");
	up_want("{\"image\": \"x\", \"workspaceFolder\": "
		"\"/w/${localWorkspaceFolderBasename}\"}",
	    NULL);
	/* "": steps and execs start in the container's working directory, as
	 * they did before this check (not a path that fails each of them) */
	up_want("{\"image\": \"x\", \"workspaceFolder\": \"\"}", NULL);
}

/* In what the container is created with, ${containerEnv:NAME} stays as
 * written (as with the reference): said, at its place, once per use; not
 * in remoteEnv, where up substitutes it. */
TEST(up_container_env_at_create_is_warned)
{
	struct result r;

	validate_up("{\"image\": \"x\",\n  \"containerEnv\": {\"PATH\": "
		    "\"${containerEnv:PATH}:/opt/bin\"},\n  \"mounts\": "
		    "[\"type=bind,source=/a,target=${containerEnv:HOME}/a\"],\n  "
		    "\"remoteEnv\": {\"PATH\": \"${containerEnv:PATH}:/x\"}}",
	    1, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.warnings.count, 2);
	ASSERT_STR_EQ(r.warnings.items[0],
	    "devcontainer.json:2:20: \"containerEnv\".\"PATH\": "
	    "${containerEnv:PATH} is left as written, as by the reference CLI: the "
	    "container's environment is not known before it is created "
	    "(\"remoteEnv\" can use it)");
	ASSERT_STR_CONTAINS(r.warnings.items[1],
	    "devcontainer.json:3:14: \"mounts\"[0]: ${containerEnv:HOME} is left");
	result_free(&r);
}

/* The reference's up runs the lifecycle commands with ${containerEnv:...}
 * as written (checked against 0.89.0: `echo ${containerEnv:HOME}` fails
 * with "Bad substitution"): so does up, with a warning at its place. */
TEST(up_container_env_in_lifecycle_commands_is_warned)
{
	struct result r;

	validate_up("{\"image\": \"x\",\n  \"postCreateCommand\": \"echo "
		    "${containerEnv:HOME}\",\n  \"postStartCommand\": {\"a\": [\"echo\", "
		    "\"${containerEnv:CE}\"]},\n  \"initializeCommand\": \"echo "
		    "${containerEnv:X}\"}",
	    1, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.warnings.count, 3);
	ASSERT_STR_EQ(r.warnings.items[0],
	    "devcontainer.json:2:3: \"postCreateCommand\": ${containerEnv:HOME} "
	    "is left as written, as by the reference CLI: lifecycle commands run "
	    "as written (in a shell, $NAME reads the container's environment)");
	ASSERT_STR_CONTAINS(r.warnings.items[1],
	    "devcontainer.json:3:38: \"postStartCommand\".\"a\"[1]: "
	    "${containerEnv:CE} is left as written");
	/* (initializeCommand runs on this machine: no container there) */
	ASSERT_STR_EQ(r.warnings.items[2],
	    "devcontainer.json:4:3: \"initializeCommand\": ${containerEnv:X} is "
	    "left as written, as by the reference CLI: initializeCommand runs on "
	    "this machine, before the container exists (sh says \"Bad "
	    "substitution\"; $NAME reads this machine's environment)");
	result_free(&r);
}

TEST(up_required_gpu_is_an_error)
{
	struct result r;

	up_want("{\"image\": \"x\", \"hostRequirements\": {\"cpus\": 2,\n"
		"  \"gpu\": true}}",
	    "devcontainer.json:2:3: \"hostRequirements\".\"gpu\": "
	    "GPU access is not supported yet (the container would have no GPU); "
	    "remove it or make it \"optional\"");
	validate_up("{\"image\": \"x\", \"hostRequirements\": {\"gpu\": "
		    "{\"cores\": 2}}}",
	    1, &r);
	ASSERT_INT_EQ(r.rc, -1);
	result_free(&r);
}

/* config_validate_up_metadata(): what only the merged configuration has. */
static char *
validate_up_metadata_image(
    const char *text, const char *merged_text, const char *image_text, int forwards)
{
	struct config_warnings w = { 0 };
	struct jsonc_doc *doc =
	    jsonc_parse("devcontainer.json", text, strlen(text), NULL);
	cJSON *merged = cJSON_Parse(merged_text);
	cJSON *image = image_text != NULL ? cJSON_Parse(image_text) : NULL;
	char *out;

	ASSERT_NOT_NULL(doc);
	ASSERT_NOT_NULL(merged);
	ASSERT_TRUE(image_text == NULL || image != NULL);
	config_validate_up_metadata(doc, merged, image, forwards, &w);
	out = warnings_text(&w);
	config_warnings_clear(&w);
	cJSON_Delete(image);
	cJSON_Delete(merged);
	jsonc_doc_free(doc);
	return out;
}

static char *
validate_up_metadata(const char *text, const char *merged_text, int forwards)
{
	return validate_up_metadata_image(text, merged_text, NULL, forwards);
}

/* A reused container's merged configuration ends with the configuration's
 * entry as it was made: a port attribute since removed from the
 * configuration is not the image's (its recorded ports say what is). */
TEST(up_metadata_ports_are_the_images_recorded_ones)
{
	const char *merged = "{\"image\": \"x\", \"portsAttributes\": "
			     "{\"3000\": {\"protocol\": \"https\"}, "
			     "\"80\": {\"elevateIfNeeded\": true}}}";
	char *w;

	w = validate_up_metadata_image("{\"image\": \"x\"}", merged,
	    "{\"portsAttributes\": {\"80\": {\"elevateIfNeeded\": true}}}", 1);
	ASSERT_STR_EQ(w,
	    "the image's devcontainer.metadata: \"portsAttributes\".\"80\"."
	    "\"elevateIfNeeded\": rdev does not elevate: a port below 1024 that this "
	    "user may not bind is "
	    "forwarded from the port plus 10000 (80 from 10080), or the next free one "
	    "(with requireLocalPort: not forwarded, an error)\n");
	free(w);
	/* (an image that gave none: nothing) */
	w = validate_up_metadata_image("{\"image\": \"x\"}", merged, "{}", 1);
	ASSERT_STR_EQ(w, "");
	free(w);
}

TEST(up_metadata_only_properties_warned)
{
	const char *merged =
	    "{\"image\": \"x\", \"shutdownAction\": \"stopContainer\", "
	    "\"hostRequirements\": {\"cpus\": 2, \"gpu\": \"optional\"}, "
	    "\"portsAttributes\": {\"80\": {\"elevateIfNeeded\": true}, "
	    "\"npm start\": {}}}";
	char *w;

	w = validate_up_metadata("{\"image\": \"x\"}", merged, 1);
	ASSERT_STR_EQ(w,
	    "the image's devcontainer.metadata: \"shutdownAction\": \"stopContainer\" "
	    "is not acted on: the container keeps running after `up`, exec and shell "
	    "until `rdev stop` or `rdev down`\n"
	    "the image's devcontainer.metadata: \"hostRequirements\": \"gpu\": "
	    "\"optional\": the container gets no GPU (rdev gives none yet)\n"
	    "the image's devcontainer.metadata: \"portsAttributes\".\"80\"."
	    "\"elevateIfNeeded\": rdev does not elevate: a port below 1024 that this "
	    "user may not bind is "
	    "forwarded from the port plus 10000 (80 from 10080), or the next free one "
	    "(with requireLocalPort: not forwarded, an error)\n"
	    "the image's devcontainer.metadata: \"portsAttributes\".\"npm start\": "
	    "not matched: rdev matches port numbers and ranges (\"3000-3010\") only, "
	    "not process command lines or \"host:port\"\n");
	free(w);
	/* What the configuration sets itself was checked (and warned) there. */
	w = validate_up_metadata("{\"image\": \"x\", \"shutdownAction\": \"none\", "
				 "\"hostRequirements\": {\"gpu\": false}, "
				 "\"portsAttributes\": {\"80\": {}, \"npm start\": {}}}",
	    merged, 1);
	ASSERT_STR_EQ(w, "");
	free(w);
	/* Without forwards, ports are not looked at. */
	w = validate_up_metadata("{\"image\": \"x\", \"shutdownAction\": \"none\", "
				 "\"hostRequirements\": {\"gpu\": false}}",
	    merged, 0);
	ASSERT_STR_EQ(w, "");
	free(w);
}

TEST(up_port_attributes_warned_when_forwarded)
{
	struct result r;
	char *w;
	const char *text =
	    "{\"image\": \"x\", \"forwardPorts\": [443],\n"
	    "\"portsAttributes\": {\"443\": {\"protocol\": \"https\",\n"
	    "  \"elevateIfNeeded\": true}, \".+/server.js\": {\"label\": \"s\"}},\n"
	    "\"otherPortsAttributes\": {\"protocol\": \"https\"}}";

	validate_up(text, 1, &r);
	ASSERT_INT_EQ(r.rc, 0);
	w = warnings_text(&r.warnings);
	ASSERT_STR_EQ(w,
	    "devcontainer.json:3:3: \"portsAttributes\".\"443\".\"elevateIfNeeded\": "
	    "rdev does not elevate: a port below 1024 that this user may not bind is "
	    "forwarded from the port plus 10000 (80 from 10080), or the next free one "
	    "(with requireLocalPort: not forwarded, an error)\n"
	    "devcontainer.json:2:29: \"portsAttributes\".\"443\".\"protocol\": "
	    "\"https\" is not used: forwards carry the bytes as they are and the "
	    "URL listed for openBrowser is http://\n"
	    "devcontainer.json:3:29: \"portsAttributes\".\".+/server.js\": not "
	    "matched: rdev matches port numbers and ranges (\"3000-3010\") only, "
	    "not process command lines or \"host:port\"\n"
	    "devcontainer.json:4:26: \"otherPortsAttributes\".\"protocol\": "
	    "\"https\" is not used: forwards carry the bytes as they are and the "
	    "URL listed for openBrowser is http://\n");
	free(w);
	result_free(&r);
	/* Not forwarded at all: one warning, on forwardPorts. */
	validate_up(text, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.warnings.count, 1);
	ASSERT_STR_CONTAINS(r.warnings.items[0], "\"forwardPorts\": not forwarded");
	result_free(&r);
}

/* The keys up warns about are those forward_port_attributes never matches:
 * a port or FROM-TO range written strictly (VS Code takes the rest as
 * patterns). */
TEST(up_port_attribute_keys_warned_as_the_matcher_takes_them)
{
	struct result r;
	const char *text =
	    "{\"image\": \"x\", \"portsAttributes\": {\"03000\": {}, \"3000-3010\": {},\n"
	    "\"3000- 3010\": {}, \"+3000-3010\": {}, \"3000--5\": {},\n"
	    "\"localhost:3000\": {}, \"99999999999999999999-1\": {}}}";

	validate_up(text, 1, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.warnings.count, 5);
	ASSERT_STR_CONTAINS(r.warnings.items[0], "\"3000- 3010\": not matched");
	ASSERT_STR_CONTAINS(r.warnings.items[1], "\"+3000-3010\": not matched");
	ASSERT_STR_CONTAINS(r.warnings.items[2], "\"3000--5\": not matched");
	ASSERT_STR_CONTAINS(r.warnings.items[3], "\"localhost:3000\": not matched");
	ASSERT_STR_CONTAINS(
	    r.warnings.items[4], "\"99999999999999999999-1\": matches no port");
	result_free(&r);
}

/* config_validate_env() on "{containerEnv: {A: raw}}" (remoteEnv with
 * remote set) whose substituted copy holds value instead: rc, *cause. */
static int
env_check(int remote, const char *raw, const char *value, char **cause)
{
	char *text = xasprintf("{\"image\": \"x\",\n  \"%s\": {\"A\": \"%s\"}}",
	    remote ? "remoteEnv" : "containerEnv", raw);
	struct jsonc_doc *doc =
	    jsonc_parse("devcontainer.json", text, strlen(text), cause);
	cJSON *obj;
	int rc;

	ASSERT_TRUE(doc != NULL);
	obj = cJSON_Duplicate(jsonc_doc_root(doc), 1);
	cJSON_ReplaceItemInObjectCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(obj, remote ? "remoteEnv" : "containerEnv"),
	    "A", cJSON_CreateString(value));
	*cause = NULL;
	rc = config_validate_env(doc, obj, cause);
	cJSON_Delete(obj);
	jsonc_doc_free(doc);
	free(text);
	return rc;
}

/* "NAME=VALUE" up to MAX_ARG_STRLEN less its NUL passes; one byte more is
 * an error placed at the value as written, after substitution too: a
 * container with it would exit at once ("exec /bin/sh: argument list too
 * long"), an exec with it could not start. */
TEST(env_entry_longer_than_max_arg_strlen_is_an_error)
{
	size_t fits = CONFIG_ENV_ENTRY_MAX - 2; /* "A=" */
	char *big = xmalloc(fits + 2), *cause;

	memset(big, 'x', fits + 1);
	big[fits] = '\0';
	ASSERT_INT_EQ(env_check(0, "v", big, &cause), 0);
	ASSERT_TRUE(cause == NULL);
	big[fits] = 'x';
	big[fits + 1] = '\0';
	ASSERT_INT_EQ(env_check(0, "v", big, &cause), -1);
	ASSERT_STR_EQ(cause,
	    "devcontainer.json:2:25: \"containerEnv\".\"A\": NAME=VALUE is 131072 "
	    "bytes, over the 131071 one environment string can have (the kernel's "
	    "MAX_ARG_STRLEN, 128 KiB with its NUL): no program could start with it "
	    "(\"argument list too long\") (after its variables were substituted)");
	free(cause);
	ASSERT_INT_EQ(env_check(1, "${localEnv:BIG}", big, &cause), -1);
	ASSERT_STR_CONTAINS(cause,
	    "devcontainer.json:2:22: \"remoteEnv\".\"A\": "
	    "NAME=VALUE is 131072 bytes");
	free(cause);
	free(big);
	ASSERT_INT_EQ(env_check(1, "short", "short", &cause), 0);
}
