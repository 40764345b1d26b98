/* The flow engine; see engine.h. One mutex guards the task states; the
 * main thread starts tasks, reports them and writes the state file, the
 * worker threads only run a task (with its retries) and signal. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/engine.h"

enum tstate { T_PENDING, T_RUNNING, T_DONE, T_FAILED };

struct run;

struct worker {
	struct run *run;
	size_t i;
	pthread_t thread;
	bool started, reported, skipped;
	int result;
	long ms;
	char err[ENGINE_ERR_MAX];
};

struct run {
	const struct engine_task *t;
	size_t n;
	void *ctx;
	bool reverse;
	int attempts, backoff_ms;
	FILE *out;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum tstate st[ENGINE_TASKS_MAX];
	struct worker w[ENGINE_TASKS_MAX];
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int find(const struct engine_task *t, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return (int)i;
	return -1;
}

/* Names unique, dependencies known, no cycle (Kahn's algorithm). */
static int check_graph(const struct engine_task *t, size_t n, FILE *out)
{
	int indeg[ENGINE_TASKS_MAX] = { 0 };
	size_t i, j, k, seen = 0;
	bool gone[ENGINE_TASKS_MAX] = { false }, progress = true;

	if (n > ENGINE_TASKS_MAX) {
		fprintf(out, "flow: %zu tasks, at most %d\n", n, ENGINE_TASKS_MAX);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (find(t, i, t[i].name) >= 0) {
			fprintf(out, "flow: task `%s' declared twice\n", t[i].name);
			return -EINVAL;
		}
		for (k = 0; k < ENGINE_DEPS_MAX && t[i].deps[k]; k++) {
			if (find(t, n, t[i].deps[k]) < 0) {
				fprintf(out, "flow: task `%s' depends on unknown `%s'\n", t[i].name,
					t[i].deps[k]);
				return -EINVAL;
			}
			indeg[i]++;
		}
	}
	while (progress) {
		progress = false;
		for (i = 0; i < n; i++) {
			if (gone[i] || indeg[i])
				continue;
			gone[i] = progress = true;
			seen++;
			for (j = 0; j < n; j++)
				for (k = 0; k < ENGINE_DEPS_MAX && t[j].deps[k]; k++)
					if (!strcmp(t[j].deps[k], t[i].name))
						indeg[j]--;
		}
	}
	if (seen != n) {
		for (i = 0; i < n && gone[i]; i++)
			;
		fprintf(out, "flow: dependency cycle through `%s'\n", t[i].name);
		return -EINVAL;
	}
	return 0;
}

static bool depends_on(const struct engine_task *a, const char *name)
{
	size_t k;

	for (k = 0; k < ENGINE_DEPS_MAX && a->deps[k]; k++)
		if (!strcmp(a->deps[k], name))
			return true;
	return false;
}

/* Forward: every dependency done. Reverse: every dependent undone
 * ("done" then means "undone"). */
static bool ready(const struct run *r, size_t i)
{
	size_t j;

	if (r->st[i] != T_PENDING)
		return false;
	for (j = 0; j < r->n; j++) {
		bool edge = r->reverse ? depends_on(&r->t[j], r->t[i].name)
				       : depends_on(&r->t[i], r->t[j].name);

		if (edge && r->st[j] != T_DONE)
			return false;
	}
	return true;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	const struct engine_task *t = &r->t[w->i];
	engine_fn fn = r->reverse ? t->undo : t->run;
	long start = now_ms(), pause = r->backoff_ms;
	int attempt, res = 0;

	for (attempt = 1; attempt <= r->attempts; attempt++) {
		w->err[0] = '\0';
		res = fn(r->ctx, w->err, sizeof(w->err));
		if (!res || attempt == r->attempts)
			break;
		pthread_mutex_lock(&r->lock);
		fprintf(r->out, "[retry] %s attempt %d/%d failed: %s; again in %ld ms\n", t->name,
			attempt, r->attempts, w->err[0] ? w->err : strerror(-res), pause);
		fflush(r->out);
		pthread_mutex_unlock(&r->lock);
		usleep((useconds_t)pause * 1000);
		pause = pause * 2 > ENGINE_BACKOFF_MAX_MS ? ENGINE_BACKOFF_MAX_MS : pause * 2;
	}
	pthread_mutex_lock(&r->lock);
	w->result = res;
	w->ms = now_ms() - start;
	r->st[w->i] = res ? T_FAILED : T_DONE;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Forward: the tasks done. Reverse: the tasks not yet undone. Through a
 * temporary file and rename(), so the file is always whole. */
static int save_state(const struct run *r, const char *path)
{
	char tmp[4200];
	FILE *f;
	size_t i;

	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "we")))
		goto fail;
	fprintf(f, "# shootctl flow state: the tasks done\n");
	for (i = 0; i < r->n; i++)
		if ((r->st[i] == T_DONE) != r->reverse)
			fprintf(f, "done %s\n", r->t[i].name);
	if (fclose(f) || rename(tmp, path))
		goto fail;
	return 0;
fail:
	fprintf(r->out, "flow: cannot write the state file %s: %s\n", path, strerror(errno));
	return -errno;
}

int engine_load_state(const char *path, const struct engine_task *t, size_t n, bool *done)
{
	char line[256];
	FILE *f;
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		done[i] = false;
	if (!(f = fopen(path, "re")))
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "done ", 5) && (k = find(t, n, line + 5)) >= 0)
			done[k] = true;
	}
	fclose(f);
	return 0;
}

static int flow(const struct engine_task *t, size_t n, void *ctx, const struct engine_opts *o,
		bool reverse)
{
	struct run *r;
	bool done[ENGINE_TASKS_MAX];
	const char *verb = o && o->verb ? o->verb : (reverse ? "delete" : "create");
	const char *state = o ? o->state_path : NULL;
	long start = now_ms();
	size_t i, ok = 0, skipped = 0, failed = 0, notrun = 0;
	int res = 0, running = 0;

	if (!(r = calloc(1, sizeof(*r))))
		return -ENOMEM;
	r->t = t;
	r->n = n;
	r->ctx = ctx;
	r->reverse = reverse;
	r->out = o && o->out ? o->out : stderr;
	r->attempts = o && o->attempts > 0 ? o->attempts : ENGINE_ATTEMPTS;
	r->backoff_ms = o && o->backoff_ms > 0 ? o->backoff_ms : ENGINE_BACKOFF_MS;
	if ((res = check_graph(t, n, r->out)))
		goto out;
	if (state && (res = engine_load_state(state, t, n, done))) {
		fprintf(r->out, "flow: cannot read the state file %s: %s\n", state, strerror(-res));
		goto out;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	for (i = 0; i < n; i++) {
		r->w[i].run = r;
		r->w[i].i = i;
		/* Forward, what an earlier run did is skipped; in reverse, a task
		 * without undo has nothing to do. Undo runs whatever the state
		 * says: a create cut short may have left part of a task's work. */
		if ((!reverse && state && done[i]) || (reverse && !t[i].undo)) {
			r->st[i] = T_DONE;
			r->w[i].skipped = r->w[i].reported = true;
			if (!reverse)
				fprintf(r->out, "[skip] %s (done in an earlier run)\n", t[i].name);
		}
	}
	pthread_mutex_lock(&r->lock);
	for (;;) {
		bool stop = false;

		for (i = 0; i < n; i++) {
			struct worker *w = &r->w[i];

			if (w->reported || (r->st[i] != T_DONE && r->st[i] != T_FAILED))
				continue;
			w->reported = true;
			running--;
			pthread_join(w->thread, NULL);
			if (w->result) {
				fprintf(r->out, "[fail] %s %ld ms: %s\n", t[i].name, w->ms,
					w->err[0] ? w->err : strerror(-w->result));
				if (!res)
					res = w->result;
			} else {
				fprintf(r->out, "[ok] %s %ld ms\n", t[i].name, w->ms);
				/* Forward, a run that cannot record progress stops
				 * (a resume would redo it all); in reverse, undoing
				 * goes on: what is left matters more than the record. */
				if (save_state(r, state) && !res && !reverse)
					res = -EIO;
			}
			fflush(r->out);
		}
		stop = res != 0;
		for (i = 0; i < n && !stop; i++) {
			if (!ready(r, i))
				continue;
			r->st[i] = T_RUNNING;
			if (pthread_create(&r->w[i].thread, NULL, work, &r->w[i])) {
				r->st[i] = T_PENDING;
				res = -EAGAIN;
				break;
			}
			r->w[i].started = true;
			running++;
		}
		if (!running)
			break;
		pthread_cond_wait(&r->cond, &r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);

	for (i = 0; i < n; i++) {
		if (r->w[i].skipped)
			skipped++;
		else if (r->st[i] == T_DONE)
			ok++;
		else if (r->st[i] == T_FAILED)
			failed++;
		else
			notrun++;
	}
	if (!res && reverse && state && unlink(state) && errno != ENOENT)
		res = -errno;
	fprintf(r->out, "%s: %s: %zu ok, %zu skipped, %zu failed, %zu not run, %ld ms\n", verb,
		res ? "FAILED" : "done", ok, skipped, failed, notrun, now_ms() - start);
	for (i = 0; i < n; i++)
		if (r->st[i] == T_FAILED)
			fprintf(r->out, "  failed: %s: %s\n", t[i].name,
				r->w[i].err[0] ? r->w[i].err : strerror(-r->w[i].result));
	if (res && state && !reverse)
		fprintf(r->out, "  the state is in %s; run %s again to resume\n", state, verb);
	fflush(r->out);
out:
	free(r);
	return res;
}

int engine_run(const struct engine_task *t, size_t n, void *ctx, const struct engine_opts *o)
{
	return flow(t, n, ctx, o, false);
}

int engine_reverse(const struct engine_task *t, size_t n, void *ctx, const struct engine_opts *o)
{
	return flow(t, n, ctx, o, true);
}
