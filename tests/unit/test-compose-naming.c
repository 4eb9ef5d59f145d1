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

TEST(project_name_order)
{
	struct compose_naming_input in = { 0 };
	char *n;

	in.first_file = "/home/u/My Work/.devcontainer/docker-compose.yml";
	in.local_folder = "/home/u/My Work/";
	in.new_style = 1;
	n = compose_naming_project(&in);
	ASSERT_STR_EQ(n, "mywork_devcontainer");
	free(n);

	in.first_file = "/home/u/My Work/docker-compose.yml";
	n = compose_naming_project(&in);
	ASSERT_STR_EQ(n, "mywork");
	free(n);

	in.config_name = "devcontainer"; /* v2's default: not a chosen name */
	n = compose_naming_project(&in);
	ASSERT_STR_EQ(n, "mywork");
	free(n);
	in.name_in_files = 1;
	n = compose_naming_project(&in);
	ASSERT_STR_EQ(n, "devcontainer");
	free(n);
	in.config_name = "Chosen.Name";
	n = compose_naming_project(&in);
	ASSERT_STR_EQ(n, "chosenname");
	free(n);

	in.dotenv_text = "A=1\nCOMPOSE_PROJECT_NAME= From_Env \nB=2\n";
	n = compose_naming_project(&in);
	ASSERT_STR_EQ(n, "from_env");
	free(n);

	in.env_name = "!!!"; /* nothing left: falls through */
	n = compose_naming_project(&in);
	ASSERT_STR_EQ(n, "from_env");
	free(n);
	in.env_name = "Proc-Env";
	n = compose_naming_project(&in);
	ASSERT_STR_EQ(n, "proc-env");
	free(n);
}
