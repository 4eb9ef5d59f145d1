/* test-container-spec.c - unit tests for agent/container-spec.c: the create
 * body made from a merged configuration (pure: no Docker). */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "container-spec.h"
#include "xmalloc.h"

/* The body for merged and config (JSON texts); *cause on failure. */
static cJSON *
body_for(const char *merged_text, const char *config_text, char ***warnings, char **cause)
{
	cJSON *merged = cJSON_Parse(merged_text), *config = cJSON_Parse(config_text);
	cJSON *labels = cJSON_Parse("{\"devcontainer.local_folder\":\"/w\"}"), *body;
	struct container_spec_input in;
	char *name = NULL;

	ASSERT_NOT_NULL(merged);
	ASSERT_NOT_NULL(config);
	memset(&in, 0, sizeof in);
	in.image = "img:1";
	in.merged = merged;
	in.config = config;
	in.workspace_mount = "type=bind,source=/w,target=/workspaces/w";
	in.override_command = 1;
	in.labels = labels;
	*cause = NULL;
	body = container_spec_create_body(&in, &name, warnings, cause);
	free(name);
	cJSON_Delete(merged);
	cJSON_Delete(config);
	cJSON_Delete(labels);
	return body;
}

static const cJSON *
get(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	return b != NULL ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

/* Does node, printed, hold needle? */
static int
printed_has(const cJSON *node, const char *needle)
{
	char *text = cJSON_PrintUnformatted(node);
	int has = text != NULL && strstr(text, needle) != NULL;

	free(text);
	return has;
}

TEST(image_labels_env_and_host_config)
{
	char **warnings = NULL, *cause;
	cJSON *body = body_for("{\"containerEnv\":{\"A\":\"1\"},\"privileged\":true,"
			       "\"capAdd\":[\"SYS_PTRACE\"],\"init\":true}",
	    "{}", &warnings, &cause);

	if (body == NULL)
		TEST_FAIL("%s", cause);
	ASSERT_STR_EQ(get(body, "Image", NULL)->valuestring, "img:1");
	ASSERT_STR_EQ(
	    get(body, "Labels", "devcontainer.local_folder")->valuestring, "/w");
	ASSERT_TRUE(printed_has(get(body, "Env", NULL), "\"A=1\""));
	ASSERT_TRUE(cJSON_IsTrue(get(get(body, "HostConfig", NULL), "Privileged", NULL)));
	ASSERT_TRUE(cJSON_IsTrue(get(get(body, "HostConfig", NULL), "Init", NULL)));
	ASSERT_TRUE(printed_has(get(body, "HostConfig", "CapAdd"), "SYS_PTRACE"));
	container_spec_warnings_free(warnings);
	cJSON_Delete(body);
}

TEST(bad_run_args_name_the_property)
{
	char **warnings = NULL, *cause;
	cJSON *body =
	    body_for("{}", "{\"runArgs\":[\"--no-such-flag\"]}", &warnings, &cause);

	ASSERT_NULL(body);
	ASSERT_STR_CONTAINS(cause, "runArgs[0]");
	free(cause);
	container_spec_warnings_free(warnings);
}

/* A containerEnv entry no program starts with, as merged from the image's
 * metadata or a Feature (the configuration's own were refused when it was
 * loaded): no body, so no container that exits at once. */
TEST(merged_env_no_program_starts_with_is_refused)
{
	char **warnings = NULL, *cause, *big = xmalloc(200001), *text;
	cJSON *body;

	memset(big, 'x', 200000);
	big[200000] = '\0';
	text = xasprintf("{\"containerEnv\":{\"A\":\"1\",\"BIG\":\"%s\"}}", big);
	body = body_for(text, "{}", &warnings, &cause);
	ASSERT_NULL(body);
	ASSERT_STR_CONTAINS(cause,
	    "\"containerEnv\".\"BIG\" (merged with the "
	    "image's metadata and the Features'): NAME=VALUE "
	    "is 200004 bytes, over the 131071");
	free(cause);
	free(text);
	body = body_for("{\"containerEnv\":{\"B=C\":\"v\"}}", "{}", &warnings, &cause);
	ASSERT_NULL(body);
	ASSERT_STR_CONTAINS(cause, "cannot hold '='");
	free(cause);
	free(big);
	container_spec_warnings_free(warnings);
}

TEST(entrypoint_script_runs_entrypoints_then_sleeps)
{
	cJSON *eps = cJSON_Parse("[\"/usr/local/bin/start.sh\"]");
	char *s = container_spec_entrypoint_script(eps);

	ASSERT_STR_CONTAINS(s, "echo Container started");
	ASSERT_STR_CONTAINS(s, "/usr/local/bin/start.sh");
	ASSERT_STR_CONTAINS(s, "sleep");
	free(s);
	cJSON_Delete(eps);
}

TEST(limit_from_host_requirements)
{
	cJSON *body = cJSON_Parse("{\"HostConfig\":{\"Privileged\":true}}");
	cJSON *merged =
	    cJSON_Parse("{\"hostRequirements\":{\"cpus\":1.5,\"memory\":\"536870912\"}}");
	const cJSON *hc;

	container_spec_limit(body, merged);
	hc = cJSON_GetObjectItemCaseSensitive(body, "HostConfig");
	ASSERT_TRUE(cJSON_GetObjectItemCaseSensitive(hc, "NanoCpus")->valuedouble ==
	    1500000000.0);
	ASSERT_TRUE(
	    cJSON_GetObjectItemCaseSensitive(hc, "Memory")->valuedouble == 536870912.0);
	ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hc, "Privileged")));
	cJSON_Delete(merged);
	/* No requirements: no limits. */
	merged = cJSON_Parse(
	    "{\"hostRequirements\":{\"cpus\":null,\"memory\":\"-Infinity\"}}");
	cJSON_Delete(body);
	body = cJSON_Parse("{}");
	container_spec_limit(body, merged);
	hc = cJSON_GetObjectItemCaseSensitive(body, "HostConfig");
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(hc, "NanoCpus"));
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(hc, "Memory"));
	cJSON_Delete(merged);
	cJSON_Delete(body);
}

/* container_spec_check() of config (JSON text): its result, with the
 * property and element at fault and the message. */
static int
check_of(const char *config_text, const char **property, int *index, char **cause)
{
	cJSON *config = cJSON_Parse(config_text);
	int rc;

	ASSERT_NOT_NULL(config);
	*cause = NULL;
	rc = container_spec_check(config, NULL, property, index, cause);
	cJSON_Delete(config);
	return rc;
}

/* What the creation would refuse of the configuration's own mounts, appPort
 * and runArgs is found before anything is built, with the element at fault
 * (for up to point at its line). */
TEST(check_names_the_element_at_fault)
{
	const char *property;
	char *cause;
	int index;

	ASSERT_INT_EQ(check_of("{\"mounts\":[\"type=volume,source=v,target=/v\","
			       "{\"type\":\"bind\",\"source\":\"/x\",\"target\":\"/x\"}],"
			       "\"appPort\":[3000,\"8080:80\"],"
			       "\"runArgs\":[\"--init\",\"--memory\",\"1g\"]}",
			  &property, &index, &cause),
	    0);
	ASSERT_NULL(cause);

	ASSERT_INT_EQ(check_of("{\"mounts\":[\"type=volume,source=v,target=/v\","
			       "\"type=bind,src=/x\"]}",
			  &property, &index, &cause),
	    -1);
	ASSERT_STR_EQ(property, "mounts");
	ASSERT_INT_EQ(index, 1);
	ASSERT_STR_CONTAINS(cause, "mounts[1]: ");
	ASSERT_STR_CONTAINS(cause, "target is required");
	free(cause);

	ASSERT_INT_EQ(
	    check_of("{\"appPort\":[3000,\"x\"]}", &property, &index, &cause), -1);
	ASSERT_STR_EQ(property, "appPort");
	ASSERT_INT_EQ(index, 1);
	/* (not the "runArgs[0]" of the -p rdev makes of it) */
	ASSERT_STR_EQ(cause, "appPort: -p: invalid containerPort: x");
	free(cause);

	ASSERT_INT_EQ(check_of("{\"appPort\":\"x\"}", &property, &index, &cause), -1);
	ASSERT_STR_EQ(property, "appPort");
	ASSERT_INT_EQ(index, -1);
	free(cause);

	ASSERT_INT_EQ(check_of("{\"runArgs\":[\"--init\",\"--memory\",\"lots\"]}",
			  &property, &index, &cause),
	    -1);
	ASSERT_STR_EQ(property, "runArgs");
	ASSERT_INT_EQ(index, 1);
	ASSERT_STR_EQ(cause, "runArgs[1]: --memory: invalid size: 'lots'");
	free(cause);
}
