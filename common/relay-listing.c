/* relay-listing.c - the shape of a container relay's listing
 * (relay-listing.h). */
#include "relay-listing.h"

#include <string.h>

int
relay_listing_ok(const char *text, size_t len)
{
	size_t i = 0, digits, chars;

	while (i < len) {
		for (digits = 0; i < len && text[i] >= '0' && text[i] <= '9'; i++)
			digits++;
		if (digits == 0 || digits > 5 || i == len || text[i++] != ' ')
			return 0;
		/* (inet_ntop's digits, hex, dots and colons; strchr would
		 * find a NUL too) */
		for (chars = 0; i < len && text[i] != '\0' &&
		     strchr("0123456789abcdefABCDEF.:", text[i]) != NULL;
		     i++)
			chars++;
		if (chars == 0 || i == len || text[i++] != '\n')
			return 0;
	}
	return 1;
}
