#!/usr/bin/env bash
# Validates the manifests shootctl renders against the upstream Kubernetes
# schemas (offline; see tests/schema/README.md).
#
#   tests/schema/run.sh
#
# Renders examples/shoot.yaml twice, as an HA shoot (failureTolerance zone:
# StatefulSet, two agents) and as a single-replica one (highAvailability
# removed), with --golden as tools/regen-golden.sh does, validates every
# document, then checks that the validator still rejects a manifest with an
# unknown field, a wrongly typed value and a duplicate key. Ends with
# "N passed, N failed"; exits 1 on any failure.
#
# Needs the Kubernetes schema set (found as tests/schema/validate.py says:
# $TENDRIL_K8S_SCHEMAS, tests/schema/kubernetes/… or ../shared/schemas/…),
# shootctl ($SHOOTCTL, or build/bin/shootctl, made here if missing or stale),
# and python3-yaml and python3-jsonschema (tools/install-deps.sh).
set -euo pipefail

cd "$(dirname "$0")/../.."

# The Debian packages are importable from Debian's interpreter; a python3
# earlier in PATH (a virtualenv, pyenv) may not see them.
py=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import yaml, jsonschema' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "schema: python3 with yaml and jsonschema not found: run tools/install-deps.sh as root" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

if ! dir=$("$py" tests/schema/validate.py --which-schemas); then
	echo "FAIL schemas: the Kubernetes schema set is missing (tests/schema/README.md says where it goes)"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "schemas: $dir"

shootctl=${SHOOTCTL:-}
if [ -z "$shootctl" ]; then
	make -s build/bin/shootctl
	shootctl=build/bin/shootctl
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The two specs, from the example: only highAvailability differs.
"$py" - examples/shoot.yaml "$tmp" <<'EOF'
import copy, sys, yaml
with open(sys.argv[1]) as f:
    spec = yaml.safe_load(f)
ha = copy.deepcopy(spec)
cp = ha["spec"].setdefault("controlPlane", {})
cp.setdefault("highAvailability", {}).setdefault("failureTolerance", {})["type"] = "zone"
single = copy.deepcopy(spec)
single["spec"].get("controlPlane", {}).pop("highAvailability", None)
for name, s in (("ha", ha), ("single", single)):
    with open("%s/%s.yaml" % (sys.argv[2], name), "w") as f:
        yaml.safe_dump(s, f, sort_keys=False)
EOF

files=()
for v in ha single; do
	"$shootctl" render "$tmp/$v.yaml" --backend kubernetes --golden --out "$tmp/$v" >/dev/null
	for m in seed shoot; do
		cp "$tmp/$v/$m.yaml" "$tmp/$m-$v.yaml"
		files+=("$tmp/$m-$v.yaml")
	done
done

out=$("$py" tests/schema/validate.py --no-summary "${files[@]}") && rc=0 || rc=$?
printf '%s\n' "$out" | sed "s|$tmp/||g"
passed=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
failed=$(printf '%s\n' "$out" | grep -c '^FAIL ' || true)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "FAIL validate.py exited $rc without naming a failure"
	failed=$((failed + 1))
fi
# Both variants must have rendered something: an HA seed has a StatefulSet,
# a single one a Deployment.
for want in "StatefulSet .*seed-ha.yaml" "Deployment .*seed-single.yaml"; do
	if ! printf '%s\n' "$out" | grep -q "^ok $want\|^FAIL $want"; then
		echo "FAIL render: no ${want%% *} in ${want##* }"
		failed=$((failed + 1))
	fi
done

# The validator must still catch mistakes: an unknown field, a string where
# an integer belongs and a key given twice, in a copy of the shoot manifest.
bad=$tmp/bad.yaml
"$py" - "$tmp/shoot-single.yaml" "$bad" <<'EOF'
import sys, yaml
with open(sys.argv[1]) as f:
    dep = next(d for d in yaml.safe_load_all(f) if d and d.get("kind") == "Deployment")
dep["spec"]["revisionHistoryLimt"] = 2
dep["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": "15001"}]
text = yaml.safe_dump(dep, sort_keys=False, width=1000)
# safe_dump writes "spec:" alone on its line, its keys indented by two.
text = text.replace("\nspec:\n", "\nspec:\n  replicas: 1\n", 1)
with open(sys.argv[2], "w") as f:
    f.write(text)
EOF
bout=$("$py" tests/schema/validate.py "$bad" 2>&1) && brc=0 || brc=$?
missing=
for want in "spec: Additional properties are not allowed ('revisionHistoryLimt' was unexpected)" \
	    "spec.template.spec.containers\[0\].ports\[0\].containerPort: '15001' is not of type 'integer'" \
	    "duplicate key 'replicas'"; do
	printf '%s\n' "$bout" | grep -q -- "$want" || missing+=" [$want]"
done
if [ "$brc" -eq 1 ] && [ -z "$missing" ]; then
	echo "ok self-check: a corrupted Deployment is rejected (unknown field, type, duplicate key)"
	passed=$((passed + 1))
else
	echo "FAIL self-check: validate.py exited $brc on a corrupted Deployment; not reported:$missing"
	printf '%s\n' "$bout" | sed 's/^/     /'
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
