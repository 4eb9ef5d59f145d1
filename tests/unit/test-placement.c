/* test-placement.c - unit tests for common/placement.c */
#include "test.h"

#include "placement.h"

#include <cjson/cJSON.h>

/* hosts from JSON text (the test's own, always valid). */
static cJSON *
hosts_parse(const char *text)
{
	cJSON *h = cJSON_Parse(text);

	if (h == NULL)
		TEST_FAIL("bad test JSON");
	return h;
}

static const char three[] =
    "[{\"name\":\"small\",\"state\":\"up\",\"cpus\":2,\"memory\":4294967296,"
    "\"storage\":10737418240,\"gpus\":0,\"load\":0.1,"
    "\"reserved\":{\"cpus\":0,\"memory\":0,\"storage\":0}},"
    "{\"name\":\"big\",\"state\":\"up\",\"cpus\":16,\"memory\":68719476736,"
    "\"storage\":107374182400,\"gpus\":0,\"load\":3,"
    "\"reserved\":{\"cpus\":8,\"memory\":0,\"storage\":0}},"
    "{\"name\":\"gpu\",\"state\":\"up\",\"cpus\":8,\"memory\":34359738368,"
    "\"storage\":107374182400,\"gpus\":1,\"load\":0.5,"
    "\"reserved\":{\"cpus\":2,\"memory\":0,\"storage\":0}},"
    "{\"name\":\"hung\",\"state\":\"down\",\"error\":\"timeout\"}]";

TEST(requirements_from_json)
{
	struct placement_req req;
	cJSON *hr = cJSON_Parse("{\"cpus\":4,\"memory\":\"8gb\",\"storage\":"
				"\"1073741824\",\"gpu\":\"optional\"}");

	placement_req_from_json(hr, &req);
	ASSERT_TRUE(req.cpus == 4);
	ASSERT_TRUE(req.memory == 8589934592.0);
	ASSERT_TRUE(req.storage == 1073741824.0);
	ASSERT_INT_EQ(req.gpu, PLACEMENT_GPU_OPTIONAL);
	cJSON_Delete(hr);
	hr = cJSON_Parse("{\"gpu\":{\"cores\":2}}");
	placement_req_from_json(hr, &req);
	ASSERT_INT_EQ(req.gpu, PLACEMENT_GPU_REQUIRED);
	ASSERT_TRUE(req.cpus == 0);
	cJSON_Delete(hr);
	placement_req_from_json(NULL, &req);
	ASSERT_INT_EQ(req.gpu, PLACEMENT_GPU_NO);
}

TEST(no_requirements_picks_least_reserved)
{
	cJSON *hosts = hosts_parse(three), *reasons = NULL;
	struct placement_req req = { 0 };

	/* small: 0/2 reserved; big 8/16; gpu 2/8: small, though not the
	 * emptiest by load. */
	ASSERT_INT_EQ(placement_choose(hosts, &req, &reasons), 0);
	ASSERT_NULL(reasons);
	cJSON_Delete(hosts);
}

TEST(cpus_filter_then_reserved_ratio)
{
	cJSON *hosts = hosts_parse(three);
	struct placement_req req = { .cpus = 4 };

	/* big has 8 free of 16 (0.5 busy), gpu 6 free of 8 (0.25): gpu. */
	ASSERT_INT_EQ(placement_choose(hosts, &req, NULL), 2);
	req.cpus = 7;
	ASSERT_INT_EQ(placement_choose(hosts, &req, NULL), 1);
	cJSON_Delete(hosts);
}

TEST(load_breaks_ties)
{
	cJSON *hosts =
	    hosts_parse("[{\"name\":\"a\",\"state\":\"up\",\"cpus\":4,\"load\":2},"
			"{\"name\":\"b\",\"state\":\"up\",\"cpus\":8,\"load\":0.5},"
			"{\"name\":\"c\",\"state\":\"up\",\"cpus\":8,\"load\":0.5}]");
	struct placement_req req = { 0 };

	ASSERT_INT_EQ(placement_choose(hosts, &req, NULL), 1);
	cJSON_Delete(hosts);
}

TEST(gpu_required_and_optional)
{
	cJSON *hosts = hosts_parse(three);
	struct placement_req req = { .gpu = PLACEMENT_GPU_REQUIRED };

	ASSERT_INT_EQ(placement_choose(hosts, &req, NULL), 2);
	req.gpu = PLACEMENT_GPU_OPTIONAL;
	ASSERT_INT_EQ(placement_choose(hosts, &req, NULL), 0);
	cJSON_Delete(hosts);
}

TEST(none_fits_says_why_per_host)
{
	cJSON *hosts = hosts_parse(three), *reasons = NULL;
	struct placement_req req = { .cpus = 64 };

	ASSERT_INT_EQ(placement_choose(hosts, &req, &reasons), -1);
	ASSERT_INT_EQ(cJSON_GetArraySize(reasons), 4);
	ASSERT_STR_EQ(
	    cJSON_GetArrayItem(reasons, 0)->valuestring, "small: needs 64 cpus, has 2");
	ASSERT_STR_EQ(cJSON_GetArrayItem(reasons, 1)->valuestring,
	    "big: needs 64 cpus, has 8 free (16, 8 reserved)");
	ASSERT_STR_EQ(
	    cJSON_GetArrayItem(reasons, 3)->valuestring, "hung: unreachable (timeout)");
	cJSON_Delete(reasons);
	req.cpus = 0;
	req.memory = 128.0 * 1073741824.0;
	ASSERT_INT_EQ(placement_choose(hosts, &req, &reasons), -1);
	ASSERT_STR_EQ(cJSON_GetArrayItem(reasons, 0)->valuestring,
	    "small: needs 128 GiB memory, has 4 GiB");
	cJSON_Delete(reasons);
	cJSON_Delete(hosts);
}

TEST(storage_and_reserved_memory)
{
	cJSON *hosts = hosts_parse(
	    "[{\"name\":\"a\",\"state\":\"up\",\"cpus\":4,\"memory\":8589934592,"
	    "\"storage\":5368709120,\"reserved\":{\"memory\":6442450944}}]");
	struct placement_req req = { .memory = 4294967296.0 };
	char *why = placement_misfit(cJSON_GetArrayItem(hosts, 0), &req);

	ASSERT_STR_EQ(why, "needs 4 GiB memory, has 2 GiB free (8 GiB, 6 GiB reserved)");
	free(why);
	req.memory = 0;
	req.storage = 6.0 * 1073741824.0;
	why = placement_misfit(cJSON_GetArrayItem(hosts, 0), &req);
	ASSERT_STR_EQ(why, "needs 6 GiB storage, has 5 GiB");
	free(why);
	req.storage = 1;
	ASSERT_NULL(placement_misfit(cJSON_GetArrayItem(hosts, 0), &req));
	cJSON_Delete(hosts);
}

TEST(user_at_max_environments_is_skipped)
{
	cJSON *hosts = hosts_parse("[{\"name\":\"full\",\"state\":\"up\",\"cpus\":4,"
				   "\"maxEnvironmentsPerUser\":2,\"userEnvironments\":2},"
				   "{\"name\":\"room\",\"state\":\"up\",\"cpus\":4,"
				   "\"maxEnvironmentsPerUser\":2,\"userEnvironments\":1},"
				   "{\"name\":\"nolimit\",\"state\":\"up\",\"cpus\":4,"
				   "\"userEnvironments\":9}]");
	struct placement_req req = { 0 };
	cJSON *reasons = NULL;
	char *why = placement_misfit(cJSON_GetArrayItem(hosts, 0), &req);

	ASSERT_STR_EQ(why,
	    "you have 2 running dev containers there, as many as "
	    "its policy allows (maxEnvironmentsPerUser 2)");
	free(why);
	ASSERT_NULL(placement_misfit(cJSON_GetArrayItem(hosts, 1), &req));
	ASSERT_NULL(placement_misfit(cJSON_GetArrayItem(hosts, 2), &req));
	ASSERT_INT_EQ(placement_choose(hosts, &req, &reasons), 1);
	ASSERT_NULL(reasons);
	cJSON_Delete(hosts);
}

TEST(size_text)
{
	char buf[32];

	placement_size_text(512.0 * 1048576, buf, sizeof buf);
	ASSERT_STR_EQ(buf, "512 MiB");
	placement_size_text(1.5 * 1073741824, buf, sizeof buf);
	ASSERT_STR_EQ(buf, "1.5 GiB");
	placement_size_text(100, buf, sizeof buf);
	ASSERT_STR_EQ(buf, "100 bytes");
}
