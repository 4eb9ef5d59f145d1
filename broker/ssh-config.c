/* ssh-config.c - OpenSSH client config, the parts rdev applies (see ssh-config.h). */
#include "ssh-config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

#define SSH_CONFIG_MAX_DEPTH 16
#define SSH_CONFIG_MAX_ARGS 64

/* Bits of ssh_config_host.seen for first-value-wins options. */
#define SEEN_IDENTITIES_ONLY 0x01
#define SEEN_BATCH_MODE 0x02
#define SEEN_ALIVE_INTERVAL 0x04
#define SEEN_ALIVE_COUNT 0x08
#define SEEN_CONNECT_TIMEOUT 0x10
#define SEEN_STRICT 0x20
#define SEEN_HOSTNAME 0x40
#define SEEN_USER 0x80
#define SEEN_IDENTITY_AGENT 0x100
#define SEEN_BIND_ADDRESS 0x200
#define SEEN_PORT 0x400
#define SEEN_HASH_KNOWN_HOSTS 0x800
#define SEEN_IGNORE_UNKNOWN 0x1000
#define SEEN_REQUIRED_RSA_SIZE 0x2000
#define SEEN_PREFERRED_AUTH 0x4000

/* What happens to a keyword. */
enum ssh_config_kind {
	KW_LIBSSH,     /* libssh applies it: its line is in libssh_lines */
	KW_RDEV,       /* this module reads it */
	KW_IGNORED,    /* means nothing for rdev (interactive ssh features) */
	KW_UNSUPPORTED /* would change behaviour, and nobody applies it */
};

static const struct {
	const char *name;
	enum ssh_config_kind kind;
} ssh_config_keywords[] = { { "host", KW_RDEV }, { "match", KW_RDEV },
	{ "include", KW_RDEV }, { "identityfile", KW_RDEV },
	{ "identitiesonly", KW_RDEV }, { "batchmode", KW_RDEV },
	{ "serveraliveinterval", KW_RDEV }, { "serveralivecountmax", KW_RDEV },
	{ "connecttimeout", KW_RDEV }, { "stricthostkeychecking", KW_RDEV },
	{ "hostname", KW_RDEV }, { "user", KW_RDEV }, { "identityagent", KW_RDEV },
	{ "port", KW_RDEV }, { "preferredauthentications", KW_RDEV },
	{ "ciphers", KW_LIBSSH }, { "macs", KW_LIBSSH }, { "compression", KW_LIBSSH },
	{ "userknownhostsfile", KW_LIBSSH }, { "globalknownhostsfile", KW_LIBSSH },
	{ "proxycommand", KW_LIBSSH }, { "proxyjump", KW_LIBSSH },
	{ "bindaddress", KW_RDEV }, { "loglevel", KW_LIBSSH },
	{ "hostkeyalgorithms", KW_LIBSSH }, { "kexalgorithms", KW_LIBSSH },
	{ "gssapiauthentication", KW_LIBSSH }, { "gssapiserveridentity", KW_LIBSSH },
	{ "gssapiclientidentity", KW_LIBSSH }, { "gssapidelegatecredentials", KW_LIBSSH },
	{ "kbdinteractiveauthentication", KW_LIBSSH },
	{ "challengeresponseauthentication", KW_LIBSSH },
	{ "passwordauthentication", KW_LIBSSH }, { "pubkeyauthentication", KW_LIBSSH },
	{ "pubkeyacceptedalgorithms", KW_LIBSSH },
	{ "pubkeyacceptedkeytypes", KW_LIBSSH }, { "rekeylimit", KW_LIBSSH },
	{ "tcpkeepalive", KW_IGNORED }, /* rdev always enables TCP keepalive */
	{ "sendenv", KW_IGNORED }, { "setenv", KW_IGNORED },
	{ "hashknownhosts", KW_RDEV }, { "requiredrsasize", KW_RDEV },
	{ "visualhostkey", KW_IGNORED }, { "escapechar", KW_IGNORED },
	{ "requesttty", KW_IGNORED }, { "controlmaster", KW_IGNORED },
	{ "controlpath", KW_IGNORED }, { "controlpersist", KW_IGNORED },
	{ "forwardx11", KW_IGNORED }, { "forwardx11timeout", KW_IGNORED },
	{ "forwardx11trusted", KW_IGNORED }, { "localcommand", KW_IGNORED },
	{ "permitlocalcommand", KW_IGNORED }, { "exitonforwardfailure", KW_IGNORED },
	{ "clearallforwardings", KW_IGNORED }, { "xauthlocation", KW_IGNORED },
	{ "syslogfacility", KW_IGNORED }, { "updatehostkeys", KW_IGNORED },
	{ "addkeystoagent", KW_IGNORED }, { "ipqos", KW_IGNORED },
	{ "logverbose", KW_IGNORED }, { "numberofpasswordprompts", KW_IGNORED },
	{ "fingerprinthash", KW_IGNORED }, { "kbdinteractivedevices", KW_IGNORED },
	{ "gatewayports", KW_IGNORED }, { "remotecommand", KW_IGNORED },
	{ "sessiontype", KW_IGNORED }, { "stdinnull", KW_IGNORED },
	{ "forkafterauthentication", KW_IGNORED },
	{ "obscurekeystroketiming", KW_IGNORED },
	{ "enableescapecommandline", KW_IGNORED }, { "tunnel", KW_IGNORED },
	{ "tunneldevice", KW_IGNORED }, { "streamlocalbindmask", KW_IGNORED },
	{ "streamlocalbindunlink", KW_IGNORED }, { "ignoreunknown", KW_IGNORED },
	{ "protocol", KW_IGNORED }, { "useroaming", KW_IGNORED },
	{ NULL, KW_UNSUPPORTED } };

/* The keywords OpenSSH's ssh knows (OpenSSH 9.x readconf.c keywords[],
 * aliases and deprecated ones included): IgnoreUnknown never silences
 * them, as in OpenSSH, where it covers only what ssh itself does not know. */
static const char *const ssh_config_openssh_keywords[] = { "protocol", "cipher",
	"fallbacktorsh", "globalknownhostsfile2", "rhostsauthentication",
	"userknownhostsfile2", "useroaming", "usersh", "useprivilegedport",
	"afstokenpassing", "kerberosauthentication", "kerberostgtpassing",
	"rsaauthentication", "rhostsrsaauthentication", "compressionlevel",
	"gssapiauthentication", "gssapidelegatecredentials", "pkcs11provider",
	"smartcarddevice", "forwardagent", "forwardx11", "forwardx11trusted",
	"forwardx11timeout", "exitonforwardfailure", "xauthlocation", "gatewayports",
	"passwordauthentication", "kbdinteractiveauthentication", "kbdinteractivedevices",
	"challengeresponseauthentication", "skeyauthentication", "tisauthentication",
	"pubkeyauthentication", "dsaauthentication", "hostbasedauthentication",
	"identityfile", "identityfile2", "identitiesonly", "certificatefile",
	"addkeystoagent", "identityagent", "hostname", "hostkeyalias", "proxycommand",
	"port", "ciphers", "macs", "remoteforward", "localforward", "permitremoteopen",
	"user", "host", "match", "escapechar", "globalknownhostsfile",
	"userknownhostsfile", "connectionattempts", "batchmode", "checkhostip",
	"stricthostkeychecking", "compression", "tcpkeepalive", "keepalive",
	"numberofpasswordprompts", "syslogfacility", "loglevel", "logverbose",
	"dynamicforward", "preferredauthentications", "hostkeyalgorithms",
	"casignaturealgorithms", "bindaddress", "bindinterface", "clearallforwardings",
	"enablesshkeysign", "verifyhostkeydns", "nohostauthenticationforlocalhost",
	"rekeylimit", "connecttimeout", "addressfamily", "serveraliveinterval",
	"serveralivecountmax", "sendenv", "setenv", "controlpath", "controlmaster",
	"controlpersist", "hashknownhosts", "include", "tunnel", "tunneldevice",
	"localcommand", "permitlocalcommand", "remotecommand", "visualhostkey",
	"kexalgorithms", "ipqos", "requesttty", "sessiontype", "stdinnull",
	"forkafterauthentication", "proxyusefdpass", "canonicaldomains",
	"canonicalizefallbacklocal", "canonicalizehostname", "canonicalizemaxdots",
	"canonicalizepermittedcnames", "streamlocalbindmask", "streamlocalbindunlink",
	"revokedhostkeys", "fingerprinthash", "updatehostkeys",
	"hostbasedacceptedalgorithms", "hostbasedkeytypes", "pubkeyacceptedalgorithms",
	"pubkeyacceptedkeytypes", "ignoreunknown", "proxyjump", "securitykeyprovider",
	"knownhostscommand", "requiredrsasize", "enableescapecommandline", "tag",
	"obscurekeystroketiming", "channeltimeout", NULL };

/* How a value of an option nobody applies is judged harmless. */
enum ssh_config_harmless_how {
	HARMLESS_ANY,  /* any value */
	HARMLESS_VALUE /* the value is one of the comma-separated list */
};

/* Options neither libssh nor rdev applies, with the values that make no
 * difference to what rdev does (OpenSSH's default, or a switch for something
 * rdev never does): those give no note; any other value does. */
static const struct {
	const char *name;
	enum ssh_config_harmless_how how;
	const char *values;
} ssh_config_harmless[] = {
	/* rdev never forwards the agent: "no" is what it does */
	{ "forwardagent", HARMLESS_VALUE, "no" },
	/* the default; inet or inet6 would narrow the addresses tried */
	{ "addressfamily", HARMLESS_VALUE, "any" },
	/* the address's known_hosts entry, checked besides the name's:
	 * harmless, as rdev checks the host key of the name anyway (what
	 * StrictHostKeyChecking yes makes ssh exit on) */
	{ "checkhostip", HARMLESS_ANY, NULL },
	/* the default; yes/ask would trust SSHFP records for an unknown key,
	 * which rdev does not (it refuses the host instead) */
	{ "verifyhostkeydns", HARMLESS_VALUE, "no" },
	/* GSSAPI key exchange (distributions' patches; crypto-policies): rdev
	 * never does it, so what it would allow is moot */
	{ "gssapikexalgorithms", HARMLESS_ANY, NULL },
	{ "gssapikeyexchange", HARMLESS_VALUE, "no" },
	{ "gssapitrustdns", HARMLESS_VALUE, "no" },
	/* algorithms for CA signatures on certificates: libssh verifies no
	 * host certificate (@cert-authority) and rdev offers none */
	{ "casignaturealgorithms", HARMLESS_ANY, NULL },
	/* host-based authentication: rdev never does it */
	{ "hostbasedauthentication", HARMLESS_VALUE, "no" },
	{ "hostbasedacceptedalgorithms", HARMLESS_ANY, NULL },
	{ "hostbasedkeytypes", HARMLESS_ANY, NULL },
	{ "enablesshkeysign", HARMLESS_ANY, NULL },
	/* only restricts what a RemoteForward opens, which rdev never asks */
	{ "permitremoteopen", HARMLESS_ANY, NULL },
	/* the defaults: no canonicalization, one connection attempt, no
	 * PKCS#11 or known-hosts command, no revoked-keys file */
	{ "canonicalizehostname", HARMLESS_VALUE, "no" },
	{ "canonicaldomains", HARMLESS_ANY, NULL }, /* used only when the above is on */
	{ "canonicalizefallbacklocal", HARMLESS_ANY, NULL },
	{ "canonicalizemaxdots", HARMLESS_ANY, NULL },
	{ "canonicalizepermittedcnames", HARMLESS_ANY, NULL },
	{ "connectionattempts", HARMLESS_VALUE, "1" },
	{ "pkcs11provider", HARMLESS_VALUE, "none" },
	{ "knownhostscommand", HARMLESS_VALUE, "none" },
	{ "revokedhostkeys", HARMLESS_VALUE, "none" },
	{ "nohostauthenticationforlocalhost", HARMLESS_VALUE, "no" },
	{ NULL, HARMLESS_ANY, NULL }
};

/* Parsing state shared by a file and its Includes. */
struct ssh_config_state {
	struct ssh_config_host *h;
	const struct ssh_config_ctx *ctx;
	int active;    /* the current Host/Match block applies */
	int allow_io;  /* follow Include */
	int in_system; /* reading the system file: notes go to system_notes */
	struct ssh_config_files *files; /* what is read is recorded, or NULL */
};

static int ssh_config_text(struct ssh_config_state *st, const char *text,
    const char *filename, int depth, char **cause);
static int ssh_config_file(
    struct ssh_config_state *st, const char *path, int depth, char **cause);
static void ssh_config_files_file(
    struct ssh_config_files *f, const char *path, const struct stat *sb);
static void ssh_config_files_glob(
    struct ssh_config_files *f, const char *pattern, const glob_t *g);

void
ssh_config_host_init(struct ssh_config_host *h)
{
	memset(h, 0, sizeof *h);
	h->server_alive_count_max = 3;
}

void
ssh_config_host_clear(struct ssh_config_host *h)
{
	size_t i;

	for (i = 0; i < h->n_identity_files; i++)
		free(h->identity_files[i]);
	free(h->identity_files);
	for (i = 0; i < h->n_notes; i++)
		free(h->notes[i]);
	free(h->notes);
	for (i = 0; i < h->n_system_notes; i++)
		free(h->system_notes[i]);
	free(h->system_notes);
	free(h->hostname);
	free(h->user);
	free(h->proxy);
	for (i = 0; i < h->n_libssh_lines; i++)
		free(h->libssh_lines[i]);
	free(h->libssh_lines);
	free(h->identity_agent);
	free(h->bind_address);
	free(h->ignore_unknown);
	memset(h, 0, sizeof *h);
}

/* Add a note "FILE:LINE: message" to h (to the system file's list while
 * one is read: st->in_system). */
static void ssh_config_note(struct ssh_config_state *st, const char *file,
    unsigned int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void
ssh_config_note(struct ssh_config_state *st, const char *file, unsigned int line,
    const char *fmt, ...)
{
	struct ssh_config_host *h = st->h;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (st->in_system) {
		h->system_notes = xreallocarray(
		    h->system_notes, h->n_system_notes + 1, sizeof *h->system_notes);
		h->system_notes[h->n_system_notes++] =
		    xasprintf("%s:%u: %s", file, line, msg);
	} else {
		h->notes = xreallocarray(h->notes, h->n_notes + 1, sizeof *h->notes);
		h->notes[h->n_notes++] = xasprintf("%s:%u: %s", file, line, msg);
	}
	free(msg);
}

/* OpenSSH's wildcard match (* and ?), case-insensitive. */
static int
ssh_config_wildmatch(const char *s, const char *p)
{
	for (;;) {
		if (*p == '\0')
			return *s == '\0';
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return 1;
			for (; *s != '\0'; s++) {
				if (ssh_config_wildmatch(s, p))
					return 1;
			}
			return 0;
		}
		if (*s == '\0')
			return 0;
		if (*p != '?' && tolower((unsigned char)*p) != tolower((unsigned char)*s))
			return 0;
		s++;
		p++;
	}
}

/* Match s against a comma-separated pattern list with ! negation: 1 if some
 * positive pattern matches and no negated one does. */
static int
ssh_config_match_list(const char *s, const char *list)
{
	char *copy = xstrdup(list), *tok, *save = NULL;
	int matched = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (tok[0] == '!') {
			if (ssh_config_wildmatch(s, tok + 1)) {
				matched = 0;
				break;
			}
		} else if (ssh_config_wildmatch(s, tok))
			matched = 1;
	}
	free(copy);
	return matched;
}

char *
ssh_config_expand(const char *s, const struct ssh_config_ctx *ctx, const char *hostname)
{
	struct buf *b = buf_new();
	const char *v;
	char *out;

	if (s[0] == '~' && (s[1] == '/' || s[1] == '\0')) {
		buf_appendf(b, "%s", ctx->home);
		s++;
	}
	for (; *s != '\0'; s++) {
		if (*s != '%') {
			buf_append(b, s, 1);
			continue;
		}
		switch (*++s) {
		case '%': v = "%"; break;
		case 'd': v = ctx->home; break;
		case 'h': v = hostname != NULL ? hostname : ctx->host; break;
		case 'r':
			v = ctx->remote_user != NULL ? ctx->remote_user : ctx->local_user;
			break;
		case 'u': v = ctx->local_user; break;
		default: buf_free(b); return NULL;
		}
		buf_appendf(b, "%s", v);
	}
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* Split a line into arguments as OpenSSH does: the keyword, optional
 * whitespace and '=', then whitespace-separated arguments where double quotes
 * group; a '#' starting an argument ends the line. Returns the count, or -1
 * for an unbalanced quote or too many arguments. The strings point into line,
 * which is modified. */
static int
ssh_config_split(char *line, char **argv, int max)
{
	char *p = line, *end;
	int argc = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	argv[argc++] = p;
	while (*p != '\0' && !isspace((unsigned char)*p) && *p != '=')
		p++;
	end = p;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '=')
		p++;
	*end = '\0';
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			break;
		if (argc == max)
			return -1;
		if (*p == '"') {
			argv[argc++] = ++p;
			if ((end = strchr(p, '"')) == NULL)
				return -1;
		} else {
			argv[argc++] = p;
			for (end = p; *end != '\0' && !isspace((unsigned char)*end);)
				end++;
		}
		p = *end != '\0' ? end + 1 : end;
		*end = '\0';
	}
	return argc;
}

/* yes/no (and true/false); -1 for anything else. */
static int
ssh_config_yesno(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0)
		return 0;
	return -1;
}

/* A non-negative integer (seconds); -1 if malformed. */
static int
ssh_config_int(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 86400 * 365)
		return -1;
	return (int)v;
}

/* Evaluate a Match line (argv[1..]) left to right, up to the first
 * criterion that fails; unsupported criteria give a note and make the block
 * not apply for rdev's options. */
static int
ssh_config_match(struct ssh_config_state *st, int argc, char **argv, const char *file,
    unsigned int line, char **cause)
{
	const char *crit, *user;
	int i, result = 1, neg, m;

	if (argc < 2)
		return error_set(cause, "%s:%u: Match needs criteria", file, line);
	for (i = 1; i < argc; i++) {
		crit = argv[i];
		neg = crit[0] == '!';
		if (neg)
			crit++;
		if (strcasecmp(crit, "all") == 0) {
			m = 1;
		} else if (strcasecmp(crit, "canonical") == 0 ||
		    strcasecmp(crit, "final") == 0) {
			continue;
		} else if (i + 1 >= argc) {
			return error_set(
			    cause, "%s:%u: Match %s needs an argument", file, line, crit);
		} else if (!result) {
			/* as OpenSSH, once a criterion failed the rest are not
			 * evaluated: no exec note when host already failed */
			i++;
			continue;
		} else if (strcasecmp(crit, "host") == 0 ||
		    strcasecmp(crit, "originalhost") == 0) {
			m = ssh_config_match_list(
			    strcasecmp(crit, "host") == 0 && st->h->hostname != NULL
				? st->h->hostname
				: st->ctx->host,
			    argv[++i]);
		} else if (strcasecmp(crit, "user") == 0) {
			user = st->ctx->remote_user != NULL ? st->ctx->remote_user
			    : st->h->user != NULL	    ? st->h->user
							    : st->ctx->local_user;
			m = ssh_config_match_list(user, argv[++i]);
		} else if (strcasecmp(crit, "localuser") == 0) {
			m = ssh_config_match_list(st->ctx->local_user, argv[++i]);
		} else {
			ssh_config_note(st, file, line,
			    "Match %s is not evaluated "
			    "by rdev; the options inside this block are not "
			    "applied",
			    crit);
			i++;
			m = 0;
			neg = 0;
		}
		if (neg)
			m = !m;
		if (!m)
			result = 0;
	}
	st->active = result;
	return 0;
}

/* A Host line: the lines up to the next Host or Match apply when a pattern
 * matches the host and no negated one (!pattern) does. */
static void
ssh_config_host_line(struct ssh_config_state *st, int argc, char **argv)
{
	int i;

	st->active = 0;
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '!' &&
		    ssh_config_wildmatch(st->ctx->host, argv[i] + 1)) {
			st->active = 0;
			break;
		}
		if (argv[i][0] != '!' && ssh_config_wildmatch(st->ctx->host, argv[i]))
			st->active = 1;
	}
}

/* An Include line: read each file its globs match (relative ones under
 * ~/.ssh, or /etc/ssh from the system file, as OpenSSH), depth being the including
 * file's. 0, or -1 with *cause. */
static int
ssh_config_include(struct ssh_config_state *st, int argc, char **argv, const char *file,
    unsigned int line, int depth, char **cause)
{
	char *path;
	glob_t g;
	size_t j;
	int i, matched;

	if (!st->allow_io) {
		ssh_config_note(st, file, line, "Include not followed");
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '~' || argv[i][0] == '/')
			path = ssh_config_expand(argv[i], st->ctx, NULL);
		else if (st->in_system)
			path = xasprintf("/etc/ssh/%s", argv[i]);
		else
			path = xasprintf("%s/.ssh/%s", st->ctx->home, argv[i]);
		if (path == NULL)
			return error_set(
			    cause, "%s:%u: bad %%-token in Include", file, line);
		if (depth >= SSH_CONFIG_MAX_DEPTH) {
			free(path);
			return error_set(
			    cause, "%s:%u: Include nested too deeply", file, line);
		}
		memset(&g, 0, sizeof g);
		matched = glob(path, 0, NULL, &g) == 0;
		ssh_config_files_glob(st->files, path, matched ? &g : NULL);
		for (j = 0; matched && j < g.gl_pathc; j++) {
			if (ssh_config_file(st, g.gl_pathv[j], depth + 1, cause) != 0) {
				globfree(&g);
				free(path);
				return -1;
			}
		}
		globfree(&g);
		free(path);
	}
	return 0;
}

/* An IdentityFile line: value's path, expanded, added to h's list unless it
 * is there already ("none": nothing). */
static void
ssh_config_identity_file(
    struct ssh_config_state *st, const char *value, const char *file, unsigned int line)
{
	struct ssh_config_host *h = st->h;
	const struct ssh_config_ctx *ctx = st->ctx;
	char *path;
	size_t k;

	if (strcasecmp(value, "none") == 0)
		return;
	if ((path = ssh_config_expand(value, ctx, h->hostname)) == NULL) {
		ssh_config_note(st, file, line,
		    "IdentityFile %s: unknown "
		    "%%-token (rdev knows %%d %%h %%r %%u %%%%); ignored",
		    value);
		return;
	}
	for (k = 0; k < h->n_identity_files; k++) {
		if (strcmp(h->identity_files[k], path) == 0) {
			free(path);
			return;
		}
	}
	h->identity_files = xreallocarray(
	    h->identity_files, h->n_identity_files + 1, sizeof *h->identity_files);
	h->identity_files[h->n_identity_files++] = path;
}

/* The first IdentityAgent line's value into h->identity_agent: a socket
 * path, expanded, or "none"; the environment's socket is left unset. */
static void
ssh_config_identity_agent(
    struct ssh_config_state *st, const char *value, const char *file, unsigned int line)
{
	struct ssh_config_host *h = st->h;
	const struct ssh_config_ctx *ctx = st->ctx;
	/* OpenSSH: "SSH_AUTH_SOCK" (or "$SSH_AUTH_SOCK") is the
	 * environment's socket, which for rdev is the client's. */
	if (strcmp(value, "SSH_AUTH_SOCK") == 0 || strcmp(value, "$SSH_AUTH_SOCK") == 0)
		return;
	if (strcasecmp(value, "none") == 0) {
		h->identity_agent = xstrdup("none");
		return;
	}
	if (value[0] == '$') {
		ssh_config_note(st, file, line,
		    "IdentityAgent %s: only "
		    "$SSH_AUTH_SOCK is supported; ignored",
		    value);
		return;
	}
	h->identity_agent = ssh_config_expand(value, ctx, h->hostname);
	if (h->identity_agent == NULL)
		ssh_config_note(st, file, line,
		    "IdentityAgent %s: unknown "
		    "%%-token (rdev knows %%d %%h %%r %%u %%%%); ignored",
		    value);
}

/* Whether kw with its arguments (argv[1..argc-1]) is harmless for rdev
 * (ssh_config_harmless). */
static int
ssh_config_is_harmless(const char *kw, int argc, char **argv)
{
	char *copy, *tok, *save = NULL;
	size_t k;
	int found = 0;

	for (k = 0; ssh_config_harmless[k].name != NULL; k++)
		if (strcasecmp(kw, ssh_config_harmless[k].name) == 0)
			break;
	if (ssh_config_harmless[k].name == NULL)
		return 0;
	if (ssh_config_harmless[k].how == HARMLESS_ANY)
		return 1;
	if (argc != 2)
		return 0;
	copy = xstrdup(ssh_config_harmless[k].values);
	for (tok = strtok_r(copy, ",", &save); tok != NULL && !found;
	     tok = strtok_r(NULL, ",", &save))
		/* yes/no are also OpenSSH's true/false */
		found = strcasecmp(tok, argv[1]) == 0 ||
		    (ssh_config_yesno(tok) >= 0 &&
			ssh_config_yesno(tok) == ssh_config_yesno(argv[1]));
	free(copy);
	return found;
}

/* Does OpenSSH's ssh know kw (ssh_config_openssh_keywords)? */
static int
ssh_config_openssh_knows(const char *kw)
{
	size_t k;

	for (k = 0; ssh_config_openssh_keywords[k] != NULL; k++)
		if (strcasecmp(kw, ssh_config_openssh_keywords[k]) == 0)
			return 1;
	return 0;
}

/* An option libssh applies: keep raw (the line as written, which libssh's
 * own tokenizer reads again) unless a line of the same keyword came first;
 * ProxyCommand and ProxyJump are one option (the first of either wins, as
 * in OpenSSH). */
static void
ssh_config_libssh_line(struct ssh_config_host *h, const char *kw, const char *raw)
{
	size_t k, n = strlen(kw);
	const char *l;
	int proxy =
	    strcasecmp(kw, "proxycommand") == 0 || strcasecmp(kw, "proxyjump") == 0;

	while (isspace((unsigned char)*raw))
		raw++;
	if (proxy) {
		if (h->proxy != NULL)
			return;
		h->proxy = xstrdup(raw);
	}
	for (k = 0; k < h->n_libssh_lines; k++) {
		l = h->libssh_lines[k];
		if (strncasecmp(l, kw, n) == 0 &&
		    (l[n] == '=' || isspace((unsigned char)l[n])))
			return;
	}
	h->libssh_lines = xreallocarray(
	    h->libssh_lines, h->n_libssh_lines + 1, sizeof *h->libssh_lines);
	h->libssh_lines[h->n_libssh_lines++] = xstrdup(raw);
}

/* A Port line's value: 1 to 65535, or -1. */
static int
ssh_config_port(const char *s)
{
	int v = ssh_config_int(s);

	return v >= 1 && v <= 65535 ? v : -1;
}

/* A PreferredAuthentications line: the methods rdev does, in the order
 * listed, each once, into h->auth_order (the others, which rdev never
 * tries, are left out: as ssh when they fail). */
static void
ssh_config_preferred_auth(
    struct ssh_config_state *st, const char *value, const char *file, unsigned int line)
{
	struct ssh_config_host *h = st->h;
	static const struct {
		const char *name;
		int method;
	} methods[] = { { "publickey", SSH_CONFIG_AUTH_PUBLICKEY },
		{ "keyboard-interactive", SSH_CONFIG_AUTH_KBDINT },
		{ "password", SSH_CONFIG_AUTH_PASSWORD } };
	char *copy = xstrdup(value), *tok, *save = NULL;
	size_t k, j;

	h->auth_order_set = 1;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < sizeof methods / sizeof methods[0]; k++)
			if (strcmp(tok, methods[k].name) == 0)
				break;
		if (k == sizeof methods / sizeof methods[0])
			continue;
		for (j = 0; j < h->n_auth_order; j++)
			if (h->auth_order[j] == methods[k].method)
				break;
		if (j == h->n_auth_order)
			h->auth_order[h->n_auth_order++] = methods[k].method;
	}
	free(copy);
	if (h->n_auth_order == 0)
		ssh_config_note(st, file, line,
		    "PreferredAuthentications %s lists none of the methods rdev "
		    "does (publickey, keyboard-interactive, password): it tries "
		    "none",
		    value);
}

/* One config line, text split into arguments (raw: as written). */
static int
ssh_config_line_args(struct ssh_config_state *st, char *text, const char *raw,
    const char *file, unsigned int line, int depth, char **cause)
{
	struct ssh_config_host *h = st->h;
	char *argv[SSH_CONFIG_MAX_ARGS];
	const char *kw;
	int argc, v;
	size_t k;

	argc = ssh_config_split(text, argv, SSH_CONFIG_MAX_ARGS);
	if (argc < 0)
		return error_set(cause,
		    "%s:%u: unbalanced quote or too many "
		    "arguments",
		    file, line);
	if (argc == 0)
		return 0;
	kw = argv[0];
	if (strcasecmp(kw, "host") == 0) {
		ssh_config_host_line(st, argc, argv);
		return 0;
	}
	if (strcasecmp(kw, "match") == 0)
		return ssh_config_match(st, argc, argv, file, line, cause);
	if (!st->active)
		return 0;
	if (argc < 2)
		return error_set(cause, "%s:%u: %s needs a value", file, line, kw);

	if (strcasecmp(kw, "include") == 0)
		return ssh_config_include(st, argc, argv, file, line, depth, cause);
	if (strcasecmp(kw, "identityfile") == 0) {
		ssh_config_identity_file(st, argv[1], file, line);
		return 0;
	}
#define FIRST(bit) \
	do { \
		if (h->seen & (bit)) \
			return 0; \
		h->seen |= (bit); \
	} while (0)
	if (strcasecmp(kw, "hostname") == 0) {
		FIRST(SEEN_HOSTNAME);
		h->hostname = xstrdup(argv[1]);
		return 0;
	}
	if (strcasecmp(kw, "user") == 0) {
		FIRST(SEEN_USER);
		h->user = xstrdup(argv[1]);
		return 0;
	}
	if (strcasecmp(kw, "port") == 0) {
		if ((v = ssh_config_port(argv[1])) < 0)
			return error_set(cause,
			    "%s:%u: Port must be a number from 1 to 65535", file, line);
		FIRST(SEEN_PORT);
		h->port = v;
		return 0;
	}
	if (strcasecmp(kw, "bindaddress") == 0) {
		FIRST(SEEN_BIND_ADDRESS);
		h->bind_address = xstrdup(argv[1]);
		return 0;
	}
	if (strcasecmp(kw, "identityagent") == 0) {
		FIRST(SEEN_IDENTITY_AGENT);
		ssh_config_identity_agent(st, argv[1], file, line);
		return 0;
	}
	if (strcasecmp(kw, "ignoreunknown") == 0) {
		FIRST(SEEN_IGNORE_UNKNOWN);
		h->ignore_unknown = xstrdup(argv[1]);
		return 0;
	}
	if (strcasecmp(kw, "preferredauthentications") == 0) {
		FIRST(SEEN_PREFERRED_AUTH);
		ssh_config_preferred_auth(st, argv[1], file, line);
		return 0;
	}
	if (strcasecmp(kw, "requiredrsasize") == 0) {
		if ((v = ssh_config_int(argv[1])) < 0)
			return error_set(
			    cause, "%s:%u: %s must be a number of bits", file, line, kw);
		FIRST(SEEN_REQUIRED_RSA_SIZE);
		h->required_rsa_size = v;
		return 0;
	}
	if (strcasecmp(kw, "hashknownhosts") == 0) {
		if ((v = ssh_config_yesno(argv[1])) < 0)
			return error_set(
			    cause, "%s:%u: %s must be yes or no", file, line, kw);
		FIRST(SEEN_HASH_KNOWN_HOSTS);
		h->hash_known_hosts = v;
		return 0;
	}
	if (strcasecmp(kw, "identitiesonly") == 0 || strcasecmp(kw, "batchmode") == 0) {
		if ((v = ssh_config_yesno(argv[1])) < 0)
			return error_set(
			    cause, "%s:%u: %s must be yes or no", file, line, kw);
		if (strcasecmp(kw, "batchmode") == 0) {
			FIRST(SEEN_BATCH_MODE);
			h->batch_mode = v;
		} else {
			FIRST(SEEN_IDENTITIES_ONLY);
			h->identities_only = v;
		}
		return 0;
	}
	if (strcasecmp(kw, "serveraliveinterval") == 0 ||
	    strcasecmp(kw, "serveralivecountmax") == 0 ||
	    strcasecmp(kw, "connecttimeout") == 0) {
		if (strcasecmp(argv[1], "none") == 0)
			v = 0;
		else if ((v = ssh_config_int(argv[1])) < 0)
			return error_set(cause,
			    "%s:%u: %s must be a number of "
			    "seconds",
			    file, line, kw);
		if (strcasecmp(kw, "serveraliveinterval") == 0) {
			FIRST(SEEN_ALIVE_INTERVAL);
			h->server_alive_interval = v;
		} else if (strcasecmp(kw, "serveralivecountmax") == 0) {
			FIRST(SEEN_ALIVE_COUNT);
			h->server_alive_count_max = v;
		} else {
			FIRST(SEEN_CONNECT_TIMEOUT);
			h->connect_timeout = v;
		}
		return 0;
	}
	if (strcasecmp(kw, "stricthostkeychecking") == 0) {
		FIRST(SEEN_STRICT);
		if (strcasecmp(argv[1], "no") == 0 || strcasecmp(argv[1], "off") == 0 ||
		    strcasecmp(argv[1], "false") == 0 ||
		    strcasecmp(argv[1], "accept-new") == 0) {
			h->strict_host_key_checking_off = 1;
			ssh_config_note(st, file, line,
			    "StrictHostKeyChecking %s is "
			    "not honoured: rdev always checks host keys (accept a "
			    "new host with --accept-new-host-key)",
			    argv[1]);
		}
		return 0;
	}
#undef FIRST
	for (k = 0; ssh_config_keywords[k].name != NULL; k++) {
		if (strcasecmp(kw, ssh_config_keywords[k].name) == 0)
			break;
	}
	if (ssh_config_keywords[k].name == NULL &&
	    !ssh_config_is_harmless(kw, argc, argv) &&
	    (h->ignore_unknown == NULL || ssh_config_openssh_knows(kw) ||
		!ssh_config_match_list(kw, h->ignore_unknown)))
		ssh_config_note(st, file, line,
		    "%s is not supported by rdev "
		    "(libssh 0.10) and is ignored",
		    kw);
	else if (ssh_config_keywords[k].kind == KW_LIBSSH)
		ssh_config_libssh_line(h, ssh_config_keywords[k].name, raw);
	return 0;
}

/* One config line. */
static int
ssh_config_line(struct ssh_config_state *st, char *text, const char *file,
    unsigned int line, int depth, char **cause)
{
	char *raw = xstrdup(text);
	int rc = ssh_config_line_args(st, text, raw, file, line, depth, cause);

	free(raw);
	return rc;
}

static int
ssh_config_text(struct ssh_config_state *st, const char *text, const char *filename,
    int depth, char **cause)
{
	const char *p = text, *nl;
	char *line;
	unsigned int n = 0;
	int rc = 0;

	while (*p != '\0' && rc == 0) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		line = xstrndup(p, (size_t)(nl - p));
		rc = ssh_config_line(st, line, filename, ++n, depth, cause);
		free(line);
		p = *nl == '\n' ? nl + 1 : nl;
	}
	return rc;
}

/* Read a file and apply it; a missing file is no error. What it found is
 * recorded in st->files: the stat is the open file's, taken before its
 * text is read, so a change after it shows in a later stat. */
static int
ssh_config_file(struct ssh_config_state *st, const char *path, int depth, char **cause)
{
	FILE *f;
	struct buf *b;
	struct stat sb;
	char chunk[4096], *text;
	size_t n;
	int rc, fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			ssh_config_files_file(st->files, path, NULL);
			return 0;
		}
		return error_set_errno(cause, errno, "%s", path);
	}
	if (st->files != NULL) {
		if (fstat(fd, &sb) != 0) {
			rc = error_set_errno(cause, errno, "%s", path);
			close(fd);
			return rc;
		}
		ssh_config_files_file(st->files, path, &sb);
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		rc = error_set_errno(cause, errno, "%s", path);
		close(fd);
		return rc;
	}
	b = buf_new();
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(b, chunk, n);
	if (ferror(f)) {
		rc = error_set_errno(cause, errno, "%s", path);
		fclose(f);
		buf_free(b);
		return rc;
	}
	fclose(f);
	text = buf_take_string(b, &n);
	buf_free(b);
	if (strlen(text) != n)
		rc = error_set(cause, "%s: NUL byte in config file", path);
	else
		rc = ssh_config_text(st, text, path, depth, cause);
	free(text);
	return rc;
}

void
ssh_config_files_init(struct ssh_config_files *f)
{
	memset(f, 0, sizeof *f);
}

void
ssh_config_files_clear(struct ssh_config_files *f)
{
	size_t i;

	for (i = 0; i < f->n_files; i++)
		free(f->files[i].path);
	free(f->files);
	for (i = 0; i < f->n_globs; i++) {
		free(f->globs[i].pattern);
		free(f->globs[i].matches);
	}
	free(f->globs);
	memset(f, 0, sizeof *f);
}

/* Fill e with what sb says of path (sb NULL: absent). */
static void
ssh_config_seen_set(struct ssh_config_seen_file *e, const struct stat *sb)
{
	if (sb == NULL)
		return;
	e->exists = 1;
	e->dev = sb->st_dev;
	e->ino = sb->st_ino;
	e->size = sb->st_size;
	e->mtime = sb->st_mtim;
	e->ctime = sb->st_ctim;
}

/* Is t less than SSH_CONFIG_RACY_S before now (or after it)? */
static int
ssh_config_recent(const struct timespec *t, const struct timespec *now)
{
	return t->tv_sec > now->tv_sec - SSH_CONFIG_RACY_S ||
	    (t->tv_sec == now->tv_sec - SSH_CONFIG_RACY_S && t->tv_nsec >= now->tv_nsec);
}

/* Record that path was read (sb: its stat), or was not there (sb NULL),
 * in f (NULL: not recorded). */
static void
ssh_config_files_file(struct ssh_config_files *f, const char *path, const struct stat *sb)
{
	struct ssh_config_seen_file *e;
	struct timespec now;

	if (f == NULL)
		return;
	f->files = xreallocarray(f->files, f->n_files + 1, sizeof *f->files);
	e = &f->files[f->n_files++];
	memset(e, 0, sizeof *e);
	e->path = xstrdup(path);
	ssh_config_seen_set(e, sb);
	clock_gettime(CLOCK_REALTIME, &now);
	if (sb != NULL &&
	    (ssh_config_recent(&e->mtime, &now) || ssh_config_recent(&e->ctime, &now)))
		f->racy = 1;
}

/* The paths g matched (NULL: none), each followed by a NUL, into *out and
 * *len (the caller frees *out). */
static void
ssh_config_glob_join(const glob_t *g, char **out, size_t *len)
{
	struct buf *b = buf_new();
	size_t j;

	for (j = 0; g != NULL && j < g->gl_pathc; j++)
		buf_append(b, g->gl_pathv[j], strlen(g->gl_pathv[j]) + 1);
	*out = buf_take_string(b, len);
	buf_free(b);
}

/* Record that Include pattern matched g's paths (g NULL: none) in f (NULL:
 * not recorded). */
static void
ssh_config_files_glob(struct ssh_config_files *f, const char *pattern, const glob_t *g)
{
	struct ssh_config_seen_glob *e;

	if (f == NULL)
		return;
	f->globs = xreallocarray(f->globs, f->n_globs + 1, sizeof *f->globs);
	e = &f->globs[f->n_globs++];
	e->pattern = xstrdup(pattern);
	ssh_config_glob_join(g, &e->matches, &e->matches_len);
}

int
ssh_config_files_unchanged(const struct ssh_config_files *f)
{
	struct ssh_config_seen_file now;
	struct stat sb;
	glob_t g;
	char *matches;
	size_t i, len;
	int same, fd, rc;

	for (i = 0; i < f->n_files; i++) {
		memset(&now, 0, sizeof now);
		/* an open, not a stat: NFS revalidates a file's attributes at
		 * open (close-to-open consistency), where a stat may answer
		 * from its attribute cache (up to acregmax, 60 s) and miss an
		 * edit made on another machine; O_NONBLOCK: a FIFO does not
		 * wait for a writer */
		if ((fd = open(f->files[i].path,
			 O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) >= 0) {
			rc = fstat(fd, &sb);
			close(fd);
			if (rc != 0)
				return 0;
			ssh_config_seen_set(&now, &sb);
		} else if (errno != ENOENT)
			return 0;
		if (now.exists != f->files[i].exists ||
		    (now.exists &&
			(now.dev != f->files[i].dev || now.ino != f->files[i].ino ||
			    now.size != f->files[i].size ||
			    now.mtime.tv_sec != f->files[i].mtime.tv_sec ||
			    now.mtime.tv_nsec != f->files[i].mtime.tv_nsec ||
			    now.ctime.tv_sec != f->files[i].ctime.tv_sec ||
			    now.ctime.tv_nsec != f->files[i].ctime.tv_nsec)))
			return 0;
	}
	for (i = 0; i < f->n_globs; i++) {
		memset(&g, 0, sizeof g);
		ssh_config_glob_join(
		    glob(f->globs[i].pattern, 0, NULL, &g) == 0 ? &g : NULL, &matches,
		    &len);
		globfree(&g);
		same = len == f->globs[i].matches_len &&
		    memcmp(matches, f->globs[i].matches, len) == 0;
		free(matches);
		if (!same)
			return 0;
	}
	return 1;
}

int
ssh_config_host_parse(struct ssh_config_host *h, const char *text, const char *filename,
    const struct ssh_config_ctx *ctx, char **cause)
{
	struct ssh_config_state st = { h, ctx, 1, 0, 0, NULL };

	return ssh_config_text(&st, text, filename, 0, cause);
}

int
ssh_config_host_read_files(struct ssh_config_host *h, const char *path,
    const struct ssh_config_ctx *ctx, int system, struct ssh_config_files *files,
    char **cause)
{
	struct ssh_config_state st = { h, ctx, 1, 1, system != 0, files };

	return ssh_config_file(&st, path, 0, cause);
}

int
ssh_config_host_read(struct ssh_config_host *h, const char *path,
    const struct ssh_config_ctx *ctx, char **cause)
{
	return ssh_config_host_read_files(h, path, ctx, 0, NULL, cause);
}

int
ssh_config_host_read_system(struct ssh_config_host *h, const char *path,
    const struct ssh_config_ctx *ctx, char **cause)
{
	return ssh_config_host_read_files(h, path, ctx, 1, NULL, cause);
}
