/* The shoot spec: a YAML file in the shape of Gardener's Shoot
 * (core.gardener.cloud/v1beta1), reduced to what the VPN needs. */
#ifndef CONTROLLER_SPEC_H
#define CONTROLLER_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "tunnel/cidr.h"

enum {
	SPEC_NAME_MAX = 64,	/* a DNS label (63) plus NUL */
	SPEC_WORKERS_MAX = 16,
	SPEC_ERR_MAX = 256,
};

struct spec_worker {
	char name[SPEC_NAME_MAX];
	long minimum;
};

struct shoot_spec {
	char name[SPEC_NAME_MAX];		/* metadata.name */
	char namespace[SPEC_NAME_MAX + 8];	/* metadata.namespace: garden-<project> */
	char project[SPEC_NAME_MAX];		/* the namespace without "garden-" */
	/* The CIDR strings as written (each may be a comma list for dual
	 * stack) and parsed. */
	char pods_str[256], services_str[256], nodes_str[256];
	struct cidr_list pods, services, nodes;
	size_t nworkers;
	struct spec_worker workers[SPEC_WORKERS_MAX];
	/* spec.controlPlane.highAvailability.failureTolerance.type: "" (none),
	 * "node" or "zone"; either of the latter means an HA VPN (two server
	 * replicas, two agents). */
	char failure_tolerance[8];
	bool ha;
};

/* Parses YAML text; file names the input in messages. On error returns
 * -EINVAL (or -ENOMEM) and writes one line to err, naming the field and
 * the line: "spec.networking.pods: line 12: `10.1.0.0/33' is not a CIDR". */
int spec_parse(const char *text, size_t len, const char *file,
	       struct shoot_spec *s, char *err, size_t errlen);
/* Reads and parses a file; -errno with err naming the file. */
int spec_load(const char *path, struct shoot_spec *s, char *err, size_t errlen);
/* Server replicas and agents: 2 in HA, else 1. */
int spec_replicas(const struct shoot_spec *s);

#endif
