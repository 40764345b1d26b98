/* The flow engine: tasks with dependencies run as a graph, as Gardener's
 * flow package does. A task starts once every task it depends on has
 * succeeded; independent tasks run in parallel (one thread each). A task
 * is retried with exponential backoff. After each task the set of tasks
 * done is written to a state file, so an interrupted run resumes where it
 * stopped; engine_reverse() undoes the flow, dependents before what they
 * depend on. Every task must be idempotent: a run may be cut between the
 * task's effect and the state file being written. */
#ifndef CONTROLLER_ENGINE_H
#define CONTROLLER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
	ENGINE_DEPS_MAX = 8,
	ENGINE_TASKS_MAX = 64,
	ENGINE_ATTEMPTS = 3,		/* default tries per task */
	ENGINE_BACKOFF_MS = 200,	/* first pause between tries; doubles */
	ENGINE_BACKOFF_MAX_MS = 5000,
	ENGINE_ERR_MAX = 512,
};

/* run and undo return 0 or -errno and may write one line to err. A NULL
 * undo means there is nothing to undo. */
typedef int (*engine_fn)(void *ctx, char *err, size_t errlen);

struct engine_task {
	const char *name;
	const char *deps[ENGINE_DEPS_MAX];	/* names; NULL ends the list */
	engine_fn run, undo;
};

struct engine_opts {
	const char *state_path;	/* NULL: nothing persisted */
	const char *verb;	/* "create", for the summary */
	int attempts;		/* 0: ENGINE_ATTEMPTS */
	int backoff_ms;		/* 0: ENGINE_BACKOFF_MS */
	FILE *out;		/* progress lines; NULL: stderr */
};

/* Runs the flow. Returns 0 when every task is done, -EINVAL for a bad
 * graph (unknown dependency, cycle, duplicate name: named on out), or the
 * first failing task's error once the tasks already running have ended. */
int engine_run(const struct engine_task *t, size_t n, void *ctx, const struct engine_opts *o);
/* Undoes the flow in reverse order; removes the state file at the end. */
int engine_reverse(const struct engine_task *t, size_t n, void *ctx, const struct engine_opts *o);
/* Which tasks the state file records as done (all false if it is absent).
 * Returns 0 or -errno. */
int engine_load_state(const char *state_path, const struct engine_task *t, size_t n, bool *done);

#endif
