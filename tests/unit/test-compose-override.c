/* test-compose-override.c - the Compose override file, project names and
 * the compose config YAML reader. */
#include "test.h"

#include "buf.h"
#include "compose-override.h"
#include "xmalloc.h"

static char *
quote(const char *s, int dollar)
{
	struct buf *b = buf_new();
	char *out;

	compose_override_quote(b, s, dollar);
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

static cJSON *
json(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (j == NULL)
		TEST_FAIL("bad JSON in test: %s", text);
	return j;
}

static char *
generate(const char *merged, const char *service, const char *image_config,
    const char *labels, const char *workspace_mount, int override_command)
{
	struct compose_override_input in = { 0 };
	cJSON *m = json(merged), *s = service ? json(service) : NULL;
	cJSON *ic = image_config ? json(image_config) : NULL,
	      *l = labels ? json(labels) : NULL;
	char *cause = NULL, *out;

	in.service = "app";
	in.merged = m;
	in.service_config = s;
	in.image_config = ic;
	in.labels = l;
	in.workspace_mount = workspace_mount;
	in.override_command = override_command;
	out = compose_override_generate(&in, &cause);
	cJSON_Delete(m);
	cJSON_Delete(s);
	cJSON_Delete(ic);
	cJSON_Delete(l);
	if (out == NULL) {
		fprintf(stderr, "  generate: %s\n", cause);
		free(cause);
	}
	return out;
}

TEST(quote_escapes_yaml_and_dollar)
{
	char *q;

	q = quote("a \"b\" c\\d: #e\nf\tg$h", 1);
	ASSERT_STR_EQ(q, "\"a \\\"b\\\" c\\\\d: #e\\nf\\tg$$h\"");
	free(q);
	q = quote("$$@ x\x01", 0);
	ASSERT_STR_EQ(q, "\"$$@ x\\x01\"");
	free(q);
	q = quote("héllo", 1);
	ASSERT_STR_EQ(q, "\"héllo\"");
	free(q);
}

TEST(override_full_text_keeps_service_command)
{
	char *got = generate(
	    "{\"init\":true,\"privileged\":true,\"capAdd\":[\"SYS_PTRACE\"],"
	    "\"securityOpt\":[\"seccomp=unconfined\"],\"entrypoints\":[\"/init.sh $X\"],"
	    "\"containerUser\":\"dev\",\"containerEnv\":{\"A\":\"1\"}}",
	    "{\"command\":[\"sleep\",\"infinity\"]}",
	    "{\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"Cmd\":[\"bash\"]}",
	    "{\"devcontainer.local_folder\":\"/w\"}", NULL, 0);

	ASSERT_NOT_NULL(got);
	ASSERT_STR_EQ(got,
	    "services:\n"
	    "  \"app\":\n"
	    "    entrypoint: [\"/bin/sh\", \"-c\", \"echo Container started\\ntrap "
	    "\\\"exit 0\\\" 15\\n"
	    "/init.sh $$X\\nexec \\\"$$@\\\"\\nwhile sleep 1 & wait $$!; do :; done\", "
	    "\"-\", "
	    "\"/docker-entrypoint.sh\"]\n"
	    "    init: true\n"
	    "    user: \"dev\"\n"
	    "    environment:\n"
	    "      - \"A=1\"\n"
	    "    privileged: true\n"
	    "    cap_add:\n"
	    "      - \"SYS_PTRACE\"\n"
	    "    security_opt:\n"
	    "      - \"seccomp=unconfined\"\n"
	    "    labels:\n"
	    "      - \"devcontainer.local_folder=/w\"\n");
	free(got);
}

TEST(override_command_true_clears_command_and_entrypoint_args)
{
	char *got = generate("{}", "{\"command\":\"run-me 1\",\"entrypoint\":\"/e.sh\"}",
	    "{\"Entrypoint\":[\"/x\"],\"Cmd\":[\"y\"]}", NULL, NULL, 1);

	ASSERT_NOT_NULL(got);
	ASSERT_STR_CONTAINS(got, "done\", \"-\"]\n    command: []\n");
	ASSERT_TRUE(strstr(got, "/e.sh") == NULL);
	ASSERT_TRUE(strstr(got, "run-me") == NULL);
	free(got);
}

TEST(override_image_cmd_used_when_service_has_neither)
{
	char *got = generate("{}", "{}",
	    "{\"Entrypoint\":[\"/ep\",\"$A\"],\"Cmd\":[\"echo\",\"$B\"]}", NULL, NULL, 0);

	ASSERT_NOT_NULL(got);
	ASSERT_STR_CONTAINS(
	    got, "\"-\", \"/ep\", \"$$A\"]\n    command: [\"echo\", \"$$B\"]\n");
	free(got);
}

TEST(override_service_entrypoint_string_is_split_and_image_cmd_ignored)
{
	/* `compose config` has escaped '$' already: kept as is. */
	char *got = generate("{}", "{\"entrypoint\":\"/e.sh 'a b' $$HOME\"}",
	    "{\"Entrypoint\":[\"/x\"],\"Cmd\":[\"y\"]}", NULL, NULL, 0);

	ASSERT_NOT_NULL(got);
	ASSERT_STR_CONTAINS(
	    got, "\"-\", \"/e.sh\", \"a b\", \"$$HOME\"]\n    command: []\n");
	free(got);
}

TEST(override_env_values_are_escaped)
{
	char *got =
	    generate("{\"containerEnv\":{\"Q\":\"it's \\\"x\\\"\",\"D\":\"$HOME/${X}\","
		     "\"N\":\"a\\nb\",\"C\":\"k: v # c\"}}",
		NULL, NULL, NULL, NULL, 0);

	ASSERT_NOT_NULL(got);
	ASSERT_STR_CONTAINS(got,
	    "    environment:\n"
	    "      - \"Q=it's \\\"x\\\"\"\n"
	    "      - \"D=$$HOME/$${X}\"\n"
	    "      - \"N=a\\nb\"\n"
	    "      - \"C=k: v # c\"\n");
	free(got);
}

TEST(override_labels_escape_metadata_json)
{
	char *got = generate("{}", NULL, NULL,
	    "{\"devcontainer.metadata\":\"[{\\\"remoteEnv\\\":{\\\"P\\\":\\\"${"
	    "containerEnv:PATH}\\\"}}]\"}",
	    NULL, 0);

	ASSERT_NOT_NULL(got);
	ASSERT_STR_CONTAINS(got,
	    "    labels:\n      - \"devcontainer.metadata=[{\\\"remoteEnv\\\":"
	    "{\\\"P\\\":\\\"$${containerEnv:PATH}\\\"}}]\"\n");
	free(got);
}

TEST(override_volumes_and_named_volumes)
{
	char *got = generate("{\"mounts\":[\"source=cache,target=/cache,type=volume\","
			     "\"type=bind,source=/etc/x,target=/x,readonly\","
			     "{\"type\":\"volume\",\"source\":\"ext\",\"target\":\"/"
			     "e\",\"external\":true},"
			     "\"type=tmpfs,target=/tmp/t\","
			     "\"type=volume,source=cache,target=/cache2\"]}",
	    NULL, NULL, NULL,
	    "type=bind,source=/home/u/w,target=/workspace,consistency=cached", 0);

	ASSERT_NOT_NULL(got);
	ASSERT_STR_CONTAINS(got,
	    "    volumes:\n"
	    "      - \"/home/u/w:/workspace\"\n"
	    "      - \"cache:/cache\"\n"
	    "      - \"/etc/x:/x:ro\"\n"
	    "      - \"ext:/e\"\n"
	    "      - \"/tmp/t\"\n"
	    "      - \"cache:/cache2\"\n"
	    "volumes:\n"
	    "  \"cache\":\n"
	    "  \"ext\":\n"
	    "    external: true\n");
	free(got);
}

TEST(override_mount_without_target_is_an_error)
{
	struct compose_override_input in = { 0 };
	cJSON *m = json("{\"mounts\":[\"type=bind,source=/a,target=/b\",\"source=/x\"]}");
	char *cause = NULL;

	in.service = "app";
	in.merged = m;
	ASSERT_NULL(compose_override_generate(&in, &cause));
	ASSERT_STR_CONTAINS(cause, "mounts[1] source=/x: no target");
	free(cause);
	cJSON_Delete(m);
}

TEST(override_version_prefix_and_image)
{
	struct compose_override_input in = { 0 };
	cJSON *m = json("{}");
	char *cause = NULL, *got;

	in.service = "my app";
	in.merged = m;
	in.version_prefix = "version: '3.8'\n\n";
	in.image = "rdev-uid-x:1";
	got = compose_override_generate(&in, &cause);
	ASSERT_NOT_NULL(got);
	ASSERT_TRUE(strncmp(got,
			"version: '3.8'\n\nservices:\n  \"my app\":\n"
			"    image: \"rdev-uid-x:1\"\n    entrypoint: [",
			80) == 0);
	free(got);
	cJSON_Delete(m);
}

TEST(override_round_trips_through_yaml_reader)
{
	char *got = generate("{\"entrypoints\":[\"echo \\\"a: b\\\" 'c'\"],"
			     "\"containerEnv\":{\"K\":\"x\\n  y: 'z'\"}}",
	    NULL, NULL, NULL, NULL, 1);
	cJSON *y, *svc, *ep, *env;
	char *cause = NULL;

	ASSERT_NOT_NULL(got);
	y = compose_override_parse_yaml(got, &cause);
	if (y == NULL)
		TEST_FAIL("parse: %s\n%s", cause, got);
	svc = cJSON_GetObjectItem(cJSON_GetObjectItem(y, "services"), "app");
	ep = cJSON_GetObjectItem(svc, "entrypoint");
	ASSERT_INT_EQ(cJSON_GetArraySize(ep), 4);
	ASSERT_STR_EQ(cJSON_GetArrayItem(ep, 2)->valuestring,
	    "echo Container started\ntrap \"exit 0\" 15\necho \"a: b\" 'c'\nexec "
	    "\"$$@\"\n"
	    "while sleep 1 & wait $$!; do :; done");
	env = cJSON_GetObjectItem(svc, "environment");
	ASSERT_STR_EQ(cJSON_GetArrayItem(env, 0)->valuestring, "K=x\n  y: 'z'");
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(svc, "command")), 0);
	cJSON_Delete(y);
	free(got);
}

TEST(version_prefix)
{
	char *v = compose_override_version_prefix("# c\nversion: \"3.8\"\r\nservices:\n");

	ASSERT_STR_EQ(v, "version: \"3.8\"\n\n");
	free(v);
	v = compose_override_version_prefix("services:\n  a:\n    version: 1\n");
	ASSERT_STR_EQ(v, "");
	free(v);
}

TEST(project_name_normalize)
{
	char *n = compose_override_project_name_normalize("My Proj_x-1.2!", 1);

	ASSERT_STR_EQ(n, "myproj_x-12");
	free(n);
	n = compose_override_project_name_normalize("My Proj_x-1.2!", 0);
	ASSERT_STR_EQ(n, "myprojx12");
	free(n);
}

TEST(project_name_order)
{
	struct compose_project_input in = { 0 };
	char *n;

	in.first_file = "/home/u/My Work/.devcontainer/docker-compose.yml";
	in.local_folder = "/home/u/My Work/";
	in.new_style = 1;
	n = compose_override_project_name(&in);
	ASSERT_STR_EQ(n, "mywork_devcontainer");
	free(n);

	in.first_file = "/home/u/My Work/docker-compose.yml";
	n = compose_override_project_name(&in);
	ASSERT_STR_EQ(n, "mywork");
	free(n);

	in.config_name = "devcontainer"; /* v2's default: not a chosen name */
	n = compose_override_project_name(&in);
	ASSERT_STR_EQ(n, "mywork");
	free(n);
	in.name_in_files = 1;
	n = compose_override_project_name(&in);
	ASSERT_STR_EQ(n, "devcontainer");
	free(n);
	in.config_name = "Chosen.Name";
	n = compose_override_project_name(&in);
	ASSERT_STR_EQ(n, "chosenname");
	free(n);

	in.dotenv_text = "A=1\nCOMPOSE_PROJECT_NAME= From_Env \nB=2\n";
	n = compose_override_project_name(&in);
	ASSERT_STR_EQ(n, "from_env");
	free(n);

	in.env_name = "!!!"; /* nothing left: falls through */
	n = compose_override_project_name(&in);
	ASSERT_STR_EQ(n, "from_env");
	free(n);
	in.env_name = "Proc-Env";
	n = compose_override_project_name(&in);
	ASSERT_STR_EQ(n, "proc-env");
	free(n);
}

TEST(file_name)
{
	char *n =
	    compose_override_file_name("version: '3'\nname: \"my-proj\"\nservices:\n");

	ASSERT_STR_EQ(n, "my-proj");
	free(n);
	n = compose_override_file_name("name: plain # comment\n");
	ASSERT_STR_EQ(n, "plain");
	free(n);
	ASSERT_NULL(compose_override_file_name("services:\n  a:\n    name: x\n"));
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

/* What docker-compose 1.29 printed for tests/data/compose/yaml/config-v1.yml. */
TEST(yaml_reads_docker_compose_v1_config)
{
	char *text = NULL, *cause = NULL, *s;
	FILE *f = fopen(RDEV_TEST_DATA "/compose/yaml/config-v1.yml", "r");
	cJSON *y, *app;
	size_t n;

	ASSERT_NOT_NULL(f);
	text = xmalloc(65536);
	n = fread(text, 1, 65535, f);
	text[n] = '\0';
	fclose(f);
	y = compose_override_parse_yaml(text, &cause);
	free(text);
	if (y == NULL)
		TEST_FAIL("parse: %s", cause);
	app = cJSON_GetObjectItem(cJSON_GetObjectItem(y, "services"), "app");
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(app, "entrypoint"));
	ASSERT_STR_EQ(s,
	    "[\"/bin/sh\",\"-c\",\"echo 'a: b' \\\"$$HOME\\\" && exec "
	    "\\\"$$@\\\"\",\"-\"]");
	free(s);
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(app, "environment"));
	ASSERT_STR_EQ(s,
	    "{\"A\":\"x: y\",\"E\":null,\"LONG\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb cccccccccccccccccccccccccccccc dddd\","
	    "\"NL\":\"line1\\nline2\"}");
	free(s);
	ASSERT_STR_EQ(cJSON_GetObjectItem(app, "command")->valuestring, "sleep infinity");
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(y, "services"), "db"), "build"));
	ASSERT_STR_EQ(s,
	    "{\"args\":{\"X\":\"1\"},\"context\":\"/tmp/"
	    "cz\",\"dockerfile\":\"Dockerfile.db\"}");
	free(s);
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(y, "volumes"));
	ASSERT_STR_EQ(s, "{\"data\":{},\"ext\":{\"external\":true,\"name\":\"ext\"}}");
	free(s);
	cJSON_Delete(y);
}

TEST(yaml_scalars_and_collections)
{
	char *cause = NULL, *s;
	cJSON *y = compose_override_parse_yaml("---\n"
					       "a: \"x\\ty \\u00e9\\\n"
					       "   z\"\n"
					       "b: 'one\n"
					       "\n"
					       "  two'\n"
					       "c: |\n"
					       "  l1\n"
					       "    l2\n"
					       "d: >-\n"
					       "  f1\n"
					       "  f2\n"
					       "e: [1, \"two\", [3]]\n"
					       "f: {k: v, 'q': \"w\"}\n"
					       "g:\n"
					       "- - n1\n"
					       "  - n2\n"
					       "- k: v  # comment\n"
					       "  k2: ~\n"
					       "h: http://x:80/y\n"
					       "'quoted key': 1\n",
	    &cause);

	if (y == NULL)
		TEST_FAIL("parse: %s", cause);
	s = cJSON_PrintUnformatted(y);
	ASSERT_STR_EQ(s,
	    "{\"a\":\"x\\ty éz\",\"b\":\"one\\ntwo\",\"c\":\"l1\\n  l2\\n\","
	    "\"d\":\"f1 "
	    "f2\",\"e\":[\"1\",\"two\",[\"3\"]],\"f\":{\"k\":\"v\",\"q\":\"w\"},"
	    "\"g\":[[\"n1\",\"n2\"],{\"k\":\"v\",\"k2\":null}],\"h\":\"http://x:80/y\","
	    "\"quoted key\":\"1\"}");
	free(s);
	cJSON_Delete(y);
}

TEST(yaml_errors_name_the_line)
{
	char *cause = NULL;

	ASSERT_NULL(compose_override_parse_yaml("a:\n  - x\n  y: 1\n", &cause));
	ASSERT_STR_CONTAINS(cause, "line 3:");
	free(cause);
	cause = NULL;
	ASSERT_NULL(compose_override_parse_yaml("a: 'open\n", &cause));
	ASSERT_STR_CONTAINS(cause, "line 1: unterminated");
	free(cause);
}
