/* test-exec-relay.c - unit tests for the pure parts of agent/exec-relay.c: the
 * environment as Docker composes it for an exec, the request and frame
 * encoding. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "env-probe.h"
#include "exec-relay.h"
#include "xmalloc.h"

static char *
env_joined(char **env)
{
	struct buf *b = buf_new();

	for (size_t i = 0; env[i] != NULL; i++) {
		buf_append(b, env[i], strlen(env[i]));
		buf_append(b, "|", 1);
	}
	char *s = buf_take_string(b, NULL);

	buf_free(b);
	return s;
}

static cJSON *
container(const char *env_json, const char *hostname)
{
	char *text = xasprintf(
	    "{\"Config\":{\"Env\":%s,\"Hostname\":\"%s\"}}", env_json, hostname);
	cJSON *c = cJSON_Parse(text);

	free(text);
	return c;
}

TEST(env_in_docker_order_path_replaced_in_place)
{
	/* What `docker exec` printed here for a container with Env
	 * [FOO=bar, PATH=...] and a TTY: PATH, HOSTNAME, TERM, FOO. */
	cJSON *c = container("[\"FOO=bar\",\"PATH=/usr/bin:/bin\"]", "0a59f3a3e071");
	char **env = exec_relay_env(c, 1, NULL, NULL);
	char *s = env_joined(env);

	ASSERT_STR_EQ(s, "PATH=/usr/bin:/bin|HOSTNAME=0a59f3a3e071|TERM=xterm|FOO=bar|");
	free(s);
	env_free(env);
	cJSON_Delete(c);
}

TEST(env_default_path_without_tty_no_term)
{
	cJSON *c = container("[]", "h");
	char **env = exec_relay_env(c, 0, NULL, NULL);
	char *s = env_joined(env);

	ASSERT_STR_EQ(s,
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|"
	    "HOSTNAME=h|");
	free(s);
	env_free(env);
	cJSON_Delete(c);
}

TEST(env_exec_env_overrides_and_unset_removes)
{
	cJSON *c = container("[\"A=1\",\"B=2\",\"C=3\"]", "h");
	char *exec_env[] = { "B=two", "TERM=screen", "D=4=x", "=bad", "nobad", NULL };
	char *unset[] = { "C", "HOSTNAME", NULL };
	char **env = exec_relay_env(c, 1, exec_env, unset);
	char *s = env_joined(env);

	ASSERT_STR_EQ(s,
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|"
	    "TERM=screen|A=1|B=two|D=4=x|");
	free(s);
	env_free(env);
	cJSON_Delete(c);
}

TEST(env_prefix_names_are_not_the_same_variable)
{
	cJSON *c = container("[\"PATHX=1\",\"PAT=2\"]", "");
	char *unset[] = { "PA", NULL };
	char **env = exec_relay_env(c, 0, NULL, unset);
	char *s = env_joined(env);

	ASSERT_STR_EQ(s,
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|"
	    "PATHX=1|PAT=2|");
	free(s);
	env_free(env);
	cJSON_Delete(c);
}

TEST(request_fields_are_tagged_and_nul_terminated)
{
	char *argv[] = { "sh", "-c", "a b", NULL };
	char *env[] = { "X=1", NULL };
	struct exec_relay_req r = { .argv = argv,
		.env = env,
		.user = "dev:extra",
		.workdir = "/w",
		.tty = 1,
		.rows = 37,
		.cols = 101 };
	static const char want[] = "ash\0a-c\0aa b\0eX=1\0udev:extra\0w/w\0t\0r37\0c101";
	struct buf *b = buf_new();
	const unsigned char *p;

	exec_relay_encode(b, &r);
	p = buf_data(b);
	ASSERT_INT_EQ(buf_len(b), 4 + sizeof want);
	ASSERT_INT_EQ(p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3], sizeof want);
	ASSERT_MEM_EQ(p + 4, want, sizeof want);
	buf_free(b);
}

TEST(request_without_tty_size_out_of_range_is_left_out)
{
	char *argv[] = { "true", NULL };
	struct exec_relay_req r = { .argv = argv, .tty = 1, .rows = 70000, .cols = 10 };
	static const char want[] = "atrue\0t";
	struct buf *b = buf_new();

	exec_relay_encode(b, &r);
	ASSERT_INT_EQ(buf_len(b), 4 + sizeof want);
	ASSERT_MEM_EQ(buf_data(b) + 4, want, sizeof want);
	buf_free(b);
}

TEST(frames_have_dockers_header)
{
	struct buf *b = buf_new();
	static const unsigned char want[] = { 6, 0, 0, 0, 0, 0, 0, 1, 2 };
	static const unsigned char end[8] = { 0 };
	unsigned char sig = 2;

	exec_relay_frame(b, EXEC_RELAY_SIGNAL, &sig, 1);
	exec_relay_frame(b, EXEC_RELAY_STDIN, NULL, 0);
	ASSERT_INT_EQ(buf_len(b), 17);
	ASSERT_MEM_EQ(buf_data(b), want, 9);
	ASSERT_MEM_EQ(buf_data(b) + 9, end, 8);
	buf_free(b);
}
