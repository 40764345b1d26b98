#!/usr/bin/env python3
"""Validates Kubernetes manifests offline against upstream JSON schemas.

    tests/schema/validate.py [--schemas DIR] FILE.yaml...
    tests/schema/validate.py [--schemas DIR] --which-schemas

Each YAML document of each file is looked up by apiVersion and kind among
strict Kubernetes schemas (an unknown field is an error) and validated with
python3-jsonschema. A JSON schema set is used if one is found in --schemas
DIR, else $TENDRIL_K8S_SCHEMAS, else the first of these that exists:

    tests/schema/kubernetes/v1.31.0-standalone-strict/
    ../shared/schemas/kubernetes/v1.31.0-standalone-strict/     (beside the clone)

and otherwise the schemas are built from the API models of python3-kubernetes
(generated from the upstream OpenAPI document; see client_schemas()).

(see tests/schema/README.md for where they come from). A document whose
apiVersion and kind have no schema is an error, and so is a mapping key given
twice: YAML parsers keep one of the two silently, while kubectl
--validate=strict and the API server's strict field validation reject the
object ("duplicate field").

Configuration files carried in a ConfigMap (a data key ending in .yaml, .yml
or .json whose content has apiVersion and kind) are validated too, against
tests/schema/local/ (for example kube-apiserver's EgressSelectorConfiguration,
which is not an API object); an unknown one is an error as well.

One line per document: "ok KIND NAMESPACE/NAME (FILE)" or "FAIL ..." with
the JSON path of each error; then "N passed, N failed" (unless
--no-summary). Exit 1 on any failure, when no document was found or when the
schemas are missing; 2 on a usage error.
"""

import argparse
import json
import os
import sys

try:
    import yaml
    import jsonschema
except ImportError as e:
    sys.exit("validate.py: %s: install the Debian packages python3-yaml and "
             "python3-jsonschema (tools/install-deps.sh does)" % e)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
K8S_VERSION = "v1.31.0-standalone-strict"
SCHEMA_DIRS = [
    os.path.join(HERE, "kubernetes", K8S_VERSION),
    os.path.join(os.path.dirname(REPO), "shared", "schemas", "kubernetes", K8S_VERSION),
]
MAX_ERRORS = 10         # per document: enough to see a pattern


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that records keys given twice in one mapping."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    self.duplicates.append("line %d: duplicate key %r" %
                                           (key_node.start_mark.line + 1, key))
                seen.add(key)
            except TypeError:
                pass    # an unhashable key: SafeLoader reports it below
        return super().construct_mapping(node, deep)


def load_documents(text):
    """Yields (document, [duplicate-key messages]) for each document."""
    loader = StrictLoader(text)
    try:
        while loader.check_data():
            doc = loader.get_data()
            dups, loader.duplicates = loader.duplicates, []
            yield doc, dups
    finally:
        loader.dispose()


def api_version(gvk):
    return gvk["version"] if not gvk["group"] else gvk["group"] + "/" + gvk["version"]


def load_schemas(directory):
    """Maps (apiVersion, kind) to a validator, from x-kubernetes-group-version-kind."""
    out = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            schema = json.load(f)
        # The schemas are generated from OpenAPI v2 (a draft-4 dialect);
        # their "$schema" names no draft.
        jsonschema.Draft4Validator.check_schema(schema)
        validator = jsonschema.Draft4Validator(schema)
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            out[(api_version(gvk), gvk["kind"])] = validator
    return out


# The kinds shootctl renders, and the model of each in the Kubernetes API
# client (python3-kubernetes): its models are generated from the upstream
# OpenAPI document of the Kubernetes release the client was made for.
CLIENT_KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "Secret"): "V1Secret",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "Service"): "V1Service",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
    ("scheduling.k8s.io/v1", "PriorityClass"): "V1PriorityClass",
}
PRIMITIVES = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string"},
    "date": {"type": "string"},
    "object": {},               # IntOrString, Quantity, RawExtension
}


def client_schemas():
    """Strict JSON schemas (an unknown field is an error) built from the API
    client's models: each model's fields (attribute_map, openapi_types), the
    required ones being those whose setter refuses None."""
    import kubernetes
    from kubernetes import client

    conf = client.Configuration()
    conf.client_side_validation = True
    defs = {}

    def type_schema(t):
        if t in PRIMITIVES:
            return dict(PRIMITIVES[t])
        if t.startswith("list[") and t.endswith("]"):
            return {"type": "array", "items": type_schema(t[5:-1])}
        if t.startswith("dict(") and t.endswith(")"):
            return {"type": "object",
                    "additionalProperties": type_schema(t[5:-1].split(",", 1)[1].strip())}
        model(t)
        return {"$ref": "#/definitions/" + t}

    def model(name):
        if name in defs:
            return
        cls = getattr(client, name)
        defs[name] = {}         # placeholder against recursion
        props, required = {}, []
        probe = cls.__new__(cls)
        probe.local_vars_configuration = conf
        for attr, t in cls.openapi_types.items():
            key = cls.attribute_map[attr]
            props[key] = type_schema(t)
            try:
                setattr(probe, attr, None)
            except ValueError:
                required.append(key)
        defs[name] = {"type": "object", "additionalProperties": False, "properties": props}
        if required:
            defs[name]["required"] = required

    out = {}
    for key, name in CLIENT_KINDS.items():
        model(name)
        schema = {"definitions": defs, "$ref": "#/definitions/" + name}
        out[key] = jsonschema.Draft7Validator(schema)
    return out, "the models of python3-kubernetes %s" % kubernetes.__version__


def json_path(path):
    s = ""
    for p in path:
        s += "[%d]" % p if isinstance(p, int) else ("." if s else "") + str(p)
    return s or "(document)"


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def result(self, what, where, errors):
        if errors:
            self.failed += 1
            print("FAIL %s (%s)" % (what, where))
            for e in errors[:MAX_ERRORS]:
                print("     %s" % e)
            if len(errors) > MAX_ERRORS:
                print("     ... and %d more" % (len(errors) - MAX_ERRORS))
        else:
            self.passed += 1
            print("ok %s (%s)" % (what, where))


def schema_errors(validator, doc):
    errs = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return ["%s: %s" % (json_path(e.absolute_path), e.message) for e in errs]


def check_embedded(cm, label, where, embedded, report):
    """Validates the configuration files a ConfigMap carries."""
    data = cm.get("data")
    if not isinstance(data, dict):
        return
    for key in sorted(data):
        value = data[key]
        if not isinstance(value, str) or not key.endswith((".yaml", ".yml", ".json")):
            continue
        try:
            docs = list(load_documents(value))
        except yaml.YAMLError as e:
            report.result("%s data[%s]" % (label, key), where, ["not YAML: %s" % e])
            continue
        for doc, dups in docs:
            if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
                continue    # data, not a typed configuration
            what = "%s %s/%s" % (doc.get("kind"), label.split(" ", 1)[1], key)
            validator = embedded.get((doc.get("apiVersion"), doc.get("kind")))
            if validator is None:
                report.result(what, where, ["no schema for apiVersion %r kind %r in %s" %
                                            (doc.get("apiVersion"), doc.get("kind"),
                                             os.path.join(HERE, "local"))])
                continue
            report.result(what, where, dups + schema_errors(validator, doc))


def check_file(path, schemas, embedded, report):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        docs = list(load_documents(text))
    except (OSError, yaml.YAMLError) as e:
        report.result("file", path, [str(e)])
        return
    for i, (doc, dups) in enumerate(docs):
        if doc is None:
            continue    # an empty document, as after a trailing "---"
        where = "%s, document %d" % (path, i + 1)
        if not isinstance(doc, dict):
            report.result("document", where, ["not a mapping"])
            continue
        kind = doc.get("kind")
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        name = meta.get("name")
        label = "%s %s" % (kind, name if "namespace" not in meta
                           else "%s/%s" % (meta["namespace"], name))
        errors = list(dups)
        for field in ("apiVersion", "kind"):
            if not isinstance(doc.get(field), str):
                errors.append("%s: missing" % field)
        if not name:
            errors.append("metadata.name: missing")
        validator = schemas.get((doc.get("apiVersion"), kind))
        if validator is None:
            errors.append("no schema for apiVersion %r kind %r in %s (unknown kind, or not "
                          "in the schema set: see tests/schema/README.md)" %
                          (doc.get("apiVersion"), kind, "the schema set"))
        else:
            errors += schema_errors(validator, doc)
        report.result(label, where, errors)
        if kind == "ConfigMap" and doc.get("apiVersion") == "v1":
            check_embedded(doc, label, where, embedded, report)


def main():
    ap = argparse.ArgumentParser(description="Validate Kubernetes manifests against "
                                 "vendored JSON schemas, offline.")
    ap.add_argument("--no-summary", action="store_true",
                    help='leave out the closing "N passed, N failed" line')
    ap.add_argument("--schemas", metavar="DIR",
                    help="the directory of Kubernetes schemas (*.json)")
    ap.add_argument("--which-schemas", action="store_true",
                    help="print the schema directory that would be used, and exit")
    ap.add_argument("files", nargs="*", metavar="FILE.yaml")
    args = ap.parse_args()
    if not args.files and not args.which_schemas:
        ap.error("no FILE.yaml given")

    schema_dir = args.schemas or os.environ.get("TENDRIL_K8S_SCHEMAS")
    if not schema_dir:
        schema_dir = next((d for d in SCHEMA_DIRS if os.path.isdir(d)), None)
    if schema_dir and not os.path.isdir(schema_dir):
        print("validate.py: no Kubernetes schemas in %s; see tests/schema/README.md" %
              schema_dir, file=sys.stderr)
        return 1
    if not schema_dir:
        # no JSON schema set: the schemas come from the API client's models
        try:
            schemas, source = client_schemas()
        except ImportError as e:
            print("validate.py: no Kubernetes schemas: neither %s nor the Debian package "
                  "python3-kubernetes (%s); see tests/schema/README.md" %
                  (" nor ".join(SCHEMA_DIRS), e), file=sys.stderr)
            return 1
    else:
        schemas, source = load_schemas(schema_dir), schema_dir
    if args.which_schemas:
        print(source)
        return 0
    if not schemas:
        print("validate.py: no schema with x-kubernetes-group-version-kind in %s" % schema_dir,
              file=sys.stderr)
        return 1
    embedded = load_schemas(os.path.join(HERE, "local"))
    report = Report()
    for path in args.files:
        check_file(path, schemas, embedded, report)
    if not args.no_summary:
        print("%d passed, %d failed" % (report.passed, report.failed))
    return 1 if report.failed or not report.passed else 0


if __name__ == "__main__":
    sys.exit(main())
