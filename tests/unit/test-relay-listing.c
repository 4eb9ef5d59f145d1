/* test-relay-listing.c - unit tests for relay-listing.h: a relay's 'L'
 * answer told from another program's. */
#include "test.h"

#include <string.h>

#include "relay-listing.h"

/* A relay's listing (or nothing), not another program's. */
TEST(listing_ok_takes_a_relay_listing_only)
{
	const char *good = "3000 127.0.0.1\n8080 0.0.0.0\n5432 ::\n22 ::ffff:10.0.0.1\n";
	const char *bad[] = { "HTTP/1.0 400 Bad Request\r\n", "3000 127.0.0.1",
		"3000127.0.0.1\n", "123456 ::\n", " ::\n", "3000 \n",
		"3000 ::\nSSH-2.0\n", "3000\n4000\n", "3000 127.0.0.1\n4000\n",
		"3000 127.0.0.1\r\n" };

	ASSERT_TRUE(relay_listing_ok("", 0));
	ASSERT_TRUE(relay_listing_ok(good, strlen(good)));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ASSERT_FALSE(relay_listing_ok(bad[i], strlen(bad[i])));
}
