/* test-broker-probe.c - unit tests for broker/broker-probe.c's words for a
 * host that did not finish the SSH handshake (placement, `hosts ls`,
 * `ls @POOL`), chosen by what the session's failed response says the
 * handshake got to ("proxied", "banner"), not by its message. */
#include "test.h"

#include "broker-probe.h"

/* A TCP port that answers and no banner: the words the pool tests know. */
TEST(no_banner)
{
	ASSERT_STR_EQ(broker_probe_handshake_words(0, 0),
	    "no SSH handshake: the TCP port answers, SSH does not");
}

/* The banner came and the key exchange hung: said, not "SSH does not". */
TEST(key_exchange_hung_kept)
{
	ASSERT_STR_EQ(broker_probe_handshake_words(0, 1),
	    "no SSH handshake: the SSH banner came, the key exchange did not end");
}

/* Through a ProxyCommand/ProxyJump no TCP port of ours answered: the proxy
 * command ran. */
TEST(through_a_proxy)
{
	ASSERT_STR_EQ(broker_probe_handshake_words(1, 0),
	    "no SSH handshake: the proxy command ran, no SSH came through it");
	ASSERT_STR_EQ(broker_probe_handshake_words(1, 1),
	    "no SSH handshake: through the proxy command the SSH banner came, the "
	    "key exchange did not end");
}
