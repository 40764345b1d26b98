/* The shoot spec parser: libyaml loads the document into a node tree;
 * the fields are then looked up by path, so every message can name the
 * field and the line its value is on. Unknown fields are ignored (a real
 * Shoot has many the VPN does not care about). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "controller/spec.h"

struct ctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 4, 5)))
static int fail(struct ctx *c, const char *field, yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	size_t off;

	if (n)
		off = (size_t)snprintf(c->err, c->errlen, "%s: %s: line %zu: ", c->file,
				       field, n->start_mark.line + 1);
	else
		off = (size_t)snprintf(c->err, c->errlen, "%s: %s: ", c->file, field);
	if (off < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + off, c->errlen - off, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* The value of key in mapping m, or NULL. */
static yaml_node_t *get(struct ctx *c, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return yaml_document_get_node(c->doc, p->value);
	}
	return NULL;
}

/* Follows a dotted path ("spec.networking") from the root; a missing
 * step gives NULL, a step that is not a mapping an error. */
static int lookup(struct ctx *c, const char *path, int want, bool required,
		  yaml_node_t **out)
{
	yaml_node_t *n = yaml_document_get_root_node(c->doc), *parent = NULL;
	char buf[128], *tok, *save = NULL;
	const char *names[] = { [YAML_SCALAR_NODE] = "a string",
				[YAML_SEQUENCE_NODE] = "a list",
				[YAML_MAPPING_NODE] = "a mapping" };

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && n; tok = strtok_r(NULL, ".", &save)) {
		if (n->type != YAML_MAPPING_NODE)
			return fail(c, path, n, "expected a mapping on the way to this field");
		parent = n;
		n = get(c, n, tok);
	}
	if (!n) {
		*out = NULL;
		return required ? fail(c, path, parent, "missing (required)") : 0;
	}
	if ((int)n->type != want)
		return fail(c, path, n, "expected %s", names[want]);
	*out = n;
	return 0;
}

static int scalar(struct ctx *c, const char *path, bool required, char *dst,
		  size_t len, yaml_node_t **node)
{
	yaml_node_t *n;
	int r = lookup(c, path, YAML_SCALAR_NODE, required, &n);

	if (r)
		return r;
	if (node)
		*node = n;
	dst[0] = '\0';
	if (!n)
		return 0;
	if (n->data.scalar.length >= len)
		return fail(c, path, n, "longer than %zu characters", len - 1);
	memcpy(dst, n->data.scalar.value, n->data.scalar.length);
	dst[n->data.scalar.length] = '\0';
	if (required && !dst[0])
		return fail(c, path, n, "empty (required)");
	return 0;
}

/* RFC 1123 label, as Kubernetes names of namespaces and Services are. */
static bool dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

static int cidrs(struct ctx *c, const char *path, char *str, size_t len,
		 struct cidr_list *l)
{
	yaml_node_t *n;
	size_t bad = 0;
	int r = scalar(c, path, true, str, len, &n);

	if (r)
		return r;
	l->n = 0;
	r = cidr_list_parse(str, l, &bad);
	if (r == -ENOSPC)
		return fail(c, path, n, "more than %d networks", CIDR_LIST_MAX);
	if (r)
		return fail(c, path, n, "`%.*s' is not a CIDR", (int)strcspn(str + bad, ", "),
			    str + bad);
	return 0;
}

static int workers(struct ctx *c, struct shoot_spec *s)
{
	yaml_node_t *seq;
	yaml_node_item_t *it;
	char field[64], num[32];
	int r = lookup(c, "spec.provider.workers", YAML_SEQUENCE_NODE, true, &seq);

	if (r)
		return r;
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *w = yaml_document_get_node(c->doc, *it), *v;
		struct spec_worker *wk;
		size_t i = (size_t)(it - seq->data.sequence.items.start);
		char *end;

		snprintf(field, sizeof(field), "spec.provider.workers[%zu]", i);
		if (s->nworkers == SPEC_WORKERS_MAX)
			return fail(c, field, w, "more than %d worker pools", SPEC_WORKERS_MAX);
		if (w->type != YAML_MAPPING_NODE)
			return fail(c, field, w, "expected a mapping");
		wk = &s->workers[s->nworkers++];
		snprintf(field, sizeof(field), "spec.provider.workers[%zu].name", i);
		if (!(v = get(c, w, "name")))
			return fail(c, field, w, "missing (required)");
		if (v->type != YAML_SCALAR_NODE || !dns_label((const char *)v->data.scalar.value))
			return fail(c, field, v, "`%s' is not a DNS label (a-z, 0-9, '-')",
				    v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "");
		snprintf(wk->name, sizeof(wk->name), "%s", (const char *)v->data.scalar.value);
		snprintf(field, sizeof(field), "spec.provider.workers[%zu].minimum", i);
		if (!(v = get(c, w, "minimum")))
			return fail(c, field, w, "missing (required)");
		if (v->type != YAML_SCALAR_NODE || v->data.scalar.length >= sizeof(num))
			return fail(c, field, v, "expected a number");
		memcpy(num, v->data.scalar.value, v->data.scalar.length);
		num[v->data.scalar.length] = '\0';
		errno = 0;
		wk->minimum = strtol(num, &end, 10);
		if (errno || !num[0] || *end || wk->minimum < 0 || wk->minimum > 10000)
			return fail(c, field, v, "`%s' is not a number from 0 to 10000", num);
	}
	if (!s->nworkers)
		return fail(c, "spec.provider.workers", seq, "needs at least one worker pool");
	return 0;
}

static int fields(struct ctx *c, struct shoot_spec *s)
{
	yaml_node_t *n;
	char buf[128];
	int r;

	if ((r = scalar(c, "apiVersion", true, buf, sizeof(buf), &n)))
		return r;
	if (strcmp(buf, "core.gardener.cloud/v1beta1"))
		return fail(c, "apiVersion", n, "`%s' is not core.gardener.cloud/v1beta1", buf);
	if ((r = scalar(c, "kind", true, buf, sizeof(buf), &n)))
		return r;
	if (strcmp(buf, "Shoot"))
		return fail(c, "kind", n, "`%s' is not Shoot", buf);
	if ((r = scalar(c, "metadata.name", true, s->name, sizeof(s->name), &n)))
		return r;
	if (!dns_label(s->name))
		return fail(c, "metadata.name", n, "`%s' is not a DNS label (a-z, 0-9, '-')", s->name);
	if ((r = scalar(c, "metadata.namespace", true, s->namespace, sizeof(s->namespace), &n)))
		return r;
	if (strncmp(s->namespace, "garden-", 7) || !dns_label(s->namespace + 7) ||
	    strlen(s->namespace) > 63)
		return fail(c, "metadata.namespace", n,
			    "`%s' is not a project namespace (garden-<project>)", s->namespace);
	snprintf(s->project, sizeof(s->project), "%s", s->namespace + 7);
	if ((r = cidrs(c, "spec.networking.pods", s->pods_str, sizeof(s->pods_str), &s->pods)) ||
	    (r = cidrs(c, "spec.networking.services", s->services_str, sizeof(s->services_str),
		       &s->services)) ||
	    (r = cidrs(c, "spec.networking.nodes", s->nodes_str, sizeof(s->nodes_str), &s->nodes)))
		return r;
	if ((r = workers(c, s)))
		return r;
	if ((r = scalar(c, "spec.controlPlane.highAvailability.failureTolerance.type", false,
			s->failure_tolerance, sizeof(s->failure_tolerance), &n)))
		return r;
	if (n && strcmp(s->failure_tolerance, "node") && strcmp(s->failure_tolerance, "zone"))
		return fail(c, "spec.controlPlane.highAvailability.failureTolerance.type", n,
			    "`%s' is neither node nor zone", s->failure_tolerance);
	s->ha = n != NULL;
	return 0;
}

int spec_parse(const char *text, size_t len, const char *file,
	       struct shoot_spec *s, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { .doc = &doc, .file = file ? file : "<spec>", .err = err, .errlen = errlen };
	int r;

	memset(s, 0, sizeof(*s));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s: line %zu: %s %s", c.file,
			 parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "invalid YAML",
			 parser.context ? parser.context : "");
		r = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
		goto out_parser;
	}
	if (!yaml_document_get_root_node(&doc)) {
		snprintf(err, errlen, "%s: empty document", c.file);
		r = -EINVAL;
		goto out_doc;
	}
	r = fields(&c, s);
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	/* Messages quote the operator's values, which YAML lets span lines:
	 * keep the message one line. */
	for (char *p = err; r && errlen && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return r;
}

int spec_load(const char *path, struct shoot_spec *s, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rbe");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	for (;;) {
		if (n == cap) {
			char *nb;

			if (cap >= 1 << 20) {
				snprintf(err, errlen, "%s: larger than 1 MiB", path);
				r = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			if (!(nb = realloc(buf, cap))) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = -EIO;
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	r = spec_parse(buf, n, path, s, err, errlen);
out:
	free(buf);
	fclose(f);
	return r;
}

int spec_replicas(const struct shoot_spec *s)
{
	return s->ha ? 2 : 1;
}
