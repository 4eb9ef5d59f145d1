/* config-throughput.c - configs parsed + validated + merged per second.
 *
 * For each fixture workspace folder (a directory holding .devcontainer/ or
 * .devcontainer.json) found under the roots given on the command line
 * (default: tests/data/config and tests/conformance of the source tree), run
 * the pipeline `rdev read-configuration --include-merged-configuration` runs
 * minus the docker call and the printing, over and over:
 *
 *	config_load()    discovery, read, JSONC parse, validation, legacy
 *	                 properties, git root, devcontainerId, substitution
 *	config_subst()   of the image metadata, with the config's context
 *	config_merge()   metadata + config into the merged configuration
 *
 * The image metadata is the label of the rig's rdev-test/bookworm-meta:r1,
 * parsed once with config_metadata_parse(). Fixtures that config_load()
 * rejects (on purpose: errors/, none/, multiple/) are listed and skipped.
 *
 * Each fixture gets an equal share of the time budget, split into rounds; a
 * round's rate is its iterations over its wall time. Printed per fixture: the
 * min and median round rate; overall: all iterations over all wall time, and
 * over the process's CPU time (which other processes on a busy machine do
 * not inflate). The last line is machine-readable for bench/run.sh:
 *	RESULT overall_per_sec=N cpu_per_sec=N fixtures=N iterations=N ...
 *
 * Usage: config-throughput [-q] [-r rounds] [-t seconds] [root ...]
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config-merge.h"
#include "config.h"
#include "xmalloc.h"

#ifndef RDEV_SOURCE_DIR
#define RDEV_SOURCE_DIR "."
#endif

/* The devcontainer.metadata label of rdev-test/bookworm-meta:r1
 * (tests/rig/rig.sh). */
static const char bench_label[] =
    "[{\"remoteUser\":\"dev\",\"containerEnv\":{\"FROM_IMAGE_METADATA\":\"1\"},"
    "\"postCreateCommand\":\"echo from-image-metadata\","
    "\"capAdd\":[\"SYS_PTRACE\"]}]";

struct fixture {
	char *path;
	const char *name; /* path relative to its root's parent */
	double *rates;
	double seconds;
	double cpu_seconds;
	unsigned long iterations;
};

struct fixtures {
	struct fixture *list;
	size_t count;
	size_t alloc;
};

/* Seconds on clock (CLOCK_MONOTONIC: wall; CLOCK_PROCESS_CPUTIME_ID: CPU). */
static double
bench_now(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0)
		fatal("clock_gettime: %s", strerror(errno));
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
bench_is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int
bench_is_file(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A workspace folder holds .devcontainer/ or .devcontainer.json. */
static int
bench_is_workspace(const char *dir)
{
	char *p;
	int yes;

	p = xasprintf("%s/.devcontainer", dir);
	yes = bench_is_dir(p);
	free(p);
	if (yes)
		return 1;
	p = xasprintf("%s/.devcontainer.json", dir);
	yes = bench_is_file(p);
	free(p);
	return yes;
}

static int
bench_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add dir if it is a workspace, else look in its subdirectories (in name
 * order, skipping dot directories). name_off: where the displayed name
 * starts in a path. */
static void
bench_scan(struct fixtures *fx, const char *dir, size_t name_off, int depth)
{
	struct fixture *f;
	struct dirent *de;
	DIR *d;
	char **names = NULL, *sub;
	size_t n = 0, alloc = 0, i;

	if (bench_is_workspace(dir)) {
		if (fx->count == fx->alloc) {
			fx->alloc = fx->alloc == 0 ? 16 : fx->alloc * 2;
			fx->list = xreallocarray(fx->list, fx->alloc, sizeof *fx->list);
		}
		f = &fx->list[fx->count++];
		memset(f, 0, sizeof *f);
		f->path = xstrdup(dir);
		f->name = f->path + (strlen(f->path) > name_off ? name_off : 0);
		return;
	}
	if (depth == 0 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == alloc) {
			alloc = alloc == 0 ? 16 : alloc * 2;
			names = xreallocarray(names, alloc, sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, bench_cmp_names);
	for (i = 0; i < n; i++) {
		sub = xasprintf("%s/%s", dir, names[i]);
		if (bench_is_dir(sub))
			bench_scan(fx, sub, name_off, depth - 1);
		free(sub);
		free(names[i]);
	}
	free(names);
}

/* One pass of the pipeline. Returns 0, or -1 with *cause set. */
static int
bench_once(const char *folder, const cJSON *metadata, char **cause)
{
	struct config_load_opts opts;
	struct config *cfg;
	cJSON *meta, *merged;

	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = folder;
	if ((cfg = config_load(&opts, cause)) == NULL)
		return -1;
	meta = config_subst(metadata, config_get_subst_ctx(cfg));
	merged = config_merge(meta, config_get_object(cfg));
	if (meta == NULL || merged == NULL)
		fatal("out of memory");
	cJSON_Delete(merged);
	cJSON_Delete(meta);
	config_free(cfg);
	return 0;
}

static int
bench_cmp_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
bench_usage(void)
{
	fprintf(stderr,
	    "usage: config-throughput [-q] [-r rounds] "
	    "[-t seconds] [root ...]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct fixtures fx = { NULL, 0, 0 };
	struct fixture *f;
	cJSON *metadata;
	const char *slash;
	char *cause = NULL, *root, *end;
	double budget = 3.0, share, start, cpu_start, t, total_s = 0;
	double total_cpu = 0;
	double *sorted;
	unsigned long n, batch, total_n = 0;
	size_t i, r, ok = 0;
	int ch, rounds = 7, quiet = 0, nroots;

	while ((ch = getopt(argc, argv, "qr:t:")) != -1) {
		switch (ch) {
		case 'q': quiet = 1; break;
		case 'r':
			rounds = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || rounds < 1 || rounds > 1000)
				bench_usage();
			break;
		case 't':
			budget = strtod(optarg, &end);
			if (*end != '\0' || budget <= 0)
				bench_usage();
			break;
		default: bench_usage();
		}
	}
	argc -= optind;
	argv += optind;

	/* Fixtures: each root, or the source tree's fixture corpus. */
	nroots = argc;
	for (i = 0; i < (size_t)(nroots > 0 ? nroots : 2); i++) {
		if (nroots > 0)
			root = xstrdup(argv[i]);
		else
			root = xasprintf("%s/%s", RDEV_SOURCE_DIR,
			    i == 0 ? "tests/data/config" : "tests/conformance");
		while (strlen(root) > 1 && root[strlen(root) - 1] == '/')
			root[strlen(root) - 1] = '\0';
		slash = strrchr(root, '/');
		if (!bench_is_dir(root)) {
			if (nroots > 0)
				fatal("%s: not a directory", root);
			fprintf(stderr,
			    "config-throughput: %s: not there, "
			    "skipped\n",
			    root);
		} else
			bench_scan(
			    &fx, root, slash == NULL ? 0 : (size_t)(slash - root) + 1, 3);
		free(root);
	}

	if ((metadata = config_metadata_parse(bench_label, &cause)) == NULL)
		fatal("metadata: %s", cause);

	/* Drop the fixtures the pipeline rejects; warm the others up. */
	for (i = 0; i < fx.count; i++) {
		f = &fx.list[i];
		if (bench_once(f->path, metadata, &cause) != 0) {
			if (!quiet)
				printf("skipped %s: %s\n", f->name, cause);
			free(cause);
			cause = NULL;
			free(f->path);
			f->path = NULL;
			continue;
		}
		ok++;
	}
	if (ok == 0)
		fatal("no fixture loads");

	share = budget / ok / rounds;
	printf("%-40s %10s %12s %12s\n", "fixture", "iterations", "min/s", "median/s");
	sorted = xcalloc(rounds, sizeof *sorted);
	for (i = 0; i < fx.count; i++) {
		f = &fx.list[i];
		if (f->path == NULL)
			continue;
		f->rates = xcalloc(rounds, sizeof *f->rates);
		for (r = 0; r < (size_t)rounds; r++) {
			/* Run batches until this round's share is used up. */
			start = bench_now(CLOCK_MONOTONIC);
			cpu_start = bench_now(CLOCK_PROCESS_CPUTIME_ID);
			n = 0;
			batch = 16;
			do {
				for (; batch > 0; batch--, n++)
					if (bench_once(f->path, metadata, &cause) != 0)
						fatal("%s: %s", f->name, cause);
				t = bench_now(CLOCK_MONOTONIC) - start;
				batch = 16;
			} while (t < share);
			f->rates[r] = n / t;
			f->iterations += n;
			f->seconds += t;
			f->cpu_seconds += bench_now(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
		}
		memcpy(sorted, f->rates, rounds * sizeof *sorted);
		qsort(sorted, rounds, sizeof *sorted, bench_cmp_doubles);
		printf("%-40s %10lu %12.0f %12.0f\n", f->name, f->iterations, sorted[0],
		    sorted[rounds / 2]);
		total_n += f->iterations;
		total_s += f->seconds;
		total_cpu += f->cpu_seconds;
	}

	/* Overall: every fixture had the same time, so this is their mean rate
	 * weighted by time, not by iterations. */
	printf("%-40s %10lu %12s %12.0f\n", "overall (iterations / wall time)", total_n,
	    "", total_n / total_s);
	printf("%-40s %10s %12s %12.0f\n", "overall (iterations / CPU time)", "", "",
	    total_n / total_cpu);
	printf("RESULT overall_per_sec=%.0f cpu_per_sec=%.0f fixtures=%zu "
	       "iterations=%lu seconds=%.3f cpu_seconds=%.3f\n",
	    total_n / total_s, total_n / total_cpu, ok, total_n, total_s, total_cpu);

	for (i = 0; i < fx.count; i++) {
		free(fx.list[i].path);
		free(fx.list[i].rates);
	}
	free(fx.list);
	free(sorted);
	cJSON_Delete(metadata);
	return 0;
}
