/* test-relay-install.c - unit tests for the pure parts of relay-install.h
 * (agent/relay-install-tar.c): the tar writer (checked by the system's tar
 * too) and the first-file reader; when a known target is still the
 * container's (relay_install_unchanged); and the address of a container on
 * another's network ("container:ID"), its owners inspected at a fake daemon
 * (a child answering GET /containers/ID/json from a table, else 404). */
#include "test.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "docker.h"
#include "relay-install.h"
#include "xmalloc.h"

/* A tar with the relay and an empty port file, as the agent uploads it. */
static void
make_tar(unsigned char **tar, size_t *len, const char *content, size_t clen)
{
	const char *names[] = { ".rdev-relay", ".rdev-relay.port" };
	const void *data[] = { content, "" };
	size_t lens[] = { clen, 0 };
	unsigned modes[] = { 0755, 0644 };

	relay_install_tar(2, names, data, lens, modes, tar, len);
}

TEST(tar_is_blocks_of_512_with_checksums)
{
	unsigned char *tar;
	size_t len;
	unsigned sum = 0;
	char want[8];

	make_tar(&tar, &len, "hello", 5);
	/* header, 1 data block, header, two zero blocks */
	ASSERT_INT_EQ(len, 5 * 512);
	ASSERT_STR_EQ((char *)tar, ".rdev-relay");
	ASSERT_MEM_EQ(tar + 100, "0000755", 7);
	ASSERT_MEM_EQ(tar + 124, "00000000005", 11);
	ASSERT_MEM_EQ(tar + 257, "ustar\00000", 8);
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : tar[i];
	snprintf(want, sizeof want, "%06o", sum);
	ASSERT_MEM_EQ(tar + 148, want, 6);
	ASSERT_MEM_EQ(tar + 512, "hello", 5);
	ASSERT_STR_EQ((char *)tar + 1024, ".rdev-relay.port");
	free(tar);
}

TEST(tar_is_read_by_system_tar)
{
	char dir[] = "/tmp/rdev-test-relay-XXXXXX", *cmd, *path, *got;
	unsigned char *tar;
	size_t len, glen;
	struct stat st;
	FILE *f;

	ASSERT_NOT_NULL(mkdtemp(dir));
	make_tar(&tar, &len, "#!/bin/sh\necho hi\n", 18);
	path = xasprintf("%s/t.tar", dir);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	ASSERT_INT_EQ(fwrite(tar, 1, len, f), len);
	fclose(f);
	cmd = xasprintf("tar -xf %s -C %s 2>&1", path, dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	free(path);
	path = xasprintf("%s/.rdev-relay", dir);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0755);
	ASSERT_INT_EQ(st.st_size, 18);
	f = fopen(path, "r");
	got = xmalloc(64);
	glen = fread(got, 1, 64, f);
	fclose(f);
	ASSERT_MEM_EQ(got, "#!/bin/sh\necho hi\n", 18);
	ASSERT_INT_EQ(glen, 18);
	free(got);
	free(path);
	path = xasprintf("%s/.rdev-relay.port", dir);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_size, 0);
	free(path);
	test_rm_rf(dir);
	free(tar);
}

TEST(untar_first_gives_the_first_file)
{
	unsigned char *tar;
	size_t len, dlen;
	char *data = NULL, *cause = NULL;

	make_tar(&tar, &len, "41234\n", 6);
	ASSERT_INT_EQ(relay_install_untar_first(tar, len, &data, &dlen, &cause), 0);
	ASSERT_STR_EQ(data, "41234\n");
	ASSERT_INT_EQ(dlen, 6);
	free(data);
	free(tar);
}

TEST(untar_first_refuses_truncated_and_empty)
{
	unsigned char *tar, zeros[1024] = { 0 };
	size_t len, dlen;
	char *data = NULL, *cause = NULL;

	make_tar(&tar, &len, "0123456789", 10);
	/* The size says 10 bytes; only the header is there. */
	ASSERT_INT_EQ(relay_install_untar_first(tar, 515, &data, &dlen, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "truncated");
	free(cause);
	cause = NULL;
	ASSERT_NULL(data);
	ASSERT_INT_EQ(
	    relay_install_untar_first(zeros, sizeof zeros, &data, &dlen, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "no file");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(relay_install_untar_first(tar, 100, &data, &dlen, &cause), -1);
	free(cause);
	free(tar);
}

TEST(untar_first_skips_a_directory)
{
	unsigned char tar[2048] = { 0 };
	size_t dlen;
	char *data = NULL, *cause = NULL;

	/* A directory entry, then a file of 3 bytes. */
	memcpy(tar, "d/", 2);
	memcpy(tar + 124, "00000000000", 11);
	tar[156] = '5';
	memcpy(tar + 512, "d/f", 3);
	memcpy(tar + 512 + 124, "00000000003", 11);
	tar[512 + 156] = '0';
	memcpy(tar + 1024, "abc", 3);
	ASSERT_INT_EQ(
	    relay_install_untar_first(tar, sizeof tar, &data, &dlen, &cause), 0);
	ASSERT_STR_EQ(data, "abc");
	free(data);
}

/* The dev container c1 at 172.17.0.2, started at started. */
static cJSON *
container_started(const char *started)
{
	cJSON *c = cJSON_CreateObject(), *state, *nets, *net;

	cJSON_AddStringToObject(c, "Id", "c1");
	state = cJSON_AddObjectToObject(c, "State");
	cJSON_AddBoolToObject(state, "Running", 1);
	cJSON_AddStringToObject(state, "StartedAt", started);
	nets = cJSON_AddObjectToObject(
	    cJSON_AddObjectToObject(c, "NetworkSettings"), "Networks");
	net = cJSON_AddObjectToObject(nets, "bridge");
	cJSON_AddStringToObject(net, "IPAddress", "172.17.0.2");
	return c;
}

/* Records under dir (RDEV_STATE_DIR) the relay of c1's start at
 * 2026-12-04T10:00:00Z, as the agent does after installing it. */
static void
relay_state_write(const char *dir)
{
	char *path = xasprintf("%s/relay", dir);
	FILE *f;

	ASSERT_INT_EQ(mkdir(path, 0700), 0);
	free(path);
	path = xasprintf("%s/relay/c1.json", dir);
	ASSERT_NOT_NULL(f = fopen(path, "w"));
	fprintf(f,
	    "{\"port\":40000,\"token\":\"%064d\",\"hash\":\"h\","
	    "\"started\":\"2026-12-04T10:00:00Z\"}\n",
	    0);
	fclose(f);
	free(path);
}

TEST(unchanged_needs_the_relay_of_this_start)
{
	char dir[] = "/tmp/rdev-test-relay-XXXXXX";
	struct relay_known known = { "c1", "172.17.0.2", 0 };
	cJSON *first = container_started("2026-12-04T10:00:00Z"),
	      *again = container_started("2026-12-04T11:00:00Z");

	ASSERT_NOT_NULL(mkdtemp(dir));
	setenv("RDEV_STATE_DIR", dir, 1);
	ASSERT_FALSE(relay_install_unchanged(NULL, first, "c1", &known)); /* no state */
	relay_state_write(dir);
	ASSERT_TRUE(relay_install_unchanged(NULL, first, "c1", &known));
	/* stopped and started again: the relay recorded is gone */
	ASSERT_FALSE(relay_install_unchanged(NULL, again, "c1", &known));
	known.address = "172.17.0.3";
	ASSERT_FALSE(relay_install_unchanged(NULL, first, "c1", &known));
	test_rm_rf(dir);
	unsetenv("RDEV_STATE_DIR");
	cJSON_Delete(first);
	cJSON_Delete(again);
}

/* A fake Docker daemon on dir/docker.sock: each connection's GET
 * /containers/ID/json is answered with the inspect of ids[i] (bodies[i]),
 * any other with a 404. Returns the child's pid. */
static pid_t
fake_daemon(const char *dir, const char *const *ids, const char *const *bodies, size_t n)
{
	struct sockaddr_un sun;
	char req[4096], *sock = xasprintf("%s/docker.sock", dir), *resp, *p, *end;
	const char *body;
	size_t len;
	ssize_t r;
	pid_t pid;
	int s, c;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	free(sock);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(s, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(s, 8) < 0)
		abort();
	fflush(NULL);
	if ((pid = fork()) < 0)
		abort();
	if (pid > 0) {
		close(s);
		return pid;
	}
	alarm(20); /* (never outlives a failed test) */
	signal(SIGPIPE, SIG_IGN);
	while ((c = accept(s, NULL, NULL)) >= 0) {
		len = 0;
		while (len < sizeof req - 1 &&
		    (r = read(c, req + len, sizeof req - 1 - len)) > 0) {
			len += (size_t)r;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[len] = '\0';
		body = NULL;
		if ((p = strstr(req, "/containers/")) != NULL &&
		    (end = strstr(p, "/json ")) != NULL) {
			p += strlen("/containers/");
			for (size_t i = 0; i < n; i++) {
				if ((size_t)(end - p) == strlen(ids[i]) &&
				    strncmp(p, ids[i], (size_t)(end - p)) == 0)
					body = bodies[i];
			}
		}
		if (body == NULL)
			body = "{\"message\":\"No such container\"}";
		resp = xasprintf("HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    strncmp(body, "{\"message\"", 10) == 0 ? "404 Not Found" : "200 OK",
		    strlen(body), body);
		if (write(c, resp, strlen(resp)) < 0)
			_exit(1);
		free(resp);
		close(c);
	}
	_exit(0);
}

/* The dev container c1 on the network of container net (HostConfig's
 * NetworkMode "container:net"), with no network of its own. */
static cJSON *
container_on(const char *net)
{
	cJSON *c = cJSON_CreateObject(), *state;
	char *mode = xasprintf("container:%s", net);

	cJSON_AddStringToObject(c, "Id", "c1");
	state = cJSON_AddObjectToObject(c, "State");
	cJSON_AddBoolToObject(state, "Running", 1);
	cJSON_AddStringToObject(state, "StartedAt", "2026-12-04T10:00:00Z");
	cJSON_AddStringToObject(
	    cJSON_AddObjectToObject(c, "HostConfig"), "NetworkMode", mode);
	cJSON_AddObjectToObject(
	    cJSON_AddObjectToObject(c, "NetworkSettings"), "Networks");
	free(mode);
	return c;
}

/* relay_install_endpoint()'s cause for the dev container c1 on net's
 * network (caller frees); the address is found before anything is
 * installed, so a failure there is the address's. */
static char *
endpoint_cause(struct docker *d, const char *net)
{
	struct relay_endpoint ep;
	cJSON *c = container_on(net);
	char *cause = NULL;

	ASSERT_INT_EQ(relay_install_endpoint(d, c, 0, 0, &ep, &cause), -1);
	ASSERT_NOT_NULL(cause);
	cJSON_Delete(c);
	return cause;
}

/* A container on another's network (Compose's network_mode) is reached at
 * the owner's address, followed through owners on others' in turn; an
 * owner gone, stopped or too deep is named, not "has no IP address". */
TEST(address_of_container_on_anothers_network)
{
	char dir[] = "/tmp/rdev-test-relay-XXXXXX", *cause, *sock;
	const char *ids[] = { "up", "via", "stopped", "l2", "l3", "l4", "l5" };
	const char *bodies[] = {
		"{\"Id\":\"up\",\"Name\":\"/p-app-1\",\"State\":{\"Running\":true},"
		"\"NetworkSettings\":{\"Networks\":{\"p_default\":{\"IPAddress\":"
		"\"172.18.0.5\"}}}}",
		"{\"Id\":\"via\",\"State\":{\"Running\":true},"
		"\"HostConfig\":{\"NetworkMode\":\"container:up\"}}",
		"{\"Id\":\"stopped\",\"Name\":\"/p-net-1\",\"State\":{\"Running\":"
		"false},\"NetworkSettings\":{\"Networks\":{\"p_default\":{"
		"\"IPAddress\":\"\"}}}}",
		"{\"HostConfig\":{\"NetworkMode\":\"container:l3\"}}",
		"{\"HostConfig\":{\"NetworkMode\":\"container:l4\"}}",
		"{\"HostConfig\":{\"NetworkMode\":\"container:l5\"}}",
		"{\"HostConfig\":{\"NetworkMode\":\"container:up\"}}",
	};
	struct relay_known known = { "c1", "172.18.0.5", 0 };
	struct docker *d;
	cJSON *c;
	pid_t pid;
	int st;

	ASSERT_NOT_NULL(mkdtemp(dir));
	pid = fake_daemon(dir, ids, bodies, sizeof ids / sizeof ids[0]);
	sock = xasprintf("%s/docker.sock", dir);
	d = docker_new(sock);
	/* the owner's address, directly and through another */
	setenv("RDEV_STATE_DIR", dir, 1);
	relay_state_write(dir);
	c = container_on("up");
	ASSERT_TRUE(relay_install_unchanged(d, c, "c1", &known));
	cJSON_Delete(c);
	c = container_on("via");
	ASSERT_TRUE(relay_install_unchanged(d, c, "c1", &known));
	cJSON_Delete(c);
	c = container_on("l3"); /* l3, l4, l5, up: the four followed */
	ASSERT_TRUE(relay_install_unchanged(d, c, "c1", &known));
	cJSON_Delete(c);
	c = container_on("gone");
	ASSERT_FALSE(relay_install_unchanged(d, c, "c1", &known));
	cJSON_Delete(c);
	unsetenv("RDEV_STATE_DIR");

	cause = endpoint_cause(d, "gone");
	ASSERT_STR_CONTAINS(cause,
	    "the dev container c1 shares container gone's network (network_mode), "
	    "which is gone: this container must be made again");
	free(cause);
	cause = endpoint_cause(d, "stopped");
	ASSERT_STR_CONTAINS(cause,
	    "the dev container c1 shares container p-net-1's network "
	    "(network_mode), which is not running: start it, then restart this "
	    "container (docker start p-net-1");
	free(cause);
	cause = endpoint_cause(d, "l2"); /* l2 .. l5, up: one more than followed */
	ASSERT_STR_CONTAINS(cause,
	    "the dev container c1 shares container l2's network (network_mode), "
	    "which shares another's in turn, more than 4 deep");
	free(cause);

	docker_free(d);
	kill(pid, SIGTERM);
	ASSERT_INT_EQ(waitpid(pid, &st, 0), pid);
	free(sock);
	test_rm_rf(dir);
}
