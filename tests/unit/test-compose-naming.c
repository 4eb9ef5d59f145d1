/* test-compose-naming.c - the Compose project name (agent/compose-naming.c). */
#include "test.h"

#include "compose-naming.h"

TEST(normalize)
{
	char *n = compose_naming_normalize("My Proj_x-1.2!", 1);

	ASSERT_STR_EQ(n, "myproj_x-12");
	free(n);
	n = compose_naming_normalize("My Proj_x-1.2!", 0);
	ASSERT_STR_EQ(n, "myprojx12");
	free(n);
}

/* compose_naming_project(in) must be want, from want_from. */
static void
check_project(const struct compose_naming_input *in, const char *want,
    enum compose_naming_source want_from)
{
	enum compose_naming_source from;
	char *n = compose_naming_project(in, &from);

	ASSERT_STR_EQ(n, want);
	ASSERT_INT_EQ((int)from, (int)want_from);
	free(n);
}

TEST(project_name_order)
{
	struct compose_naming_input in = { 0 };

	in.first_file = "/home/u/My Work/.devcontainer/docker-compose.yml";
	in.local_folder = "/home/u/My Work/";
	in.new_style = 1;
	check_project(&in, "mywork_devcontainer", COMPOSE_NAMING_WORKSPACE);

	in.first_file = "/home/u/My Work/docker-compose.yml";
	check_project(&in, "mywork", COMPOSE_NAMING_DIR);

	in.config_name = "devcontainer"; /* v2's default: not a chosen name */
	check_project(&in, "mywork", COMPOSE_NAMING_DIR);
	in.name_in_files = 1;
	check_project(&in, "devcontainer", COMPOSE_NAMING_CONFIG);
	in.config_name = "Chosen.Name";
	check_project(&in, "chosenname", COMPOSE_NAMING_CONFIG);

	in.dotenv_text = "A=1\nCOMPOSE_PROJECT_NAME= From_Env \nB=2\n";
	check_project(&in, "from_env", COMPOSE_NAMING_DOTENV);

	in.env_name = "!!!"; /* nothing left: falls through */
	check_project(&in, "from_env", COMPOSE_NAMING_DOTENV);
	in.env_name = "Proc-Env";
	check_project(&in, "proc-env", COMPOSE_NAMING_ENV);
}
