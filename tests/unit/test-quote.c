/* test-quote.c - unit tests for common/quote.c (hostile strings in
 * messages and tables). */
#include "test.h"

#include <stdlib.h>

#include "quote.h"

TEST(string_escapes_controls_quotes_and_backslashes)
{
	char *q = quote_string("a\nb\t\"c\"\\d\x1b[31m\x7f", 0);

	ASSERT_STR_EQ(q, "\"a\\u000ab\\u0009\\\"c\\\"\\\\d\\u001b[31m\\u007f\"");
	free(q);
	/* C1 (U+009B, a CSI to some terminals) escaped; other UTF-8 kept */
	q = quote_string("x\xc2\x9by \xc3\xa9", 0);
	ASSERT_STR_EQ(q, "\"x\\u009by \xc3\xa9\"");
	free(q);
}

TEST(string_cuts_between_characters)
{
	char *q = quote_string("abcdef", 4);

	ASSERT_STR_EQ(q, "\"abcd...\"");
	free(q);
	/* an escape is never cut in two, nor a character */
	q = quote_string("ab\ncd", 4);
	ASSERT_STR_EQ(q, "\"ab...\"");
	free(q);
	q = quote_string("a\xc3\xa9\xc3\xa9", 4);
	ASSERT_STR_EQ(q, "\"a\xc3\xa9...\"");
	free(q);
	q = quote_string("abcd", 4);
	ASSERT_STR_EQ(q, "\"abcd\"");
	free(q);
}

TEST(shown_leaves_clean_strings_alone)
{
	struct quote_kept keep = { 0 };
	const char *clean = "/home/u/my app \"x\" \\y";

	ASSERT_TRUE(quote_shown(&keep, clean) == clean);
	ASSERT_TRUE(quote_shown(&keep, NULL) == NULL);
	ASSERT_STR_EQ(quote_shown(&keep, "my\napp"), "\"my\\u000aapp\"");
	ASSERT_STR_EQ(quote_shown(&keep, "\x1b]0;x\x07"), "\"\\u001b]0;x\\u0007\"");
	ASSERT_INT_EQ((long)keep.n, 2);
	quote_kept_free(&keep);
	ASSERT_INT_EQ((long)keep.n, 0);
	ASSERT_TRUE(!quote_needed("plain \xc3\xa9"));
	ASSERT_TRUE(quote_needed("tab\there"));
}
