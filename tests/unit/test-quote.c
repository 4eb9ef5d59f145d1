/* test-quote.c - unit tests for common/quote.c (hostile strings in
 * messages and tables). */
#include "test.h"

#include <stdlib.h>
#include <string.h>

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
	/* quoted in 4 bytes at the most: an escape is never cut in two, nor a
	 * character */
	static const char *const cases[][2] = {
		{ "abcdef", "\"abcd...\"" },
		{ "ab\ncd", "\"ab...\"" },
		{ "a\xc3\xa9\xc3\xa9", "\"a\xc3\xa9...\"" },
		{ "abcd", "\"abcd\"" },
	};
	char *q;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TEST_CASE_NAME("case %zu", i);
		q = quote_string(cases[i][0], 4);
		ASSERT_STR_EQ(q, cases[i][1]);
		free(q);
	}
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

/* The stripped text of s fed in chunks of n bytes (a sequence cut between
 * two is still taken out whole). New string. */
static char *
ansi_stripped(const char *s, size_t n)
{
	struct quote_ansi st = { 0 };
	size_t len = strlen(s), got = 0;
	char *out = malloc(len + 1);

	for (size_t i = 0; i < len; i += n)
		got += quote_ansi_strip(&st, s + i, len - i < n ? len - i : n, out + got);
	out[got] = '\0';
	return out;
}

TEST(ansi_strip_takes_out_colours_in_any_chunks)
{
	/* Docker's colours, a cursor move, an OSC hyperlink (BEL and ESC \
	 * ended), a charset switch; line breaks, tabs and UTF-8 kept */
	static const char in[] =
	    "\x1b[1m\x1b[31m#5 ERROR\x1b[0m: x\n\x1b[2K\rstep\t\xc3\xa9\n"
	    "\x1b]8;;http://x\x07link\x1b]8;;\x1b\\ ok\x1b(B.\n";
	static const char want[] = "#5 ERROR: x\n\rstep\t\xc3\xa9\nlink ok.\n";

	for (size_t n = 1; n <= sizeof in; n++) {
		char *got = ansi_stripped(in, n);

		ASSERT_STR_EQ(got, want);
		free(got);
	}
}

TEST(ansi_strip_keeps_a_line_break_inside_a_broken_sequence)
{
	char *got = ansi_stripped("a\x1b\nb\x1b[3\n;4mc\n", 64);

	ASSERT_STR_EQ(got, "a\nb\nc\n");
	free(got);
}

/* An escape string never ended (a stray ESC ] or ESC P in a build's
 * output, or one cut short) ends at its line: the later lines are kept. */
TEST(ansi_strip_ends_an_unended_string_at_its_line)
{
	for (size_t n = 1; n <= 8; n++) {
		char *got = ansi_stripped(
		    "a\x1b]0;title\nstep 2\n\x1bPassword\x1b\nerror: x\n", n);

		ASSERT_STR_EQ(got, "a\nstep 2\n\nerror: x\n");
		free(got);
	}
}
