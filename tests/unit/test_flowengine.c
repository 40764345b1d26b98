/* controller/engine: ordering, parallelism, retries, resume after a
 * failure half way, reverse deletion, bad graphs. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "controller/engine.h"

/* What the tasks did, in order: "+a" for a run, "-a" for an undo. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char trail[512];
static int fail_c_times, runs_a, arrived;
static char state_path[64];
static FILE *out;

static void log_step(const char *s)
{
	pthread_mutex_lock(&mu);
	strcat(trail, s);
	pthread_mutex_unlock(&mu);
}

static int run_a(void *ctx, char *err, size_t n) { runs_a++; log_step("+a"); return 0; }
static int undo_a(void *ctx, char *err, size_t n) { log_step("-a"); return 0; }
static int undo_b(void *ctx, char *err, size_t n) { log_step("-b"); return 0; }
static int undo_c(void *ctx, char *err, size_t n) { log_step("-c"); return 0; }
static int undo_d(void *ctx, char *err, size_t n) { log_step("-d"); return 0; }

/* b and c meet here: neither returns unless the other is running too,
 * which proves they run in parallel. */
static int rendezvous(void)
{
	struct timespec until;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 3;
	pthread_mutex_lock(&mu);
	arrived++;
	pthread_cond_broadcast(&cv);
	while (arrived < 2 && !r)
		r = pthread_cond_timedwait(&cv, &mu, &until);
	pthread_mutex_unlock(&mu);
	return r ? -ETIMEDOUT : 0;
}

static int run_b(void *ctx, char *err, size_t n)
{
	int r = rendezvous();

	log_step("+b");
	return r;
}

static int run_c(void *ctx, char *err, size_t n)
{
	int r = rendezvous();

	if (fail_c_times > 0) {
		fail_c_times--;
		snprintf(err, n, "c is not ready");
		arrived = 1;	/* b has been here: a retry need not wait */
		return -EAGAIN;
	}
	log_step("+c");
	return r;
}

static int run_d(void *ctx, char *err, size_t n) { log_step("+d"); return 0; }

/* a -> (b, c in parallel) -> d: the graph in one table. */
static const struct engine_task diamond[] = {
	{ "a", { NULL }, run_a, undo_a },
	{ "b", { "a" }, run_b, undo_b },
	{ "c", { "a" }, run_c, undo_c },
	{ "d", { "b", "c" }, run_d, undo_d },
};

static int setup(void **state)
{
	trail[0] = '\0';
	fail_c_times = runs_a = arrived = 0;
	snprintf(state_path, sizeof(state_path), "/tmp/test_flowengine.XXXXXX");
	close(mkstemp(state_path));
	unlink(state_path);
	out = tmpfile();
	return 0;
}

static int teardown(void **state)
{
	unlink(state_path);
	fclose(out);
	return 0;
}

static char *output(void)
{
	static char buf[4096];
	size_t n;

	rewind(out);
	n = fread(buf, 1, sizeof(buf) - 1, out);
	buf[n] = '\0';
	return buf;
}

static void order_and_parallel(void **state)
{
	struct engine_opts o = { .state_path = state_path, .out = out, .backoff_ms = 1 };

	assert_int_equal(engine_run(diamond, 4, NULL, &o), 0);
	/* a first, d last, b and c in between in either order */
	assert_true(!strcmp(trail, "+a+b+c+d") || !strcmp(trail, "+a+c+b+d"));
	assert_non_null(strstr(output(), "[ok] a "));
	assert_non_null(strstr(output(), "create: done: 4 ok, 0 skipped, 0 failed, 0 not run"));
}

static void retries(void **state)
{
	struct engine_opts o = { .out = out, .backoff_ms = 1, .attempts = 3 };

	fail_c_times = 2;
	assert_int_equal(engine_run(diamond, 4, NULL, &o), 0);
	assert_non_null(strstr(output(), "[retry] c attempt 1/3 failed: c is not ready"));
	assert_non_null(strstr(output(), "[retry] c attempt 2/3"));
	assert_non_null(strstr(trail, "+d"));
}

static void resume_after_failure(void **state)
{
	struct engine_opts o = { .state_path = state_path, .out = out, .backoff_ms = 1,
				 .attempts = 2 };
	bool done[4];

	fail_c_times = 2;
	assert_int_equal(engine_run(diamond, 4, NULL, &o), -EAGAIN);
	assert_null(strstr(trail, "+d"));
	assert_non_null(strstr(output(), "[fail] c "));
	assert_non_null(strstr(output(), "1 failed, 1 not run"));
	assert_non_null(strstr(output(), "failed: c: c is not ready"));
	assert_int_equal(engine_load_state(state_path, diamond, 4, done), 0);
	assert_true(done[0] && done[1] && !done[2] && !done[3]);

	trail[0] = '\0';
	arrived = 1;	/* b will not run again to meet c */
	assert_int_equal(engine_run(diamond, 4, NULL, &o), 0);
	assert_string_equal(trail, "+c+d");
	assert_int_equal(runs_a, 1);
	assert_non_null(strstr(output(), "[skip] a (done in an earlier run)"));
}

static void reverse(void **state)
{
	struct engine_opts o = { .state_path = state_path, .out = out, .backoff_ms = 1 };

	assert_int_equal(engine_run(diamond, 4, NULL, &o), 0);
	trail[0] = '\0';
	assert_int_equal(engine_reverse(diamond, 4, NULL, &o), 0);
	assert_true(!strcmp(trail, "-d-b-c-a") || !strcmp(trail, "-d-c-b-a"));
	assert_int_equal(access(state_path, F_OK), -1);
}

static void bad_graphs(void **state)
{
	static const struct engine_task unknown[] = { { "a", { "zz" }, run_a, NULL } };
	static const struct engine_task cycle[] = {
		{ "a", { "b" }, run_a, NULL }, { "b", { "a" }, run_a, NULL } };
	static const struct engine_task twice[] = {
		{ "a", { NULL }, run_a, NULL }, { "a", { NULL }, run_a, NULL } };
	struct engine_opts o = { .out = out };

	assert_int_equal(engine_run(unknown, 1, NULL, &o), -EINVAL);
	assert_int_equal(engine_run(cycle, 2, NULL, &o), -EINVAL);
	assert_int_equal(engine_run(twice, 2, NULL, &o), -EINVAL);
	assert_int_equal(runs_a, 0);
	assert_non_null(strstr(output(), "task `a' depends on unknown `zz'"));
	assert_non_null(strstr(output(), "dependency cycle through `a'"));
	assert_non_null(strstr(output(), "task `a' declared twice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(order_and_parallel, setup, teardown),
		cmocka_unit_test_setup_teardown(retries, setup, teardown),
		cmocka_unit_test_setup_teardown(resume_after_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_graphs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
