/* test-forward-spec.c - unit tests for common/forward-spec.c */
#include "test.h"

#include <stdlib.h>

#include "forward-spec.h"

/* Parse text, expecting success. */
static void
parse_ok(const char *text, struct forward_spec *s)
{
	char *cause = NULL;

	if (forward_spec_parse(text, s, &cause) != 0)
		TEST_FAIL("%s: %s", text, cause);
}

/* Parse text, expecting failure; returns the cause (caller frees). */
static char *
parse_bad(const char *text)
{
	struct forward_spec s;
	char *cause = NULL;

	if (forward_spec_parse(text, &s, &cause) == 0)
		TEST_FAIL("%s: parsed", text);
	ASSERT_NOT_NULL(cause);
	return cause;
}

TEST(the_four_forms)
{
	struct forward_spec s;

	parse_ok("3000", &s);
	ASSERT_INT_EQ(s.port, 3000);
	ASSERT_INT_EQ(s.local_port, 0);
	ASSERT_NULL(s.service);
	forward_spec_clear(&s);
	parse_ok("8080:3000", &s);
	ASSERT_INT_EQ(s.local_port, 8080);
	ASSERT_INT_EQ(s.port, 3000);
	ASSERT_NULL(s.service);
	forward_spec_clear(&s);
	parse_ok("db:5432", &s);
	ASSERT_STR_EQ(s.service, "db");
	ASSERT_INT_EQ(s.port, 5432);
	ASSERT_INT_EQ(s.local_port, 0);
	forward_spec_clear(&s);
	parse_ok("15432:db:5432", &s);
	ASSERT_INT_EQ(s.local_port, 15432);
	ASSERT_STR_EQ(s.service, "db");
	ASSERT_INT_EQ(s.port, 5432);
	forward_spec_clear(&s);
}

TEST(bad_specs_name_the_spec)
{
	const char *bad[] = { "", "0", "65536", "-1", "x", "3000:", ":3000", "1:2:3:4",
		"99999:80", "80:99999", "3000 ", "+80", NULL };
	char *cause;

	for (int i = 0; bad[i] != NULL; i++) {
		cause = parse_bad(bad[i]);
		ASSERT_STR_CONTAINS(cause, "forward spec");
		free(cause);
	}
}

TEST(protocol_suffix_tcp_taken_udp_refused)
{
	const char *bad[] = { "31406/udp", "8080:31406/udp", "db:53/UDP", "80/sctp",
		NULL };
	/* (not a protocol after the slash: a typo, said as such) */
	const char *not_port[] = { "80/", "80/tcp/tcp", "abc/udp", "0x/udp", NULL };
	struct forward_spec s;
	char *cause;

	parse_ok("3000/tcp", &s);
	ASSERT_INT_EQ(s.port, 3000);
	ASSERT_INT_EQ(s.local_port, 0);
	forward_spec_clear(&s);
	parse_ok("8080:db:5432/TCP", &s);
	ASSERT_INT_EQ(s.port, 5432);
	ASSERT_INT_EQ(s.local_port, 8080);
	ASSERT_STR_EQ(s.service, "db");
	forward_spec_clear(&s);
	for (int i = 0; bad[i] != NULL; i++) {
		cause = parse_bad(bad[i]);
		ASSERT_STR_CONTAINS(cause, "only TCP is forwarded");
		free(cause);
	}
	for (int i = 0; not_port[i] != NULL; i++) {
		cause = parse_bad(not_port[i]);
		ASSERT_STR_CONTAINS(cause, "is not a port");
		free(cause);
	}
	/* (a protocol is of the port, not of the local port) */
	cause = parse_bad("8080/tcp:3000");
	ASSERT_STR_CONTAINS(cause, "8080/tcp");
	free(cause);
}

TEST(spec_string)
{
	char *s = forward_spec_string(8080, NULL, 3000);

	ASSERT_STR_EQ(s, "8080:3000");
	free(s);
	s = forward_spec_string(15432, "db", 5432);
	ASSERT_STR_EQ(s, "15432:db:5432");
	free(s);
}

TEST(port_attributes_by_port_range_and_other)
{
	cJSON *pa = cJSON_Parse("{\"3000\":{\"label\":\"web\"},\"9000-9010\":{\"label\":"
				"\"range\"},\"x\":{}}");
	cJSON *other = cJSON_Parse("{\"label\":\"other\"}");
	struct forward_port_attrs a;

	forward_port_attributes(pa, other, 3000, &a);
	ASSERT_STR_EQ(a.label, "web");
	forward_port_attributes(pa, other, 9005, &a);
	ASSERT_STR_EQ(a.label, "range");
	forward_port_attributes(pa, other, 9011, &a);
	ASSERT_STR_EQ(a.label, "other");
	forward_port_attributes(pa, NULL, 1, &a);
	ASSERT_NULL(a.label);
	ASSERT_NULL(a.on_auto_forward);
	ASSERT_INT_EQ(a.require_local_port, -1);
	forward_port_attributes(NULL, NULL, 1, &a);
	ASSERT_NULL(a.label);
	cJSON_Delete(pa);
	cJSON_Delete(other);
}

/* As VS Code's ports view resolves them (PortsAttributes.getAttributes):
 * every matching entry counts, in the order of its port; an exact port's
 * attribute over a range's, a range's where the port's says nothing. */
TEST(port_attributes_merge_an_exact_port_with_its_ranges)
{
	/* (the range first in the file, the port inside it) */
	cJSON *pa = cJSON_Parse(
	    "{\"3000-3010\":{\"onAutoForward\":\"ignore\",\"label\":\"range\","
	    "\"requireLocalPort\":true,\"protocol\":\"https\"},"
	    "\"3005\":{\"label\":\"five\"},"
	    "\"2990-3100\":{\"label\":\"wide\",\"elevateIfNeeded\":true},"
	    "\"node .*\":{\"label\":\"process\"},"
	    "\"localhost:3005\":{\"label\":\"host\"},"
	    "\"03007\":{\"onAutoForward\":\"silent\"}}");
	cJSON *other = cJSON_Parse("{\"label\":\"other\",\"onAutoForward\":\"notify\"}");
	struct forward_port_attrs a;

	/* 2990-3100 (first by its port) sets label and elevateIfNeeded;
	 * 3000-3010 fills onAutoForward and protocol, not label nor
	 * requireLocalPort; 3005 (exact) sets label and its own requireLocalPort
	 * and protocol (none) */
	forward_port_attributes(pa, other, 3005, &a);
	ASSERT_STR_EQ(a.label, "five");
	ASSERT_STR_EQ(a.on_auto_forward, "ignore");
	ASSERT_INT_EQ(a.elevate_if_needed, 1);
	ASSERT_INT_EQ(a.require_local_port, -1);
	ASSERT_NULL(a.protocol);
	/* only ranges: the first by port wins each attribute */
	forward_port_attributes(pa, other, 3001, &a);
	ASSERT_STR_EQ(a.label, "wide");
	ASSERT_STR_EQ(a.on_auto_forward, "ignore");
	ASSERT_STR_EQ(a.protocol, "https");
	ASSERT_INT_EQ(a.require_local_port, -1);
	/* a port written with a leading zero is that port (Number("03007")) */
	forward_port_attributes(pa, other, 3007, &a);
	ASSERT_STR_EQ(a.on_auto_forward, "silent");
	ASSERT_STR_EQ(a.label, "wide");
	/* a process pattern or a host:port key matches nothing: other */
	forward_port_attributes(pa, other, 4000, &a);
	ASSERT_STR_EQ(a.label, "other");
	ASSERT_STR_EQ(a.on_auto_forward, "notify");
	cJSON_Delete(pa);
	cJSON_Delete(other);
}

/* An exact port's requireLocalPort counts; a port that says nothing but is
 * inside a range that says something does not fall back to
 * otherPortsAttributes; an empty entry does. */
TEST(port_attributes_exact_require_local_and_empty_entries)
{
	cJSON *pa = cJSON_Parse(
	    "{\"5000\":{\"requireLocalPort\":true},\"5000-5001\":{\"label\":\"r\"},"
	    "\"6000\":{},\"x-y\":{\"label\":\"bad\"},\"70000-70001\":{}}");
	cJSON *other = cJSON_Parse("{\"onAutoForward\":\"ignore\"}");
	struct forward_port_attrs a;

	forward_port_attributes(pa, other, 5000, &a);
	ASSERT_INT_EQ(a.require_local_port, 1);
	ASSERT_STR_EQ(a.label, "r");
	ASSERT_NULL(a.on_auto_forward);
	forward_port_attributes(pa, other, 5001, &a);
	ASSERT_STR_EQ(a.label, "r");
	ASSERT_INT_EQ(a.require_local_port, -1);
	ASSERT_NULL(a.on_auto_forward);
	forward_port_attributes(pa, other, 6000, &a);
	ASSERT_STR_EQ(a.on_auto_forward, "ignore");
	cJSON_Delete(pa);
	cJSON_Delete(other);
}

/* Keys that are neither a port nor a FROM-TO range match nothing; a range
 * and a port of the same first port: the port first (JavaScript's key
 * order), so the range only fills what the port's entry leaves unset. */
TEST(port_attributes_odd_keys_and_ties)
{
	cJSON *pa = cJSON_Parse(
	    "{\"4000-\":{\"label\":\"a\"},\"-4000\":{\"label\":\"b\"},"
	    "\"4010-4000\":{\"label\":\"c\"},\"99999999999999999999\":{\"label\":\"d\"},"
	    "\"4000-99999999999999999999\":{\"protocol\":\"http\"},"
	    "\"4001\":\"not an object\","
	    "\"5000-5005\":{\"protocol\":\"https\",\"label\":\"range\"},"
	    "\"5000\":{\"label\":\"port\"}}");
	struct forward_port_attrs a;
	long from, to;

	forward_port_attributes(pa, NULL, 4000, &a);
	ASSERT_NULL(a.label);
	ASSERT_STR_EQ(a.protocol, "http");
	forward_port_attributes(pa, NULL, 4001, &a);
	ASSERT_NULL(a.label);
	ASSERT_STR_EQ(a.protocol, "http");
	forward_port_attributes(pa, NULL, 65535, &a);
	ASSERT_STR_EQ(a.protocol, "http");
	/* "5000" sorts before "5000-5005": its (unset) protocol first, then the
	 * range's fills it; its label stays */
	forward_port_attributes(pa, NULL, 5000, &a);
	ASSERT_STR_EQ(a.label, "port");
	ASSERT_STR_EQ(a.protocol, "https");
	ASSERT_INT_EQ(forward_port_key_parse("03000", &from, &to), 1);
	ASSERT_INT_EQ(from, 3000);
	ASSERT_INT_EQ(forward_port_key_parse("1-70000", &from, &to), 0);
	ASSERT_INT_EQ(to, 65536);
	ASSERT_INT_EQ(forward_port_key_parse("3e3", &from, &to), -1);
	ASSERT_INT_EQ(forward_port_key_parse("", &from, &to), -1);
	ASSERT_INT_EQ(forward_port_key_parse("1-2-3", &from, &to), -1);
	cJSON_Delete(pa);
}
