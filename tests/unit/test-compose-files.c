/* test-compose-files.c - what made a Compose project name, as messages say
 * it (agent/compose-files.c, compose_files_project()). */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "compose-internal.h"
#include "compose-naming.h"
#include "config.h"
#include "xmalloc.h"

/* compose_files_project() of folder's configuration, with `compose
 * config`'s name config_name (v2; NULL: v1, none): its project must be
 * want, made from want_from, with the fix want_fix. */
static void
check_source(const char *folder, const char *config_name, const char *want,
    const char *want_from, const char *want_fix)
{
	struct config_load_opts opts = { 0 };
	struct compose c = { 0 };
	struct config *cfg;
	char *cause = NULL;

	opts.workspace_folder = folder;
	opts.no_git_root = 1;
	if ((cfg = config_load(&opts, &cause)) == NULL)
		TEST_FAIL("config_load: %s", cause);
	c.cfg = cfg;
	c.v2 = config_name != NULL;
	c.ver[0] = config_name != NULL ? 2 : 1;
	c.ver[1] = 29;
	c.config = cJSON_CreateObject();
	if (config_name != NULL)
		cJSON_AddStringToObject(c.config, "name", config_name);
	ASSERT_INT_EQ(compose_files_find(&c, &cause), 0);
	ASSERT_INT_EQ(compose_files_project(&c, &cause), 0);
	ASSERT_STR_EQ(c.project, want);
	ASSERT_STR_EQ(c.project_from, want_from);
	ASSERT_STR_EQ(c.project_fix, want_fix);
	xstrv_free(c.files);
	free(c.env_file);
	cJSON_Delete(c.config);
	free(c.project);
	free(c.project_from);
	free(c.project_fix);
	config_free(cfg);
}

/* The folder's name, a compose file's `name:`, COMPOSE_PROJECT_NAME in the
 * folder's .env, in the .env beside the compose file (Compose's own), and in
 * the environment: each said as what made the name, with its own fix. */
TEST(project_source)
{
	char dir[] = "/tmp/test-compose-files-XXXXXX";
	char *dc, *dotenv, *file, *want, *fix, *denv, *name, *project;

	ASSERT_NOT_NULL(mkdtemp(dir));
	unsetenv("COMPOSE_PROJECT_NAME");
	dc = xasprintf("%s/.devcontainer", dir);
	ASSERT_INT_EQ(mkdir(dc, 0700), 0);
	test_write_file(dc, "devcontainer.json",
	    "{ \"dockerComposeFile\": \"docker-compose.yml\", \"service\": \"app\" }");
	test_write_file(dc, "docker-compose.yml", "services:\n  app:\n    image: x\n");
	dotenv = xasprintf("%s/.env", dir);
	file = xasprintf("%s/docker-compose.yml", dc);

	want = xasprintf("the name of the workspace folder %s (another folder of "
			 "that name gives the same one)",
	    dir);
	fix = xasprintf("a top-level `name:` in its compose file, "
			"COMPOSE_PROJECT_NAME in %s, or rename the folder",
	    dotenv);
	name = xasprintf("%s_devcontainer", strrchr(dir, '/') + 1);
	project = compose_naming_normalize(name, 1);
	check_source(dir, "devcontainer", project, want, fix);
	/* (Compose v1 has no top-level `name:`: not a fix there) */
	free(fix);
	fix = xasprintf("COMPOSE_PROJECT_NAME in %s, or rename the folder", dotenv);
	check_source(dir, NULL, project, want, fix);
	free(name);
	free(project);
	free(want);
	free(fix);

	test_write_file(
	    dc, "docker-compose.yml", "name: Chosen\nservices:\n  app:\n    image: x\n");
	want = xasprintf("the top-level `name:` in %s", file);
	fix = xasprintf("change that `name:`, or set COMPOSE_PROJECT_NAME in %s, "
			"which comes first",
	    dotenv);
	check_source(dir, "Chosen", "chosen", want, fix);
	free(want);

	test_write_file(dc, "docker-compose.yml", "services:\n  app:\n    image: x\n");
	test_write_file(dc, ".env", "COMPOSE_PROJECT_NAME=besides\n");
	denv = xasprintf("%s/.env", dc);
	want = xasprintf("COMPOSE_PROJECT_NAME in %s", denv);
	free(fix);
	fix = xasprintf("change it there, or set COMPOSE_PROJECT_NAME in %s, "
			"which comes first",
	    dotenv);
	check_source(dir, "besides", "besides", want, fix);
	/* (Compose's .env comes before a `name:`: Compose's name is the
	 * .env's, and so is what made it) */
	test_write_file(
	    dc, "docker-compose.yml", "name: Chosen\nservices:\n  app:\n    image: x\n");
	check_source(dir, "besides", "besides", want, fix);
	test_write_file(dc, "docker-compose.yml", "services:\n  app:\n    image: x\n");
	free(want);
	free(fix);

	test_write_file(dir, ".env", "COMPOSE_PROJECT_NAME=InFolder\n");
	want = xasprintf("COMPOSE_PROJECT_NAME in %s", dotenv);
	check_source(dir, NULL, "infolder", want, "change it there");
	free(want);

	setenv("COMPOSE_PROJECT_NAME", "FromEnv", 1);
	check_source(dir, NULL, "fromenv",
	    "COMPOSE_PROJECT_NAME in the environment of rdev-agent on this host",
	    "unset or change it there");
	unsetenv("COMPOSE_PROJECT_NAME");

	unlink(denv);
	unlink(dotenv);
	unlink(file);
	free(file);
	file = xasprintf("%s/devcontainer.json", dc);
	unlink(file);
	rmdir(dc);
	rmdir(dir);
	free(file);
	free(denv);
	free(dotenv);
	free(dc);
}
