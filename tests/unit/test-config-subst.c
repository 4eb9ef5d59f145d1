/* test-config-subst.c - variable substitution and devcontainerId.
 *
 * Expected values marked "reference" were produced by @devcontainers/cli
 * 0.89.0 (`devcontainer read-configuration --workspace-folder DIR` with a
 * stand-in docker that reports one running container, so that the CLI runs
 * its devcontainerId and containerEnv passes).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config-subst.h"
#include "test.h"

/* Looks a name up in NULL-terminated name/value pairs. */
static const char *
test_lookup(void *arg, const char *name)
{
	const char **pairs = arg;

	for (; pairs[0] != NULL; pairs += 2)
		if (strcmp(pairs[0], name) == 0)
			return pairs[1];
	return NULL;
}

/* clang-format off */
static const char *test_local_env[] = {
	"HOME", "/home/tester",
	"EMPTY", "",
	"COLON", "a:b",
	"NESTED", "${localEnv:HOME}",
	"LATER", "${devcontainerId}|${containerEnv:CE1}",
	NULL
};

static const char *test_container_env[] = {
	"CE1", "container-one",
	"EMPTYCE", "",
	"", "empty-name",
	NULL
};
/* clang-format on */

/* The context of the reference run for /tmp/csubst/ws1 (pass 1 and 2). */
static struct config_subst_ctx
test_ctx(void)
{
	struct config_subst_ctx ctx = {
		.local_workspace_folder = "/tmp/csubst/ws1",
		.container_workspace_folder = "/w/${localWorkspaceFolderBasename}/",
		.devcontainer_id = "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0",
		.local_env = test_lookup,
		.local_env_arg = test_local_env,
	};
	return ctx;
}

static struct config_subst_ctx
test_ctx2(void)
{
	struct config_subst_ctx ctx = test_ctx();

	ctx.container_env = test_lookup;
	ctx.container_env_arg = test_container_env;
	return ctx;
}

/* Substitute one string with ctx and compare; frees the result. */
#define ASSERT_SUBST(ctxp, in, want) \
	do { \
		char *got_ = config_subst_string((in), (ctxp)); \
		int ok_ = strcmp(got_, (want)) == 0; \
		if (!ok_) { \
			fprintf(stderr, "  subst(\"%s\")\n", (in)); \
			ASSERT_STR_EQ(got_, (want)); \
		} \
		free(got_); \
	} while (0)

/* Substitute JSON text and compare unformatted output. */
static char *
test_subst_json(const char *in, const struct config_subst_ctx *ctx)
{
	cJSON *v = cJSON_Parse(in), *out;
	char *s;

	if (v == NULL)
		return NULL;
	out = config_subst(v, ctx);
	s = cJSON_PrintUnformatted(out);
	cJSON_Delete(v);
	cJSON_Delete(out);
	return s;
}

#define ASSERT_SUBST_JSON(ctxp, in, want) \
	do { \
		char *got_ = test_subst_json((in), (ctxp)); \
		int ok_ = got_ != NULL && strcmp(got_, (want)) == 0; \
		if (!ok_) { \
			fprintf(stderr, "  subst(%s)\n", (in)); \
			ASSERT_STR_EQ(got_, (want)); \
		} \
		free(got_); \
	} while (0)

TEST(local_env_and_env_alias)
{
	struct config_subst_ctx ctx = test_ctx();

	ASSERT_SUBST(&ctx, "${localEnv:HOME}", "/home/tester");
	ASSERT_SUBST(&ctx, "${env:HOME}", "/home/tester");
	ASSERT_SUBST(
	    &ctx, "a${localEnv:HOME}b${env:HOME}c", "a/home/testerb/home/testerc");
	ASSERT_SUBST(&ctx, "${localEnv:COLON}", "a:b");
	/* Set but empty wins over the default. */
	ASSERT_SUBST(&ctx, "[${localEnv:EMPTY:dflt}]", "[]");
	/* Case matters (no Windows folding). */
	ASSERT_SUBST(&ctx, "[${localEnv:home}]", "[]");
	ASSERT_SUBST(&ctx, "[${LOCALENV:HOME}]", "[${LOCALENV:HOME}]");
}

TEST(local_env_defaults)
{
	struct config_subst_ctx ctx = test_ctx();

	ASSERT_SUBST(&ctx, "${localEnv:NOPE:dflt}", "dflt");
	ASSERT_SUBST(&ctx, "${env:NOPE:dflt}", "dflt");
	/* Unset without default: "" (reference, like a shell). */
	ASSERT_SUBST(&ctx, "[${localEnv:NOPE}]", "[]");
	/* Empty default. */
	ASSERT_SUBST(&ctx, "[${localEnv:NOPE:}]", "[]");
	/* The default ends at the next ':' (reference: "F": "a"). */
	ASSERT_SUBST(&ctx, "${env:NOPE:a:b}", "a");
	ASSERT_SUBST(&ctx, "${localEnv:NOPE::b}", "");
	/* Empty variable name: unset, so the default (reference: "N": "d"). */
	ASSERT_SUBST(&ctx, "${localEnv::d}", "d");
	ASSERT_SUBST(&ctx, "[${localEnv:}]", "[]");
	/* The default is not substituted again. */
	ASSERT_SUBST(&ctx, "${localEnv:NOPE:$HOME}", "$HOME");
}

TEST(local_env_null_lookup_means_all_unset)
{
	struct config_subst_ctx ctx = test_ctx();

	ctx.local_env = NULL;
	ASSERT_SUBST(&ctx, "[${localEnv:HOME}|${env:HOME:d}]", "[|d]");
}

TEST(process_env_lookup)
{
	struct config_subst_ctx ctx = test_ctx();

	ctx.local_env = config_env_lookup_process;
	setenv("RDEV_TEST_SUBST", "from-process", 1);
	unsetenv("RDEV_TEST_SUBST_UNSET");
	ASSERT_SUBST(&ctx, "${localEnv:RDEV_TEST_SUBST}|${env:RDEV_TEST_SUBST_UNSET:x}",
	    "from-process|x");
	ASSERT_NULL(config_env_lookup_process(NULL, ""));
	unsetenv("RDEV_TEST_SUBST");
}

TEST(workspace_folders)
{
	struct config_subst_ctx ctx = test_ctx();

	ASSERT_SUBST(&ctx, "${localWorkspaceFolder}", "/tmp/csubst/ws1");
	ASSERT_SUBST(&ctx, "${localWorkspaceFolderBasename}", "ws1");
	/* The raw workspaceFolder is itself substituted first (reference "I"). */
	ASSERT_SUBST(&ctx,
	    "${containerWorkspaceFolder}|${containerWorkspaceFolderBasename}",
	    "/w/ws1/|ws1");
	/* Arguments are ignored for these. */
	ASSERT_SUBST(&ctx, "${localWorkspaceFolderBasename:x}", "ws1");
}

TEST(workspace_folders_unknown_left_as_written)
{
	struct config_subst_ctx ctx = test_ctx();

	ctx.local_workspace_folder = NULL;
	ctx.container_workspace_folder = NULL;
	ASSERT_SUBST(&ctx, "${localWorkspaceFolder}${localWorkspaceFolderBasename}",
	    "${localWorkspaceFolder}${localWorkspaceFolderBasename}");
	ASSERT_SUBST(&ctx,
	    "${containerWorkspaceFolder}${containerWorkspaceFolderBasename}",
	    "${containerWorkspaceFolder}${containerWorkspaceFolderBasename}");
}

TEST(container_workspace_folder_refers_to_raw_self)
{
	struct config_subst_ctx ctx = test_ctx();

	/* While resolving the raw value, ${containerWorkspaceFolder} stands for
	 * the raw value (the reference's context is updated only afterwards). */
	ctx.container_workspace_folder = "/x${containerWorkspaceFolder}";
	ASSERT_SUBST(
	    &ctx, "${containerWorkspaceFolder}", "/x/x${containerWorkspaceFolder}");
	ctx.container_workspace_folder = "";
	ASSERT_SUBST(&ctx,
	    "[${containerWorkspaceFolder}|${containerWorkspaceFolderBasename}]", "[|]");
}

TEST(basename_edge_cases)
{
	struct config_subst_ctx ctx = test_ctx();

	ctx.local_workspace_folder = "/a/b/";
	ASSERT_SUBST(&ctx, "${localWorkspaceFolderBasename}", "b");
	ctx.local_workspace_folder = "/a/b//";
	ASSERT_SUBST(&ctx, "${localWorkspaceFolderBasename}", "b");
	ctx.local_workspace_folder = "/";
	ASSERT_SUBST(&ctx, "[${localWorkspaceFolderBasename}]", "[]");
	ctx.local_workspace_folder = "//";
	ASSERT_SUBST(&ctx, "[${localWorkspaceFolderBasename}]", "[]");
	ctx.local_workspace_folder = "";
	ASSERT_SUBST(
	    &ctx, "[${localWorkspaceFolderBasename}|${localWorkspaceFolder}]", "[|]");
	ctx.local_workspace_folder = "rel";
	ASSERT_SUBST(&ctx, "${localWorkspaceFolderBasename}", "rel");
	ctx.local_workspace_folder = "/with space/ws 2";
	ASSERT_SUBST(&ctx, "${localWorkspaceFolderBasename}", "ws 2");
	/* Backslashes are not separators. */
	ctx.local_workspace_folder = "/a/b\\c";
	ASSERT_SUBST(&ctx, "${localWorkspaceFolderBasename}", "b\\c");
	ctx.container_workspace_folder = "/workspaces/proj/";
	ASSERT_SUBST(&ctx, "${containerWorkspaceFolderBasename}", "proj");
}

TEST(devcontainer_id)
{
	struct config_subst_ctx ctx = test_ctx();

	ASSERT_SUBST(&ctx, "${devcontainerId}",
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0");
	/* Arguments are ignored (reference "P"). */
	ASSERT_SUBST(&ctx, "${devcontainerId:x}",
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0");
	ctx.devcontainer_id = NULL;
	ASSERT_SUBST(&ctx, "${devcontainerId}", "${devcontainerId}");
	ctx.devcontainer_id = "";
	ASSERT_SUBST(&ctx, "${devcontainerId}", "${devcontainerId}");
}

TEST(unknown_variables_left_as_written)
{
	struct config_subst_ctx ctx = test_ctx2();

	ASSERT_SUBST(&ctx, "${unknown}", "${unknown}");
	ASSERT_SUBST(&ctx, "${unknown:HOME}", "${unknown:HOME}");
	ASSERT_SUBST(&ctx, "${}", "${}");
	ASSERT_SUBST(&ctx, "${:x}", "${:x}");
	ASSERT_SUBST(&ctx, "${ localEnv:HOME}", "${ localEnv:HOME}");
	ASSERT_SUBST(&ctx, "${workspaceFolder}", "${workspaceFolder}");
	ASSERT_SUBST(&ctx, "$HOME ${HOME}", "$HOME ${HOME}");
}

TEST(dollar_and_brace_edge_cases)
{
	struct config_subst_ctx ctx = test_ctx();

	ASSERT_SUBST(&ctx, "", "");
	ASSERT_SUBST(&ctx, "$", "$");
	ASSERT_SUBST(&ctx, "$$", "$$");
	ASSERT_SUBST(&ctx, "${", "${");
	ASSERT_SUBST(&ctx, "a${localEnv:HOME", "a${localEnv:HOME");
	ASSERT_SUBST(&ctx, "}", "}");
	/* Reference "K": "$$" then a variable then a stray '}'. */
	ASSERT_SUBST(&ctx, "$${localEnv:HOME}}", "$/home/tester}");
	/* Reference "J": the variable runs to the first '}', so it is
	 * "a${localEnv:HOME" (unknown) and is left whole. */
	ASSERT_SUBST(&ctx, "${a${localEnv:HOME}}", "${a${localEnv:HOME}}");
	/* Reference "H": ${localEnv:HOME:} then a stray '}'. */
	ASSERT_SUBST(&ctx, "${localEnv:NOPE:}}", "}");
	/* An unterminated "${" does not hide a later variable. */
	ASSERT_SUBST(&ctx, "${x\n${localEnv:HOME}}", "${x\n/home/tester}");
	ASSERT_SUBST(&ctx, "${x\r${localEnv:HOME}}", "${x\r/home/tester}");
	/* U+2028 and U+2029 end a match too (reference "C"). */
	ASSERT_SUBST(
	    &ctx, "${x\xe2\x80\xa8${localEnv:HOME}}", "${x\xe2\x80\xa8/home/tester}");
	ASSERT_SUBST(
	    &ctx, "${x\xe2\x80\xa9${localEnv:HOME}}", "${x\xe2\x80\xa9/home/tester}");
	/* Other non-ASCII text does not. */
	ASSERT_SUBST(
	    &ctx, "${x\xe2\x80\xaa${localEnv:HOME}}", "${x\xe2\x80\xaa${localEnv:HOME}}");
	ASSERT_SUBST(&ctx, "${localEnv:NOPE:\xc3\xa9}", "\xc3\xa9");
	/* A value is not substituted again in the same pass. */
	ASSERT_SUBST(&ctx, "${localEnv:NESTED}", "${localEnv:HOME}");
}

TEST(container_env_left_in_first_pass)
{
	struct config_subst_ctx ctx = test_ctx();

	ASSERT_SUBST(&ctx, "${containerEnv:CE1}", "${containerEnv:CE1}");
	ASSERT_SUBST(&ctx, "${containerEnv:NOPE:dflt}", "${containerEnv:NOPE:dflt}");
	ASSERT_SUBST(&ctx, "${containerEnv}", "${containerEnv}");
}

TEST(container_env_second_pass)
{
	struct config_subst_ctx ctx = test_ctx2();

	/* Reference "A" to "D". */
	ASSERT_SUBST(&ctx, "${containerEnv:CE1}", "container-one");
	ASSERT_SUBST(&ctx, "${containerEnv:NOPE:dflt}", "dflt");
	ASSERT_SUBST(&ctx, "[${containerEnv:NOPE}]", "[]");
	ASSERT_SUBST(&ctx, "[${containerEnv:EMPTYCE:x}]", "[]");
	/* A container variable may have an empty name. */
	ASSERT_SUBST(&ctx, "${containerEnv:}", "empty-name");
	/* Reference "G": the variable ends at the first '}'. */
	ASSERT_SUBST(&ctx, "${containerEnv:CE1:${localEnv:HOME}}", "container-one}");
	/* containerEnv is not an alias for localEnv, nor the reverse. */
	ASSERT_SUBST(&ctx, "[${containerEnv:HOME}|${localEnv:CE1}]", "[|]");
}

TEST(passes_run_in_reference_order)
{
	struct config_subst_ctx ctx = test_ctx2();
	cJSON *v, *pass1, *pass2;
	char *cause = NULL, *s;

	/* Reference "A" of ws5: a local value is seen by later passes. */
	ASSERT_SUBST(&ctx, "${localEnv:LATER}",
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0|container-one");
	/* First pass, then the container pass alone over its result. */
	ctx = test_ctx();
	v = cJSON_CreateString("${localEnv:LATER} ${containerEnv:CE1}");
	pass1 = config_subst(v, &ctx);
	ASSERT_STR_EQ(pass1->valuestring,
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0|${containerEnv:CE1} "
	    "${containerEnv:CE1}");
	pass2 = config_subst_container(pass1, test_lookup, test_container_env, &cause);
	ASSERT_NOT_NULL(pass2);
	s = strdup(pass2->valuestring);
	cJSON_Delete(v);
	cJSON_Delete(pass1);
	cJSON_Delete(pass2);
	ASSERT_STR_EQ(s,
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0|container-one "
	    "container-one");
	free(s);
}

TEST(container_pass_alone_leaves_local_variables)
{
	cJSON *v, *out;
	char *cause = NULL;

	v = cJSON_CreateString("${localEnv:HOME}${devcontainerId}${containerEnv:CE1}");
	out = config_subst_container(v, test_lookup, test_container_env, &cause);
	ASSERT_NOT_NULL(out);
	ASSERT_STR_EQ(out->valuestring, "${localEnv:HOME}${devcontainerId}container-one");
	cJSON_Delete(v);
	cJSON_Delete(out);
}

TEST(late_passes_after_a_first_pass_without_id)
{
	struct config_subst_ctx ctx = test_ctx();
	cJSON *v, *pass1, *out;
	char *cause = NULL;

	/* read-configuration: the first pass without an id leaves it, and a
	 * local value holding it, as written... */
	ctx.devcontainer_id = NULL;
	v = cJSON_CreateString("${localEnv:LATER} ${devcontainerId:x} ${localEnv:HOME}");
	pass1 = config_subst(v, &ctx);
	ASSERT_STR_EQ(pass1->valuestring,
	    "${devcontainerId}|${containerEnv:CE1} ${devcontainerId:x} /home/tester");
	/* ...until a container exists: then the id pass, then the container
	 * pass, as the reference's beforeContainerSubstitute and
	 * containerSubstitute. */
	out = config_subst_late(pass1,
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0", test_lookup,
	    test_container_env, &cause);
	ASSERT_NOT_NULL(out);
	ASSERT_STR_EQ(out->valuestring,
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0|container-one "
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0 /home/tester");
	cJSON_Delete(out);
	/* No id: only the container pass. */
	out = config_subst_late(pass1, NULL, test_lookup, test_container_env, &cause);
	ASSERT_STR_EQ(out->valuestring,
	    "${devcontainerId}|container-one ${devcontainerId:x} /home/tester");
	cJSON_Delete(out);
	/* No container environment: only the id pass. */
	out = config_subst_late(pass1, "id", NULL, NULL, &cause);
	ASSERT_STR_EQ(out->valuestring, "id|${containerEnv:CE1} id /home/tester");
	cJSON_Delete(out);
	cJSON_Delete(pass1);
	cJSON_Delete(v);
}

TEST(missing_variable_name)
{
	struct config_subst_ctx ctx = test_ctx2();
	cJSON *v, *out;
	char *cause = NULL;

	/* Unchecked: left as written, the rest substituted. */
	ASSERT_SUBST(&ctx, "${localEnv}|${env}|${containerEnv}|${localEnv:HOME}",
	    "${localEnv}|${env}|${containerEnv}|/home/tester");

	v = cJSON_Parse("{\"a\":[\"ok\",\"x${containerEnv}\"],\"b\":\"y${env}\"}");
	ASSERT_NOT_NULL(v);
	out = config_subst_checked(v, &ctx, &cause);
	ASSERT_NULL(out);
	/* The local pass fails first in the reference, even for a later value. */
	ASSERT_STR_EQ(cause,
	    "'${env}' can not be resolved because no environment "
	    "variable name is given");
	free(cause);
	cause = NULL;

	out = config_subst_container(v, test_lookup, test_container_env, &cause);
	ASSERT_NULL(out);
	ASSERT_STR_EQ(cause,
	    "'${containerEnv}' can not be resolved because no "
	    "environment variable name is given");
	free(cause);
	cause = NULL;
	cJSON_Delete(v);

	v = cJSON_Parse("{\"a\":[\"${localEnv:}\",\"${containerEnv:x}\"]}");
	out = config_subst_checked(v, &ctx, &cause);
	ASSERT_NOT_NULL(out);
	ASSERT_NULL(cause);
	cJSON_Delete(out);
	out = config_subst_checked(v, &ctx, NULL);
	ASSERT_NOT_NULL(out);
	cJSON_Delete(out);
	cJSON_Delete(v);
}

TEST(nested_values_and_keys)
{
	struct config_subst_ctx ctx = test_ctx();

	/* Keys are not substituted (reference: the remoteEnv key
	 * "${localWorkspaceFolderBasename}" stays). */
	ASSERT_SUBST_JSON(&ctx,
	    "{\"${localWorkspaceFolderBasename}\":\"${localWorkspaceFolderBasename}\","
	    "\"a\":[\"${localEnv:HOME}\",[\"${env:HOME}\"],{\"${env:HOME}\":\"${env:HOME}"
	    "\"}],"
	    "\"b\":{\"c\":{\"d\":\"${devcontainerId}\"}}}",
	    "{\"${localWorkspaceFolderBasename}\":\"ws1\","
	    "\"a\":[\"/home/tester\",[\"/home/tester\"],{\"${env:HOME}\":\"/home/"
	    "tester\"}],"
	    "\"b\":{\"c\":{\"d\":"
	    "\"0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0\"}}}");
}

TEST(non_string_values_untouched)
{
	struct config_subst_ctx ctx = test_ctx();

	/* Reference "mounts": [1, true, null, "${localWorkspaceFolder}"]. */
	ASSERT_SUBST_JSON(&ctx,
	    "[1,true,null,\"${localWorkspaceFolder}\",false,2.5,-3,{},[]]",
	    "[1,true,null,\"/tmp/csubst/ws1\",false,2.5,-3,{},[]]");
	ASSERT_SUBST_JSON(&ctx, "42", "42");
	ASSERT_SUBST_JSON(&ctx, "\"${localEnv:HOME}\"", "\"/home/tester\"");
}

TEST(copy_is_deep)
{
	struct config_subst_ctx ctx = test_ctx();
	cJSON *v, *out;

	v = cJSON_Parse("{\"a\":{\"b\":[\"x\"]},\"n\":1}");
	ASSERT_NOT_NULL(v);
	out = config_subst(v, &ctx);
	cJSON_Delete(v);
	ASSERT_STR_EQ(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "a"), "b"), 0)
		->valuestring,
	    "x");
	ASSERT_INT_EQ(cJSON_GetObjectItem(out, "n")->valueint, 1);
	cJSON_Delete(out);
}

/* Whole configuration of the reference run for /tmp/csubst/ws1, HOME=/home/tester. */
TEST(reference_configuration)
{
	struct config_subst_ctx ctx = test_ctx2();
	static const char *home_only[] = { "HOME", "/home/tester", NULL };

	ctx.local_env_arg = home_only;
	ASSERT_SUBST_JSON(&ctx,
	    "{\"image\":\"alpine\",\"containerEnv\":{\"ID\":\"${devcontainerId}\"},"
	    "\"remoteEnv\":{\"A\":\"${containerEnv:CE1}\",\"B\":\"${containerEnv:NOPE:"
	    "dflt}\","
	    "\"C\":\"${containerEnv:NOPE}\",\"D\":\"${containerEnv:EMPTYCE:x}\","
	    "\"${localWorkspaceFolderBasename}\":\"key\",\"E\":\"${localEnv:HOME}\","
	    "\"F\":\"${env:NOPE:a:b}\",\"G\":\"${unknown}\",\"H\":\"${"
	    "localWorkspaceFolderBasename}\","
	    "\"I\":\"${containerWorkspaceFolder}|${containerWorkspaceFolderBasename}\","
	    "\"J\":\"${a${localEnv:HOME}}\",\"K\":\"$${localEnv:HOME}}\",\"L\":\"${}\","
	    "\"M\":\"${:x}\",\"N\":\"${localEnv::d}\",\"O\":\"${localEnv:X:}\","
	    "\"P\":\"${devcontainerId:x}\"},"
	    "\"workspaceFolder\":\"/w/${localWorkspaceFolderBasename}/\","
	    "\"mounts\":[1,true,null,\"${localWorkspaceFolder}\"]}",
	    "{\"image\":\"alpine\",\"containerEnv\":"
	    "{\"ID\":\"0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0\"},"
	    "\"remoteEnv\":{\"A\":\"container-one\",\"B\":\"dflt\",\"C\":\"\",\"D\":\"\","
	    "\"${localWorkspaceFolderBasename}\":\"key\",\"E\":\"/home/"
	    "tester\",\"F\":\"a\","
	    "\"G\":\"${unknown}\",\"H\":\"ws1\",\"I\":\"/w/ws1/|ws1\","
	    "\"J\":\"${a${localEnv:HOME}}\",\"K\":\"$/home/tester}\",\"L\":\"${}\","
	    "\"M\":\"${:x}\",\"N\":\"d\",\"O\":\"\","
	    "\"P\":\"0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0\"},"
	    "\"workspaceFolder\":\"/w/ws1/\",\"mounts\":[1,true,null,\"/tmp/csubst/"
	    "ws1\"]}");
}

#define ASSERT_ID(folder, config, want) \
	do { \
		char *id_ = config_devcontainer_id((folder), (config)); \
		int ok_ = strcmp(id_, (want)) == 0; \
		if (!ok_) { \
			fprintf(stderr, "  id(%s, %s)\n", (folder), (config)); \
			ASSERT_STR_EQ(id_, (want)); \
		} \
		free(id_); \
	} while (0)

/* Reference vectors: devcontainer read-configuration --workspace-folder DIR
 * with "containerEnv": {"ID": "${devcontainerId}"}. */
TEST(devcontainer_id_reference_vectors)
{
	ASSERT_ID("/tmp/csubst/ws1", "/tmp/csubst/ws1/.devcontainer/devcontainer.json",
	    "0luqc0fn023bijq1lgfsga81q0no3o3nu6a8hvfbkjaa9qh61kd0");
	ASSERT_ID("/tmp/csubst/ws 2", "/tmp/csubst/ws 2/.devcontainer/devcontainer.json",
	    "04fc2v4rrqdq9lv1d67d7bb6jgqc0ufgb7ju3n7keqf2s7euot2v");
	ASSERT_ID("/tmp/csubst/ws3", "/tmp/csubst/ws3/.devcontainer.json",
	    "0o58rmdd4u0oet88iuu1vhko9n27t3o5nn5ifh4kre2vdf1dgdga");
	/* Top digit 1 (hash >= 2^255). */
	ASSERT_ID("/tmp/csubst/ws5", "/tmp/csubst/ws5/.devcontainer.json",
	    "126fddu1gu1dvn77b5vj96tsle8lcc375re47o12uim5fh5ea7mc");
	/* Hash < 2^246: three leading zeros from the padding. */
	ASSERT_ID("/tmp/csubst/p287", "/tmp/csubst/p287/.devcontainer.json",
	    "000oj3ol6lje4mah7kg7ol16me6d7jk2tjmkgehr7pu913v8kbac");
	/* JSON escaping of '"', '\\', tab and U+0001; UTF-8 copied as is. */
	ASSERT_ID("/tmp/csubst/q\"b\\s \xc3\xa9\t\001x",
	    "/tmp/csubst/q\"b\\s \xc3\xa9\t\001x/.devcontainer/devcontainer.json",
	    "0j0jb0i6b3ao76r6f769di2reheu6u6u782jlu90nc1tptj4153s");
}

/* Vectors from node's JSON.stringify + crypto + BigInt, as the reference
 * computes them (not through the CLI, which needs the files to exist). */
TEST(devcontainer_id_node_vectors)
{
	char *id;

	ASSERT_ID("/", "//x", "05pb2l2fd83o67dne784350bfjrfg3bdmljeqag64re0v8sro3r9");
	ASSERT_ID("/a", "/a/x", "041uqag810sada2umu2oie107q4ceihfcbsd0r37bq2d621trsjd");
	ASSERT_ID("\xe2\x80\xa8", "\xe2\x80\xa8/x",
	    "1e5ibijj0ep9j06dgmivq5pcgib51361tpkgc4b9m9il6r5vauml");
	id = config_devcontainer_id("/a", "/b");
	ASSERT_INT_EQ(strlen(id), 52);
	ASSERT_INT_EQ(strspn(id, "0123456789abcdefghijklmnopqrstuv"), 52);
	free(id);
}
