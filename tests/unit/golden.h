/* Golden files for rendered output, shared by the unit tests.
 *
 * A golden file is the specification of an output. With GOLDEN_UPDATE=1 a
 * test writes what it rendered instead of comparing (tools/regen-golden.sh
 * does that for every test with golden files); commit the change only
 * after reading its diff. GOLDEN_DIR overrides where the files are.
 * Include after <cmocka.h>. */
#ifndef TESTS_UNIT_GOLDEN_H
#define TESTS_UNIT_GOLDEN_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void golden_path(char *p, size_t n, const char *file)
{
	const char *dir = getenv("GOLDEN_DIR");

	if (dir && *dir)
		snprintf(p, n, "%s/%s", dir, file);
	else	/* tests run from the top of the tree, as make does */
		snprintf(p, n, "tests/unit/golden/%s", file);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (s = malloc((size_t)n + 1))) {
		if (fread(s, 1, (size_t)n, f) != (size_t)n) {
			free(s);
			s = NULL;
		} else {
			s[n] = '\0';
		}
	}
	fclose(f);
	return s;
}

/* With GOLDEN_UPDATE=1 writes got as the new golden file; otherwise
 * compares and, on a difference, names the first differing line. */
static void golden_compare(const char *file, const char *got)
{
	const char *upd = getenv("GOLDEN_UPDATE");
	char path[512];
	char *want;

	golden_path(path, sizeof(path), file);
	if (upd && !strcmp(upd, "1")) {
		FILE *f = fopen(path, "wb");

		if (!f || fwrite(got, 1, strlen(got), f) != strlen(got) || fclose(f))
			fail_msg("cannot write %s: %s", path, strerror(errno));
		printf("updated %s\n", path);
		return;
	}
	if (!(want = slurp(path)))
		fail_msg("cannot read %s: %s (run from the top of the tree, or set GOLDEN_DIR; "
			 "tools/regen-golden.sh creates it)", path, strerror(errno));
	if (strcmp(want, got)) {
		const char *a = want, *b = got;
		int line = 1;

		while (*a && *a == *b) {
			line += *a == '\n';
			a++, b++;
		}
		while (a > want && a[-1] != '\n')
			a--, b--;
		fprintf(stderr, "%s:%d differs\n  want: %.*s\n  got:  %.*s\n"
			"(intended? tools/regen-golden.sh and review the diff)\n",
			path, line, (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
		free(want);
		fail_msg("%s does not match the rendered output", path);
	}
	free(want);
}

#endif
