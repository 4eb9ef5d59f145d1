/* ssh-proxy-key.c - the proxy's host key and known_hosts file (ssh-proxy.h). */
#include "ssh-proxy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "error.h"
#include "xmalloc.h"

/* The most of known_hosts read to see whether it pins the key. */
#define SSH_PROXY_KEY_KNOWN_HOSTS_MAX (4u << 20)

/* STATE/ssh-proxy, made 0700 when missing. New string, or NULL with *cause. */
static char *
ssh_proxy_key_dir(char **cause)
{
	char *state, *dir;

	if ((state = agent_state_dir(cause)) == NULL)
		return NULL;
	dir = xasprintf("%s/ssh-proxy", state);
	free(state);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		error_set_errno(cause, errno, "%s", dir);
		free(dir);
		return NULL;
	}
	return dir;
}

/* Make a key in path: written under a name of its own, then linked, so that
 * of two proxies making one at once the first wins and the other reads it. */
static int
ssh_proxy_key_make(const char *path, char **cause)
{
	ssh_key key = NULL;
	char *tmp = xasprintf("%s.%ld", path, (long)getpid());
	int rc = -1;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		error_set(cause, "cannot make an Ed25519 key");
		goto out;
	}
	unlink(tmp);
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, tmp) != SSH_OK ||
	    chmod(tmp, 0600) != 0) {
		error_set(cause, "%s: cannot write the key", tmp);
		goto out;
	}
	if (link(tmp, path) != 0 && errno != EEXIST) {
		error_set_errno(cause, errno, "%s", path);
		goto out;
	}
	rc = 0;
out:
	unlink(tmp);
	free(tmp);
	ssh_key_free(key);
	return rc;
}

/* The known_hosts line of key (new), or NULL with *cause. */
static char *
ssh_proxy_key_line(ssh_key key, char **cause)
{
	char *b64 = NULL, *line;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		error_set(cause, "cannot export the proxy's public key");
		return NULL;
	}
	line = xasprintf("%s %s %s\n", SSH_PROXY_HOST_KEY_ALIAS,
	    ssh_key_type_to_char(ssh_key_type(key)), b64);
	ssh_string_free_char(b64);
	return line;
}

/* The note for ssh_proxy_key_load when dir/known_hosts (what ssh-config
 * pinned) exists and does not hold key's line: new, or NULL. */
static char *
ssh_proxy_key_stale(const char *dir, const char *path, ssh_key key)
{
	char *kh = xasprintf("%s/known_hosts", dir), *line, *note = NULL;
	char *err = NULL, *text = NULL;
	size_t n;

	/* (all of it, however long the file grew: a key past a first part
	 * is no reason for the note; one too big to read gets none) */
	if (access(kh, F_OK) != 0 ||
	    file_read_all(kh, SSH_PROXY_KEY_KNOWN_HOSTS_MAX, &text, &n, &err) != 0) {
		free(err);
		free(kh);
		return NULL;
	}
	if ((line = ssh_proxy_key_line(key, &err)) != NULL && strstr(text, line) == NULL)
		note =
		    xasprintf("the proxy's host key was made anew (%s: the old one is "
			      "gone), so ssh refuses it as a changed key (\"REMOTE "
			      "HOST IDENTIFICATION HAS CHANGED\"): run `rdev ssh-config "
			      "--write` again (or `rdev ssh-config TARGET` for a block "
			      "kept elsewhere) to pin the new one in %s",
			path, kh);
	free(err);
	free(line);
	free(text);
	free(kh);
	return note;
}

ssh_key
ssh_proxy_key_load(char **note, char **cause)
{
	ssh_key key = NULL;
	struct stat st;
	char *dir, *path;

	if (note != NULL)
		*note = NULL;
	if ((dir = ssh_proxy_key_dir(cause)) == NULL)
		return NULL;
	path = xasprintf("%s/host_key", dir);
	if (stat(path, &st) != 0 && ssh_proxy_key_make(path, cause) != 0)
		goto out;
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
		error_set(cause, "%s: mode %03o, must be 0600 (chmod 600 %s)", path,
		    (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
		error_set(cause, "%s: cannot read the key", path);
		key = NULL;
		goto out;
	}
	if (note != NULL)
		*note = ssh_proxy_key_stale(dir, path, key);
out:
	free(dir);
	free(path);
	return key;
}

char *
ssh_proxy_key_known_hosts(char **cause)
{
	ssh_key key;
	char *dir, *path = NULL, *line;

	if ((key = ssh_proxy_key_load(NULL, cause)) == NULL)
		return NULL;
	if ((dir = ssh_proxy_key_dir(cause)) == NULL)
		goto out;
	if ((line = ssh_proxy_key_line(key, cause)) == NULL) {
		free(dir);
		goto out;
	}
	path = xasprintf("%s/known_hosts", dir);
	free(dir);
	if (atomic_file_write(path, line, strlen(line), 0600, cause) != 0) {
		free(path);
		path = NULL;
	}
	free(line);
out:
	ssh_key_free(key);
	return path;
}
