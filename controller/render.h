/* The Kubernetes backend's manifests for a shoot: the seed's objects
 * (namespace, secrets, vpn-server, Services, NetworkPolicy, kube-apiserver's
 * egress selector) and the shoot's (vpn-shoot in kube-system), each a
 * multi-document YAML text. */
#ifndef CONTROLLER_RENDER_H
#define CONTROLLER_RENDER_H

#include "controller/spec.h"

/* The seed namespace of the shoot's control plane, as Gardener names it:
 * shoot--<project>--<name>. */
void render_seed_namespace(const struct shoot_spec *s, char *buf, size_t len);
/* Renders both texts (the caller frees them). The secrets' data come from
 * the PEM files under pki_dir (pki.h); with pki_dir NULL every value is
 * the placeholder "PLACEHOLDER", which makes the output deterministic for
 * golden files. Returns 0 or -errno with err naming the file. */
int render_manifests(const struct shoot_spec *s, const char *pki_dir, char **seed,
		     char **shoot, char *err, size_t errlen);

#endif
