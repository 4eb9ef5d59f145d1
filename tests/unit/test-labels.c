/* test-labels.c - unit tests for agent/labels.c: the image's ports label of a
 * container substituted as `up` and read-configuration both take it. */
#include "test.h"

#include "config.h"
#include "config-subst.h"
#include "config-validate.h"
#include "env-probe.h"
#include "labels.h"
#include "xmalloc.h"

#define FIXTURE(name) RDEV_TEST_DATA "/config/" name

static struct config *
test_labels_config_of(const char *fixture)
{
	struct config_load_opts opts;
	struct config *cfg;
	char *cause = NULL;

	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = fixture;
	opts.no_git_root = 1;
	if ((cfg = config_load(&opts, &cause)) == NULL)
		fprintf(stderr, "  config_load: %s\n", cause);
	free(cause);
	return cfg;
}

static struct config *
test_labels_config(void)
{
	return test_labels_config_of(FIXTURE("image"));
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

/* A string at obj[k1][k2][k3] (k2, k3 may be NULL), or NULL. */
static const char *
test_labels_get(const cJSON *obj, const char *k1, const char *k2, const char *k3)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, k1);

	if (k2 != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, k2);
	if (k3 != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, k3);
	return cJSON_GetStringValue(v);
}

/* `up` used to run the container pass over the whole configuration, so a
 * bare ${containerEnv} in postCreateCommand failed the ports step (after the
 * container was made); only the ports are its business. */
TEST(ports_take_container_env_only_in_ports)
{
	struct config *cfg = test_labels_config_of(FIXTURE("ports-env"));
	char *env[] = { "NAME=web", "SERVICE=db", NULL }, *cause = NULL;
	cJSON *ports = NULL, *fwd;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(
	    labels_ports(cfg, NULL, config_get_object(cfg), env, &ports, &cause), 0);
	ASSERT_NULL(cause);
	ASSERT_STR_EQ(test_labels_get(ports, "portsAttributes", "3000", "label"), "web");
	ASSERT_STR_EQ(
	    test_labels_get(ports, "otherPortsAttributes", "label", NULL), "web-other");
	fwd = cJSON_GetObjectItemCaseSensitive(ports, "forwardPorts");
	ASSERT_INT_EQ(cJSON_GetArraySize(fwd), 2);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetArrayItem(fwd, 1)), "db:5432");
	/* Nothing but the ports comes back. */
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(ports, "postCreateCommand"));
	cJSON_Delete(ports);
	config_free(cfg);
}

/* A bad variable in the configuration's ports is refused when it is
 * loaded, naming its file, line and the property: not by the ports step,
 * once the container is made. */
TEST(ports_bad_variable_names_file_line_and_property)
{
	struct config_load_opts opts;
	struct config *cfg;
	char *cause = NULL;

	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = FIXTURE("ports-env-bad");
	opts.no_git_root = 1;
	/* (read, as read-configuration reads it: a warning; up refuses it) */
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(config_validate_up(config_get_doc(cfg), 1, NULL, &cause), -1);
	config_free(cfg);
	ASSERT_NOT_NULL(cause);
	ASSERT_STR_CONTAINS(cause,
	    "ports-env-bad/.devcontainer/devcontainer.json:5:40: "
	    "\"portsAttributes\".\"3000\".\"label\": '${containerEnv}' can not be "
	    "resolved");
	free(cause);
}

/* An image whose ports label would fail every up is refused before the
 * container is made (up_create(), compose), not after. */
TEST(ports_check_refuses_bad_image_entry)
{
	struct config *cfg = test_labels_config();
	cJSON *entries = cJSON_Parse("[{\"portsAttributes\": {\"8080\": "
				     "{\"label\": \"${localEnv}\"}}}]");
	cJSON *good = cJSON_Parse("[{\"portsAttributes\": {\"8080\": "
				  "{\"label\": \"${containerEnv:X}\"}}}]");
	char *cause = NULL;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(labels_ports_check(cfg, good, config_get_object(cfg), &cause), 0);
	ASSERT_NULL(cause);
	ASSERT_INT_EQ(
	    labels_ports_check(cfg, entries, config_get_object(cfg), &cause), -1);
	ASSERT_NOT_NULL(cause);
	ASSERT_TRUE(strstr(cause, "image's metadata") != NULL);
	free(cause);
	cJSON_Delete(entries);
	cJSON_Delete(good);
	config_free(cfg);
}

/* The git root choice made by up --mount-workspace-git-root false is read
 * back from the container's labels: only "false" says it, none (a default
 * up, an older rdev) mounts the git root. */
TEST(git_root_label_round_trip)
{
	cJSON *c = test_labels_container("NAME=web", NULL);
	cJSON *labels = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, "Config"), "Labels");

	ASSERT_INT_EQ(labels_no_git_root(c), 0);
	labels_add_git_root(labels, 0, 0);
	ASSERT_STR_EQ(cJSON_GetStringValue(
			  cJSON_GetObjectItemCaseSensitive(labels, LABELS_NO_GIT_ROOT)),
	    "true");
	ASSERT_INT_EQ(labels_no_git_root(c), 0);
	/* (the container's own value replaces one its image gave: one label) */
	ASSERT_INT_EQ(labels_common_dir(c), 0);
	labels_add_git_root(labels, 1, 1);
	ASSERT_INT_EQ(cJSON_GetArraySize(labels), 2);
	ASSERT_INT_EQ(labels_common_dir(c), 1);
	ASSERT_STR_EQ(cJSON_GetStringValue(
			  cJSON_GetObjectItemCaseSensitive(labels, LABELS_NO_GIT_ROOT)),
	    "false");
	ASSERT_INT_EQ(labels_no_git_root(c), 1);
	cJSON_ReplaceItemInObjectCaseSensitive(
	    labels, LABELS_NO_GIT_ROOT, cJSON_CreateString("true"));
	ASSERT_INT_EQ(labels_no_git_root(c), 0);
	cJSON_Delete(c);
}

/* labels_image_entry_count(): the recorded count of the image's entries
 * (a configuration without the label's properties wrote no last entry, so
 * an image's last entry without an "id" is still the image's); without the
 * label (an older rdev's container), all but a last entry without an "id". */
TEST(image_entry_count_recorded_else_guessed)
{
	cJSON *c = test_labels_container("NAME=web", NULL);
	cJSON *labels = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, "Config"), "Labels");
	cJSON *two = cJSON_Parse("[{\"id\":\"f\"},{\"shutdownAction\":\"none\"}]");
	cJSON *feature_last = cJSON_Parse("[{\"init\":true},{\"id\":\"f\"}]");

	ASSERT_INT_EQ(labels_image_entry_count(c, two), 1);
	ASSERT_INT_EQ(labels_image_entry_count(c, feature_last), 2);
	cJSON_AddStringToObject(labels, LABELS_IMAGE_ENTRIES, "2");
	ASSERT_INT_EQ(labels_image_entry_count(c, two), 2);
	cJSON_ReplaceItemInObjectCaseSensitive(
	    labels, LABELS_IMAGE_ENTRIES, cJSON_CreateString("1"));
	ASSERT_INT_EQ(labels_image_entry_count(c, feature_last), 1);
	/* (more than there are: all of them; not a count: guessed) */
	cJSON_ReplaceItemInObjectCaseSensitive(
	    labels, LABELS_IMAGE_ENTRIES, cJSON_CreateString("7"));
	ASSERT_INT_EQ(labels_image_entry_count(c, two), 2);
	cJSON_ReplaceItemInObjectCaseSensitive(
	    labels, LABELS_IMAGE_ENTRIES, cJSON_CreateString("x"));
	ASSERT_INT_EQ(labels_image_entry_count(c, two), 1);
	cJSON_Delete(two);
	cJSON_Delete(feature_last);
	cJSON_Delete(c);
}

/* labels_id_labels_of(): the --id-label words of an `up --id-label`
 * container, from its labels, checked by the devcontainer_id they hash to:
 * rdev's own labels and the image's (same value) are not among them; one
 * the image has with another value is; a hash none matches gives NULL. */
TEST(id_labels_of_by_their_hash)
{
	char *given[] = { "proj=mono", "team=x y", NULL };
	char *id = config_devcontainer_id_labels(given), **got;
	cJSON *labels = cJSON_CreateObject(), *image = cJSON_CreateObject();

	cJSON_AddStringToObject(labels, "proj", "mono");
	cJSON_AddStringToObject(labels, "team", "x y");
	cJSON_AddStringToObject(labels, "org.opencontainers.image.title", "base");
	cJSON_AddStringToObject(labels, "devcontainer.metadata", "[]");
	cJSON_AddStringToObject(labels, "dev.rdev.owner_uid", "1000");
	cJSON_AddStringToObject(labels, "dev.rdev.devcontainer_id", id);
	cJSON_AddStringToObject(image, "org.opencontainers.image.title", "base");
	got = labels_id_labels_of(labels, image);
	ASSERT_NOT_NULL(got);
	ASSERT_STR_EQ(got[0], "proj=mono");
	ASSERT_STR_EQ(got[1], "team=x y");
	ASSERT_NULL(got[2]);
	config_id_labels_free(got);
	/* (without the image's labels: not told) */
	ASSERT_NULL(labels_id_labels_of(labels, NULL));
	/* (the image's label, another value on the container: an id label) */
	cJSON_AddStringToObject(image, "proj", "other");
	got = labels_id_labels_of(labels, image);
	ASSERT_TRUE(got != NULL && got[2] == NULL);
	config_id_labels_free(got);
	cJSON_ReplaceItemInObjectCaseSensitive(
	    labels, "dev.rdev.devcontainer_id", cJSON_CreateString("0"));
	ASSERT_NULL(labels_id_labels_of(labels, image));
	free(id);
	cJSON_Delete(labels);
	cJSON_Delete(image);
}
