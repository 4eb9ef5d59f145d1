/* test-labels.c - unit tests for agent/labels.c: the image's ports label of a
 * container substituted as `up` and read-configuration both take it. */
#include "test.h"

#include "config.h"
#include "env-probe.h"
#include "labels.h"
#include "xmalloc.h"

#define FIXTURE(name) RDEV_TEST_DATA "/config/" name

static struct config *
test_labels_config(void)
{
	struct config_load_opts opts;
	struct config *cfg;
	char *cause = NULL;

	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = FIXTURE("image");
	opts.no_git_root = 1;
	if ((cfg = config_load(&opts, &cause)) == NULL)
		fprintf(stderr, "  config_load: %s\n", cause);
	free(cause);
	return cfg;
}

/* A container inspect with Config.Env env and, when ports is not NULL, the
 * image's ports label holding that JSON text. */
static cJSON *
test_labels_container(const char *env, const char *ports)
{
	cJSON *c = cJSON_CreateObject(), *config, *labels, *e;

	cJSON_AddStringToObject(c, "Id", "0123456789abcdef");
	config = cJSON_AddObjectToObject(c, "Config");
	e = cJSON_AddArrayToObject(config, "Env");
	cJSON_AddItemToArray(e, cJSON_CreateString(env));
	labels = cJSON_AddObjectToObject(config, "Labels");
	if (ports != NULL)
		cJSON_AddStringToObject(labels, LABELS_IMAGE_PORTS, ports);
	return c;
}

/* labels_image_ports_subst() of a container with Config.Env NAME=web and a
 * ports label giving port 3000 the label label: that port's label as
 * substituted (caller frees), or NULL with *cause. */
static char *
test_labels_subst(const char *label, char **cause)
{
	struct config *cfg = test_labels_config();
	cJSON *c, *ports = NULL, *text = cJSON_CreateObject();
	char **env, *json, *got = NULL;

	if (cfg == NULL)
		TEST_FAIL("cannot load the fixture");
	cJSON_AddItemToObject(
	    cJSON_AddObjectToObject(
		cJSON_AddObjectToObject(text, "portsAttributes"), "3000"),
	    "label", cJSON_CreateString(label));
	json = cJSON_PrintUnformatted(text);
	c = test_labels_container("NAME=web", json);
	env = env_from_json(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, "Config"), "Env"));
	*cause = NULL;
	if (labels_image_ports_subst(cfg, c, env, &ports, cause) == 0)
		got = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(ports, "portsAttributes"),
			"3000"),
		    "label")));
	cJSON_Delete(ports);
	env_free(env);
	cJSON_Delete(c);
	cJSON_free(json);
	cJSON_Delete(text);
	config_free(cfg);
	return got;
}

/* `up` used to substitute the label with the local pass only and printed
 * "${containerEnv:NAME}" where read-configuration printed the value. */
TEST(image_ports_take_container_env_and_id)
{
	struct config *cfg = test_labels_config();
	char *cause = NULL, *got, *want;

	ASSERT_NOT_NULL(cfg);
	want = xasprintf("web %s image", config_get_devcontainer_id(cfg));
	config_free(cfg);
	got = test_labels_subst(
	    "${containerEnv:NAME} ${devcontainerId} ${localWorkspaceFolderBasename}",
	    &cause);
	ASSERT_STR_EQ(got, want);
	free(got);
	free(want);
}

/* A variable the reference rejects is an error for both, not left as
 * written by one of them. */
TEST(image_ports_bad_variable_is_an_error)
{
	char *cause = NULL;

	ASSERT_NULL(test_labels_subst("${localEnv}", &cause));
	ASSERT_NOT_NULL(cause);
	ASSERT_TRUE(strstr(cause, "can not be resolved") != NULL);
	free(cause);
}

TEST(image_ports_without_label_is_null)
{
	struct config *cfg = test_labels_config();
	cJSON *c, *ports = NULL;
	char *cause = NULL;

	ASSERT_NOT_NULL(cfg);
	c = test_labels_container("NAME=web", NULL);
	ASSERT_INT_EQ(labels_image_ports_subst(cfg, c, NULL, &ports, &cause), 0);
	ASSERT_NULL(ports);
	ASSERT_NULL(cause);
	cJSON_Delete(c);
	config_free(cfg);
}
