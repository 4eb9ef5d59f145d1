/* standalone-driver.c - replay a fuzz corpus without libFuzzer.
 *
 * usage: fuzz-NAME [CORPUS_DIR_OR_FILE...] [-n MUTATIONS]
 * Every file is fed as is, then MUTATIONS (default 20000) deterministic
 * mutations of the corpus entries (bit flips, truncations, byte insertions,
 * splices). A crash or sanitizer report fails the run. Folders are read in
 * name order, so the same corpus runs the same mutations on every clone.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

struct input {
	unsigned char *data;
	size_t len;
};

static struct input *inputs;
static size_t ninputs;

static void
add_input(const unsigned char *data, size_t len)
{
	inputs = realloc(inputs, (ninputs + 1) * sizeof *inputs);
	if (inputs == NULL)
		abort();
	inputs[ninputs].data = malloc(len + 1);
	if (inputs[ninputs].data == NULL)
		abort();
	memcpy(inputs[ninputs].data, data, len);
	inputs[ninputs].len = len;
	ninputs++;
}

static void
load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	long len;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)len + 1);
	if (data == NULL || fread(data, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "%s: read failed\n", path);
		exit(2);
	}
	fclose(f);
	add_input(data, (size_t)len);
	free(data);
}

/* Names in byte order: the mutations below draw from the inputs by index,
 * so the order they were loaded in decides what runs. */
static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
name_visible(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Load path, a file or a folder (its files and folders in name order: in
 * readdir's order, which differs between file systems and even between two
 * copies of a folder, each clone would run other mutations). */
static void
load_path(const char *path)
{
	struct stat st;
	struct dirent **names;
	char child[4096];
	int n, i;

	if (stat(path, &st) < 0) {
		perror(path);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		load_file(path);
		return;
	}
	if ((n = scandir(path, &names, name_visible, name_cmp)) < 0) {
		perror(path);
		exit(2);
	}
	for (i = 0; i < n; i++) {
		snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name);
		free(names[i]);
		load_path(child);
	}
	free(names);
}

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;

static unsigned long long
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t
mutate(const struct input *in, const struct input *other, unsigned char *out, size_t cap)
{
	size_t len = in->len < cap ? in->len : cap, i, n, pos;
	static const char tokens[] = "{}[],:\"\\/*\n\r\t 0-e.tfn\xef\xbb\xbf\xff\xc3";

	memcpy(out, in->data, len);
	n = 1 + rng() % 4;
	for (i = 0; i < n; i++) {
		pos = len == 0 ? 0 : rng() % len;
		switch (rng() % 5) {
		case 0: /* flip a bit */
			if (len > 0)
				out[pos] ^= (unsigned char)(1u << (rng() % 8));
			break;
		case 1: /* truncate */ len = pos; break;
		case 2: /* insert a structural byte */
			if (len < cap) {
				memmove(out + pos + 1, out + pos, len - pos);
				out[pos] =
				    (unsigned char)tokens[rng() % (sizeof tokens - 1)];
				len++;
			}
			break;
		case 3: /* delete a byte */
			if (len > 0) {
				memmove(out + pos, out + pos + 1, len - pos - 1);
				len--;
			}
			break;
		case 4: /* splice the tail of another input */
			if (other->len > 0) {
				size_t from = rng() % other->len,
				       take = other->len - from;
				if (pos + take > cap)
					take = cap - pos;
				memcpy(out + pos, other->data + from, take);
				len = pos + take;
			}
			break;
		}
	}
	return len;
}

int
main(int argc, char **argv)
{
	long mutations = 20000, i;
	size_t cap = 1 << 16, len;
	unsigned char *buf;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-n") == 0 && a + 1 < argc)
			mutations = atol(argv[++a]);
		else
			load_path(argv[a]);
	}
	if (ninputs == 0)
		add_input((const unsigned char *)"", 0);
	for (i = 0; i < (long)ninputs; i++)
		LLVMFuzzerTestOneInput(inputs[i].data, inputs[i].len);
	buf = malloc(cap);
	if (buf == NULL)
		abort();
	for (i = 0; i < mutations; i++) {
		const struct input *in = &inputs[rng() % ninputs];
		const struct input *other = &inputs[rng() % ninputs];
		len = mutate(in, other, buf, cap);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("%zu corpus inputs and %ld mutations ran clean\n", ninputs, mutations);
	for (i = 0; i < (long)ninputs; i++)
		free(inputs[i].data);
	free(inputs);
	free(buf);
	return 0;
}
