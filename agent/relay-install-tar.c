/* relay-install-tar.c - the ustar archives of the Engine API's archive
 * endpoints: write one to copy files into a container, read the first file
 * of one read back (relay-install.h). Pure. */
#include "relay-install.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

static void
relay_tar_octal(char *field, size_t size, unsigned long long v)
{
	/* size - 1 octal digits and a NUL, as ustar wants. */
	snprintf(field, size, "%0*llo", (int)size - 1, v);
}

void
relay_install_tar(size_t n, const char *const *names, const void *const *data,
    const size_t *lens, const unsigned *modes, unsigned char **tar, size_t *tar_len)
{
	struct buf *b = buf_new();
	unsigned char hdr[512];
	unsigned sum;
	time_t now = time(NULL);

	for (size_t i = 0; i < n; i++) {
		memset(hdr, 0, sizeof hdr);
		if (strlen(names[i]) >= 100)
			fatal("relay_install_tar: name too long: %s", names[i]);
		memcpy(hdr, names[i], strlen(names[i]));
		relay_tar_octal((char *)hdr + 100, 8, modes[i] & 07777);
		relay_tar_octal((char *)hdr + 108, 8, 0);
		relay_tar_octal((char *)hdr + 116, 8, 0);
		relay_tar_octal((char *)hdr + 124, 12, lens[i]);
		relay_tar_octal((char *)hdr + 136, 12, (unsigned long long)now);
		memset(hdr + 148, ' ', 8);
		hdr[156] = '0';
		memcpy(hdr + 257, "ustar", 6);
		memcpy(hdr + 263, "00", 2);
		sum = 0;
		for (size_t k = 0; k < sizeof hdr; k++)
			sum += hdr[k];
		snprintf((char *)hdr + 148, 8, "%06o", sum);
		hdr[155] = ' ';
		buf_append(b, hdr, sizeof hdr);
		buf_append(b, data[i], lens[i]);
		memset(hdr, 0, sizeof hdr);
		if (lens[i] % 512 != 0)
			buf_append(b, hdr, 512 - lens[i] % 512);
	}
	memset(hdr, 0, sizeof hdr);
	buf_append(b, hdr, sizeof hdr);
	buf_append(b, hdr, sizeof hdr);
	*tar = (unsigned char *)buf_take_string(b, tar_len);
	buf_free(b);
}

int
relay_install_untar_first(
    const unsigned char *tar, size_t tar_len, char **data, size_t *len, char **cause)
{
	char field[13];
	unsigned long long size;
	char *end;
	size_t off = 0;

	*data = NULL;
	*len = 0;
	while (off + 512 <= tar_len) {
		const unsigned char *h = tar + off;
		if (h[0] == '\0')
			break;
		memcpy(field, h + 124, 12);
		field[12] = '\0';
		errno = 0;
		size = strtoull(field, &end, 8);
		if (errno != 0 || end == field)
			return error_set(cause, "malformed archive from docker");
		off += 512;
		if (size > tar_len - off)
			return error_set(cause, "truncated archive from docker");
		if (h[156] == '0' || h[156] == '\0') {
			*data = xmalloc((size_t)size + 1);
			memcpy(*data, tar + off, (size_t)size);
			(*data)[size] = '\0';
			*len = (size_t)size;
			return 0;
		}
		off += ((size_t)size + 511) / 512 * 512;
	}
	return error_set(cause, "archive from docker holds no file");
}
