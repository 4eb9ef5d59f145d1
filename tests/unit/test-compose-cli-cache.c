/* test-compose-cli-cache.c - unit tests for agent/compose-cli-cache.c: the
 * key follows the files that decide the Compose CLI, and an answer is
 * given back only for its own key (real files in a temporary folder). */
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compose-cli-cache.h"

static char *
make_dir(void)
{
	char tmpl[] = "/tmp/test-compose-cli-XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		abort();
	return strdup(tmpl);
}

static void
write_exec(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, 0755);
}

static void
remove_tree(const char *dir)
{
	const char *argv[] = { "/bin/rm", "-rf", dir, NULL };
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
}

TEST(the_key_follows_docker_compose_on_path)
{
	char *dir = make_dir(), *bin, *dc, *k1, *k2, *k2b, *k3, *k4;
	struct timeval times[2] = { { 1000000, 0 }, { 1000000, 0 } };

	bin = malloc(strlen(dir) + 16);
	sprintf(bin, "%s/bin", dir);
	mkdir(bin, 0755);
	setenv("PATH", bin, 1);
	setenv("DOCKER_CONFIG", dir, 1);
	k1 = compose_cli_key();
	/* A docker-compose appears on PATH. */
	dc = malloc(strlen(bin) + 64);
	sprintf(dc, "%s/docker-compose", bin);
	write_exec(dc, "#!/bin/sh\necho 1.29.2\n");
	k2 = compose_cli_key();
	ASSERT_TRUE(strcmp(k1, k2) != 0);
	k3 = compose_cli_key();
	ASSERT_STR_EQ(k3, k2);
	free(k3);
	/* ... and is replaced by another version (same size, another time). */
	utimes(dc, times);
	k3 = compose_cli_key();
	ASSERT_TRUE(strcmp(k2, k3) != 0);
	/* A plugin in DOCKER_CONFIG's cli-plugins. */
	sprintf(bin, "%s/cli-plugins", dir);
	mkdir(bin, 0755);
	sprintf(dc, "%s/cli-plugins/docker-compose", dir);
	write_exec(dc, "#!/bin/sh\necho v2.20.2\n");
	k4 = compose_cli_key();
	ASSERT_TRUE(strcmp(k3, k4) != 0);
	free(k1);
	/* A plugin folder named by config.json's cliPluginsExtraDirs: its
	 * docker-compose counts once config.json names it. */
	sprintf(bin, "%s/extra", dir);
	mkdir(bin, 0755);
	sprintf(dc, "%s/extra/docker-compose", dir);
	write_exec(dc, "#!/bin/sh\necho v2.30.0\n");
	sprintf(dc, "%s/config.json", dir);
	{
		FILE *f = fopen(dc, "w");

		fprintf(f, "{\"cliPluginsExtraDirs\": [\"%s\"]}", bin);
		fclose(f);
	}
	k1 = compose_cli_key();
	sprintf(dc, "%s/extra/docker-compose", dir);
	write_exec(dc, "#!/bin/sh\necho v2.31.0 upgraded\n");
	k2b = compose_cli_key();
	ASSERT_TRUE(strcmp(k1, k2b) != 0);
	free(k2b);
	free(k1);
	free(k2);
	free(k3);
	free(k4);
	free(dc);
	free(bin);
	remove_tree(dir);
	free(dir);
}

TEST(an_answer_comes_back_only_for_its_key)
{
	char *dir = make_dir(), *version = NULL, *cause = NULL, *path;
	int v2 = -1;

	ASSERT_INT_EQ(compose_cli_cache_get(dir, "k1", &v2, &version), -1);
	ASSERT_INT_EQ(compose_cli_cache_put(dir, "k1", 0, "1.29.2", &cause), 0);
	ASSERT_INT_EQ(compose_cli_cache_get(dir, "k1", &v2, &version), 0);
	ASSERT_INT_EQ(v2, 0);
	ASSERT_STR_EQ(version, "1.29.2");
	free(version);
	version = NULL;
	ASSERT_INT_EQ(compose_cli_cache_get(dir, "k2", &v2, &version), -1);
	ASSERT_NULL(version);
	ASSERT_INT_EQ(compose_cli_cache_put(dir, "k2", 1, "v2.20.2", &cause), 0);
	ASSERT_INT_EQ(compose_cli_cache_get(dir, "k2", &v2, &version), 0);
	ASSERT_INT_EQ(v2, 1);
	ASSERT_STR_EQ(version, "v2.20.2");
	free(version);
	ASSERT_INT_EQ(compose_cli_cache_get(dir, "k1", &v2, &version), -1);
	/* A torn or foreign file is no answer. */
	path = malloc(strlen(dir) + 32);
	sprintf(path, "%s/compose-cli.json", dir);
	write_exec(path, "{\"key\":\"k2\",\"v2\":true,\"vers");
	ASSERT_INT_EQ(compose_cli_cache_get(dir, "k2", &v2, &version), -1);
	write_exec(path, "{\"key\":\"k2\",\"v2\":1,\"version\":\"x\"}");
	ASSERT_INT_EQ(compose_cli_cache_get(dir, "k2", &v2, &version), -1);
	free(path);
	remove_tree(dir);
	free(dir);
}
