/* run-args-parse.c - the value parsers of runArgs, with the semantics of the
 * Go functions the docker CLI uses: booleans, integers, IP addresses, paths
 * (run-args-internal.h). */
#include "run-args-internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "xmalloc.h"

/* strconv.ParseBool. */
int
run_args_parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
	static const char *no[] = { "0", "f", "F", "FALSE", "false", "False", NULL };
	int i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcmp(s, yes[i]) == 0)
			return *out = 1, 0;
	for (i = 0; no[i] != NULL; i++)
		if (strcmp(s, no[i]) == 0)
			return *out = 0, 0;
	return -1;
}

/* strconv.ParseInt(s, base, 64); base 0 takes 0x/0o/0b/0 prefixes as pflag's
 * integer flags do. Values beyond what JSON carries exactly are refused. */
int
run_args_parse_int(const char *s, int base, int64_t *out)
{
	const char *p = s;
	int neg = 0, digit;
	uint64_t v = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (base == 0) {
		base = 10;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			base = 16, p += 2;
		else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
			base = 8, p += 2;
		else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
			base = 2, p += 2;
		else if (p[0] == '0' && p[1] != '\0')
			base = 8, p++;
	}
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p))
			digit = *p - '0';
		else if (isalpha((unsigned char)*p))
			digit = tolower((unsigned char)*p) - 'a' + 10;
		else
			return -1;
		if (digit >= base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)digit;
		if (v > (uint64_t)RUN_ARGS_MAX_EXACT)
			return -1;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* An IP address as Go's net.ParseIP takes it, in Go's canonical form
 * (IPv4-mapped IPv6 addresses print as IPv4). 0 on success. */
int
run_args_ip(const char *s, char *out, size_t len)
{
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)len) == NULL ? -1 : 0;
	if (inet_pton(AF_INET6, s, a) != 1)
		return -1;
	if (memcmp(a, mapped, sizeof mapped) == 0)
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)len) == NULL ? -1 : 0;
	return inet_ntop(AF_INET6, a, out, (socklen_t)len) == NULL ? -1 : 0;
}

/* Go's path.Clean: a new string. */
char *
run_args_path_clean(const char *path)
{
	size_t n = strlen(path), r = 0, w = 0, dotdot = 0;
	int rooted = n > 0 && path[0] == '/';
	char *out;

	if (n == 0)
		return xstrdup(".");
	out = xmalloc(n + 2);
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/')
			r++;
		else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/'))
			r++;
		else if (path[r] == '.' && path[r + 1] == '.' &&
		    (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && path[r] != '/'; r++)
				out[w++] = path[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}
