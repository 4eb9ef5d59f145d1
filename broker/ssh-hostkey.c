/* ssh-hostkey.c - check a server's host key against the known_hosts files:
 * hashed entries, @revoked, OpenSSH's warning for a changed key, recording
 * an unknown key when asked (ssh-session.h, step 3). */
#include "ssh-session-internal.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "error.h"
#include "atomic-file.h"
#include "xmalloc.h"

/* OpenSSH's hashed host names (HashKnownHosts): "|1|" SALT "|" HASH, both
 * base64, HASH = HMAC-SHA1 keyed with the 20-byte salt over the host
 * pattern ("host" or "[host]:port"). */
#define HK_HASH_MAGIC "|1|"
#define HK_SHA1_LEN 20

/* "ED25519", "RSA", "ECDSA" ... for a key, as OpenSSH names them. */
static const char *
rdev_ssh_key_name(ssh_key key)
{
	switch (ssh_key_type(key)) {
	case SSH_KEYTYPE_ED25519: return "ED25519";
	case SSH_KEYTYPE_RSA: return "RSA";
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521: return "ECDSA";
	case SSH_KEYTYPE_DSS: return "DSA";
	default: return ssh_key_type_to_char(ssh_key_type(key));
	}
}

/* "SHA256:..." for a key; the caller frees. */
static char *
rdev_ssh_fingerprint(ssh_key key)
{
	unsigned char *hash = NULL;
	size_t len = 0;
	char *fp, *out;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != 0)
		return xstrdup("(unknown fingerprint)");
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL)
		return xstrdup("(unknown fingerprint)");
	out = xstrdup(fp);
	ssh_string_free_char(fp);
	return out;
}

enum rdev_ssh_hk { HK_UNKNOWN, HK_OTHER, HK_CHANGED, HK_OK, HK_REVOKED };

struct rdev_ssh_hk_found {
	enum rdev_ssh_hk state;
	char *file; /* where the offending (or revoking) entry is */
	unsigned int line;
	char *old_fp; /* its fingerprint */
	const char *old_type;
	char *ok_file; /* where the matching entry is (HK_OK) */
	unsigned int ok_line;
};

/* Scan one known_hosts file for hostport; raises found->state. */
static void
rdev_ssh_hk_scan(
    const char *path, const char *hostport, ssh_key key, struct rdev_ssh_hk_found *found)
{
	struct ssh_knownhosts_entry *e;
	enum rdev_ssh_hk st;
	FILE *f;
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t len;
	unsigned int n = 0;
	int revoked;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	while ((len = getline(&line, &cap, f)) != -1) {
		n++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		revoked = 0;
		if (*p == '@') {
			if (strncmp(p, "@revoked", 8) != 0 ||
			    !isspace((unsigned char)p[8]))
				continue; /* @cert-authority: no certificates here */
			revoked = 1;
			for (p += 8; isspace((unsigned char)*p); p++)
				;
		}
		e = NULL;
		if (ssh_known_hosts_parse_line(revoked ? NULL : hostport, p, &e) !=
			SSH_OK ||
		    e == NULL) {
			if (e != NULL)
				ssh_knownhosts_entry_free(e);
			continue;
		}
		if (ssh_key_cmp(key, e->publickey, SSH_KEY_CMP_PUBLIC) == 0)
			st = revoked ? HK_REVOKED : HK_OK;
		else if (revoked)
			st = HK_UNKNOWN;
		else if (ssh_key_type(key) == ssh_key_type(e->publickey))
			st = HK_CHANGED;
		else
			st = HK_OTHER;
		if (st == HK_OK && found->ok_file == NULL) {
			found->ok_file = xstrdup(path);
			found->ok_line = n;
		}
		if (st > found->state) {
			found->state = st;
			if (st != HK_OK) {
				free(found->file);
				free(found->old_fp);
				found->file = xstrdup(path);
				found->line = n;
				found->old_fp = rdev_ssh_fingerprint(e->publickey);
				found->old_type = rdev_ssh_key_name(e->publickey);
			}
		}
		ssh_knownhosts_entry_free(e);
	}
	free(line);
	fclose(f);
}

/* What the check found, into s's report (when asked for one). */
static void
rdev_ssh_hk_report(struct rdev_ssh *s, const struct rdev_ssh_hk_found *found,
    const char *type, const char *fp, const char *user_file, int accept_new)
{
	struct ssh_connect_report *r = s->report;

	if (r == NULL)
		return;
	snprintf(r->fingerprint, sizeof r->fingerprint, "%s %s", type, fp);
	switch (found->state) {
	case HK_OK:
		r->hostkey = SSH_HOSTKEY_KNOWN;
		snprintf(r->hostkey_file, sizeof r->hostkey_file, "%s:%u",
		    found->ok_file != NULL ? found->ok_file : "?", found->ok_line);
		return;
	case HK_UNKNOWN:
		r->hostkey = accept_new ? SSH_HOSTKEY_RECORDED : SSH_HOSTKEY_UNKNOWN;
		snprintf(r->hostkey_file, sizeof r->hostkey_file, "%s", user_file);
		return;
	case HK_REVOKED: r->hostkey = SSH_HOSTKEY_REVOKED; break;
	case HK_OTHER: r->other_type = 1; /* FALLTHROUGH */
	case HK_CHANGED: r->hostkey = SSH_HOSTKEY_CHANGED; break;
	}
	snprintf(
	    r->hostkey_file, sizeof r->hostkey_file, "%s:%u", found->file, found->line);
}

/* Record the server's key for hostport in file as OpenSSH does with
 * HashKnownHosts yes: the host hashed (HK_HASH_MAGIC), then the key type
 * and key as libssh would write them. 0, or -1 with *cause. */
static int
rdev_ssh_hk_record_hashed(struct rdev_ssh *s, const char *file, const char *shown,
    const char *hostport, char **cause)
{
	unsigned char salt[HK_SHA1_LEN], mac[EVP_MAX_MD_SIZE];
	char b64salt[sodium_base64_ENCODED_LEN(
	    HK_SHA1_LEN, sodium_base64_VARIANT_ORIGINAL)];
	char b64mac[sizeof b64salt];
	char *entry = NULL, *key, *line, *dir, *slash;
	unsigned int maclen = 0;
	int fd, rc;

	if (ssh_session_export_known_hosts_entry(s->ss, &entry) != SSH_OK ||
	    (key = strchr(entry, ' ')) == NULL) {
		free(entry);
		return error_set(cause, "%s: cannot record the host key in %s: %s",
		    s->prefix, shown, ssh_get_error(s->ss));
	}
	randombytes_buf(salt, sizeof salt);
	if (HMAC(EVP_sha1(), salt, sizeof salt, (const unsigned char *)hostport,
		strlen(hostport), mac, &maclen) == NULL ||
	    maclen != HK_SHA1_LEN)
		fatal("HMAC-SHA1 failed");
	sodium_bin2base64(
	    b64salt, sizeof b64salt, salt, sizeof salt, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(
	    b64mac, sizeof b64mac, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
	line = xasprintf(HK_HASH_MAGIC "%s|%s%s%s", b64salt, b64mac, key,
	    key[strlen(key) - 1] == '\n' ? "" : "\n");
	free(entry);
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0 &&
	    errno == ENOENT) {
		/* (~/.ssh may not exist yet, as libssh's own record makes it) */
		dir = xstrdup(file);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
			*slash = '\0';
		if (mkdir(dir, 0700) == 0 || errno == EEXIST)
			fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		free(dir);
	}
	rc = fd >= 0 && fd_write_all(fd, line, strlen(line)) == 0 ? 0 : -1;
	if (rc != 0)
		error_set(cause, "%s: cannot record the host key in %s: %s", s->prefix,
		    shown, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(line);
	return rc;
}

/* Check the server's key; record it when unknown and accept_new. */
int
rdev_ssh_verify(
    struct rdev_ssh *s, const char *hostname, int port, int accept_new, char **cause)
{
	struct rdev_ssh_hk_found found = { HK_UNKNOWN, NULL, 0, NULL, NULL, NULL, 0 };
	ssh_key key = NULL;
	char *user_file, *global_file, *fp, *hostport, *p, *shown;
	const char *type;
	int rc = -1;

	if (ssh_get_server_publickey(s->ss, &key) != SSH_OK)
		return error_set(cause, "%s: no host key from the server: %s", s->prefix,
		    ssh_get_error(s->ss));
	fp = rdev_ssh_fingerprint(key);
	type = rdev_ssh_key_name(key);
	if (port == 22)
		hostport = xstrdup(hostname);
	else
		hostport = xasprintf("[%s]:%d", hostname, port);
	for (p = hostport; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	user_file = rdev_ssh_get_option(s->ss, SSH_OPTIONS_KNOWNHOSTS);
	global_file = rdev_ssh_get_option(s->ss, SSH_OPTIONS_GLOBAL_KNOWNHOSTS);
	rdev_ssh_hk_scan(user_file, hostport, key, &found);
	rdev_ssh_hk_scan(global_file, hostport, key, &found);
	shown =
	    rdev_ssh_tilde(s->home, user_file != NULL ? user_file : "~/.ssh/known_hosts");

	rdev_ssh_hk_report(s, &found, type, fp, shown, accept_new);
	switch (found.state) {
	case HK_OK: rc = 0; break;
	case HK_REVOKED:
		error_set(cause,
		    "%s: the host key %s %s is marked @revoked in "
		    "%s:%u; refusing to connect",
		    s->prefix, type, fp, found.file, found.line);
		break;
	case HK_CHANGED:
		error_set(cause,
		    "%s: host key verification failed\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
		    "Someone could be eavesdropping on you right now "
		    "(man-in-the-middle attack)!\n"
		    "It is also possible that a host key has just been changed.\n"
		    "The fingerprint for the %s key sent by the remote host is\n"
		    "%s.\n"
		    "The %s key recorded for %s is\n"
		    "%s.\n"
		    "Please contact your system administrator.\n"
		    "Offending %s key in %s:%u\n"
		    "  remove with:\n"
		    "  ssh-keygen -f '%s' -R '%s'\n"
		    "Host key for %s has changed; rdev always refuses a changed "
		    "host key.",
		    s->prefix, type, fp, found.old_type, hostport, found.old_fp,
		    found.old_type, found.file, found.line, found.file, hostport,
		    hostport);
		break;
	case HK_OTHER:
		error_set(cause,
		    "%s: host key verification failed\n"
		    "WARNING: the remote host sent a %s key (%s) but only a %s "
		    "key (%s) is recorded for %s, in %s:%u.\n"
		    "This may be a man-in-the-middle attack, or the host's keys "
		    "were replaced. rdev refuses; if you know the new key is "
		    "right, remove the old one with\n"
		    "  ssh-keygen -f '%s' -R '%s'\n"
		    "and connect again with --accept-new-host-key.",
		    s->prefix, type, fp, found.old_type, found.old_fp, hostport,
		    found.file, found.line, found.file, hostport);
		break;
	case HK_UNKNOWN:
		if (!accept_new) {
			error_set(cause,
			    "%s: unknown host key, %s fingerprint %s; "
			    "to trust it, run again with --accept-new-host-key (%s%s)",
			    s->prefix, type, fp,
			    strcmp(shown, "/dev/null") == 0
				? "it is not recorded, UserKnownHostsFile is "
				  "/dev/null: it will be asked again"
				: "it is then recorded in ",
			    strcmp(shown, "/dev/null") == 0 ? "" : shown);
			break;
		}
		if (strcmp(shown, "/dev/null") == 0) {
			rc = 0; /* (accepted for this connection only) */
			break;
		}
		if (s->cfg.hash_known_hosts) {
			/* shown is for messages ("~/..."): never a path to
			 * write; libssh always has a file set (its default
			 * ~/.ssh/known_hosts, expanded) */
			if (user_file == NULL) {
				error_set(cause,
				    "%s: cannot record the host key: no "
				    "known_hosts file is set",
				    s->prefix);
				break;
			}
			rc = rdev_ssh_hk_record_hashed(
			    s, user_file, shown, hostport, cause);
			break;
		}
		if (ssh_session_update_known_hosts(s->ss) != SSH_OK) {
			error_set(cause, "%s: cannot record the host key in %s: %s",
			    s->prefix, shown, ssh_get_error(s->ss));
			break;
		}
		rc = 0;
		break;
	}
	free(shown);
	free(user_file);
	free(global_file);
	free(hostport);
	free(fp);
	free(found.file);
	free(found.ok_file);
	free(found.old_fp);
	ssh_key_free(key);
	return rc;
}
