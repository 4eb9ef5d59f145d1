/* test-broker-state.c - unit tests for broker/broker-state.c */
#include "test.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "broker-state.h"
#include "xmalloc.h"

static char *
make_tempdir(void)
{
	char *dir = xstrdup("/tmp/rdev-test-state-XXXXXX");

	if (mkdtemp(dir) == NULL)
		abort();
	return dir;
}

/* The one entry of dir whose name starts with prefix (new), or NULL; every
 * entry is removed, then dir. */
static char *
take_entry_and_remove(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *found = NULL, *p;

	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (found == NULL && strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			found = xstrdup(de->d_name);
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
	return found;
}

static cJSON *
host_entry(const char *host, int port, int local)
{
	cJSON *h = cJSON_CreateObject(), *fw, *f, *au, *a, *seen;

	cJSON_AddStringToObject(h, "host", host);
	cJSON_AddStringToObject(h, "user", "dev");
	cJSON_AddNumberToObject(h, "port", 2222);
	cJSON_AddStringToObject(h, "sshConfig", "/home/u/.ssh/config");
	fw = cJSON_AddArrayToObject(h, "forwards");
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "workspace", "~/ws");
	cJSON_AddStringToObject(f, "service", "db");
	cJSON_AddNumberToObject(f, "port", port);
	cJSON_AddNumberToObject(f, "local", local);
	cJSON_AddBoolToObject(f, "requireLocal", 1);
	cJSON_AddStringToObject(f, "label", "database");
	cJSON_AddItemToArray(fw, f);
	au = cJSON_AddArrayToObject(h, "autos");
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "workspace", "~/ws");
	cJSON_AddItemToObject(a, "attributes",
	    cJSON_Parse("{\"portsAttributes\":"
			"{\"3000\":{\"onAutoForward\":\"ignore\"}}}"));
	seen = cJSON_AddArrayToObject(a, "seen");
	cJSON_AddItemToArray(seen, cJSON_CreateNumber(3000));
	cJSON_AddItemToArray(au, a);
	return h;
}

TEST(round_trip_keeps_everything)
{
	char *dir = make_tempdir(), *path = xasprintf("%s/state.json", dir);
	char *cause = NULL, *warning = NULL, *left;
	cJSON *hosts = cJSON_CreateArray(), *back;
	struct stat st;

	cJSON_AddItemToArray(hosts, host_entry("a.example", 5432, 15432));
	cJSON_AddItemToArray(hosts, host_entry("b.example", 80, 8080));
	ASSERT_INT_EQ(broker_state_write(path, hosts, &cause), 0);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	back = broker_state_load(path, &warning);
	ASSERT_NULL(warning);
	ASSERT_TRUE(cJSON_Compare(back, hosts, 1));
	cJSON_Delete(back);
	cJSON_Delete(hosts);
	left = take_entry_and_remove(dir, "state.json");
	ASSERT_STR_EQ(left, "state.json"); /* and no temporary file */
	free(left);
	free(path);
	free(dir);
}

TEST(no_file_is_empty)
{
	char *warning = NULL;
	cJSON *hosts = broker_state_load("/nonexistent/rdev/state.json", &warning);

	ASSERT_NULL(warning);
	ASSERT_INT_EQ(cJSON_GetArraySize(hosts), 0);
	cJSON_Delete(hosts);
}

/* Write text as the state file, load it: nothing, a warning, and the file
 * moved aside to state.json.bad-TIME. */
static void
check_moved_aside(const char *text, const char *want_warning)
{
	char *dir = make_tempdir(), *path = xasprintf("%s/state.json", dir);
	char *cause = NULL, *warning = NULL, *aside, *data = NULL;
	cJSON *hosts;

	if (atomic_file_write(path, text, strlen(text), 0600, &cause) != 0)
		TEST_FAIL("%s", cause);
	hosts = broker_state_load(path, &warning);
	ASSERT_INT_EQ(cJSON_GetArraySize(hosts), 0);
	cJSON_Delete(hosts);
	ASSERT_STR_CONTAINS(warning, want_warning);
	ASSERT_STR_CONTAINS(warning, "moved aside to");
	ASSERT_INT_EQ(access(path, F_OK), -1);
	aside = xasprintf("%s/state.json.bad-", dir);
	ASSERT_STR_CONTAINS(warning, aside);
	free(aside);
	/* the bad file kept as it was */
	aside = xasprintf("%s/%s", dir, strstr(warning, "state.json.bad-"));
	*strchr(aside + strlen(dir) + 1, ',') = '\0';
	ASSERT_INT_EQ(file_read_all(aside, 1 << 20, &data, NULL, &cause), 0);
	ASSERT_STR_EQ(data, text);
	free(data);
	free(aside);
	free(warning);
	free(take_entry_and_remove(dir, ""));
	free(path);
	free(dir);
}

TEST(corrupt_file_is_moved_aside)
{
	check_moved_aside("{\"version\":1,\"hosts\":[{\"host\":\"a\",", "not JSON");
}

/* A forward to container port 0 or 70000 (an older rdev saved them): left
 * out with a warning that names it, the rest restored, the file kept. */
TEST(forward_to_a_port_outside_1_65535_is_dropped_with_a_warning)
{
	static const char text[] =
	    "{\"version\":1,\"hosts\":[{\"host\":\"a\",\"forwards\":["
	    "{\"workspace\":\"~/zero\",\"port\":0,\"local\":0},"
	    "{\"workspace\":\"~/big\",\"port\":70000,\"local\":1},"
	    "{\"workspace\":\"~/ws\",\"port\":3000,\"local\":3000}]}]}";
	char *dir = make_tempdir(), *path = xasprintf("%s/state.json", dir);
	char *cause = NULL, *warning = NULL, *dropped = NULL;
	cJSON *hosts, *fw;

	if (atomic_file_write(path, text, strlen(text), 0600, &cause) != 0)
		TEST_FAIL("%s", cause);
	hosts = broker_state_load(path, &warning);
	ASSERT_INT_EQ(cJSON_GetArraySize(hosts), 1);
	fw = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(hosts, 0), "forwards");
	ASSERT_INT_EQ(cJSON_GetArraySize(fw), 1);
	ASSERT_INT_EQ(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(fw, 0), "port")->valueint,
	    3000);
	ASSERT_STR_CONTAINS(warning,
	    "hosts[0]: the saved forward of ~/zero to "
	    "container port 0");
	ASSERT_STR_CONTAINS(warning, "dropped, not restored");
	ASSERT_STR_CONTAINS(warning,
	    "hosts[0]: the saved forward of ~/big to "
	    "container port 70000");
	ASSERT_INT_EQ(access(path, F_OK), 0); /* (not moved aside) */
	cJSON_Delete(hosts);
	free(warning);
	/* parse alone: the same, dropped not asked for */
	hosts = broker_state_parse(text, strlen(text), &cause, NULL);
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetArrayItem(hosts, 0), "forwards")),
	    1);
	cJSON_Delete(hosts);
	hosts = broker_state_parse(text, strlen(text), &cause, &dropped);
	ASSERT_STR_CONTAINS(dropped, "~/zero");
	free(dropped);
	cJSON_Delete(hosts);
	free(take_entry_and_remove(dir, "state.json"));
	free(path);
	free(dir);
}

TEST(wrong_shape_is_moved_aside)
{
	check_moved_aside("{\"version\":2,\"hosts\":[]}", "version 2, not 1");
	check_moved_aside("[]", "no version");
	check_moved_aside(
	    "{\"version\":1,\"hosts\":[{\"user\":\"x\"}]}", "hosts[0]: no host");
	check_moved_aside("{\"version\":1,\"hosts\":[{\"host\":\"a\",\"autos\":"
			  "[{\"workspace\":\"w\",\"seen\":[\"x\"]}]}]}",
	    "autos[0]: seen holds");
}

TEST(put_replaces_the_hosts_entry_and_empty_removes_the_file)
{
	char *dir = make_tempdir(), *path = xasprintf("%s/state.json", dir);
	char *cause = NULL, *warning = NULL;
	struct broker_state *s = broker_state_open(path, &warning);
	cJSON *snap, *empty;

	ASSERT_NULL(warning);
	ASSERT_INT_EQ(broker_state_put(s, host_entry("a", 1, 1001), &cause), 0);
	ASSERT_INT_EQ(broker_state_put(s, host_entry("b", 2, 1002), &cause), 0);
	ASSERT_INT_EQ(broker_state_put(s, host_entry("a", 3, 1003), &cause), 0);
	snap = broker_state_snapshot(s);
	ASSERT_INT_EQ(cJSON_GetArraySize(snap), 2);
	cJSON_Delete(snap);
	broker_state_free(s);

	/* what the next broker finds */
	s = broker_state_open(path, &warning);
	ASSERT_NULL(warning);
	snap = broker_state_snapshot(s);
	ASSERT_INT_EQ(cJSON_GetArraySize(snap), 2);
	ASSERT_INT_EQ(
	    cJSON_GetObjectItem(
		cJSON_GetArrayItem(
		    cJSON_GetObjectItem(cJSON_GetArrayItem(snap, 0), "forwards"), 0),
		"local")
		->valueint,
	    1003);
	cJSON_Delete(snap);

	/* a host with nothing left goes; the file goes with the last */
	empty = cJSON_CreateObject();
	cJSON_AddStringToObject(empty, "host", "a");
	cJSON_AddStringToObject(empty, "user", "dev");
	cJSON_AddNumberToObject(empty, "port", 2222);
	cJSON_AddStringToObject(empty, "sshConfig", "/home/u/.ssh/config");
	ASSERT_INT_EQ(broker_state_put(s, empty, &cause), 0);
	snap = broker_state_snapshot(s);
	ASSERT_INT_EQ(cJSON_GetArraySize(snap), 1);
	cJSON_Delete(snap);
	ASSERT_INT_EQ(access(path, F_OK), 0);
	ASSERT_INT_EQ(broker_state_clear(s, &cause), 0);
	ASSERT_INT_EQ(access(path, F_OK), -1);
	broker_state_free(s);
	rmdir(dir);
	free(path);
	free(dir);
}

TEST(same_host_compares_the_session_parameters)
{
	cJSON *a = cJSON_Parse("{\"host\":\"h\",\"user\":\"u\",\"port\":22}");
	cJSON *b =
	    cJSON_Parse("{\"host\":\"h\",\"user\":\"u\",\"port\":22,\"forwards\":[]}");
	cJSON *c = cJSON_Parse("{\"host\":\"h\",\"user\":\"u\"}");
	cJSON *d = cJSON_Parse("{\"host\":\"h\",\"user\":\"u\",\"port\":22,"
			       "\"knownHosts\":\"/k\"}");

	ASSERT_TRUE(broker_state_same_host(a, b));
	ASSERT_FALSE(broker_state_same_host(a, c));
	ASSERT_FALSE(broker_state_same_host(a, d));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(d);
}
