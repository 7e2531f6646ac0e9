// Checks the chart's rendered manifests (chart/tests/check.sh renders them).
//   node check.cjs REPO_ROOT RENDERED_DIR SET...
// Each SET is "default" or the name of a chart/tests/values-*.yaml; RENDERED_DIR/SET.yaml is
// `helm template fdb chart --namespace bots [-f SET.yaml]`. Every object is validated
// against the Kubernetes OpenAPI schemas (kubernetes-models) and the prometheus-operator
// CRDs; then what matters is asserted: RBAC verbs, probes and ports, security context,
// every configuration variable of the program in the Deployment, POD_NAME, the token's
// Secret, the optional objects, alert and dashboard metric names against docs/metrics.md.
// Runs on Node 18 (Debian 12). Prints "N passed, N failed".
// The parts: harness.cjs (checks, assertions), expectations.cjs (what each value set
// promises), sources.cjs (the program's variables, the documented metrics), schemas.cjs
// (Kubernetes schemas, tsc), manifest.cjs (reading objects), values_checks.cjs (the chart
// as a whole), set_checks.cjs with its tables object_, deployment_, rbac_ and
// optional_checks.cjs (each rendered set).
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const [root, renderedDir, ...sets] = process.argv.slice(2);
if (!root || !renderedDir || sets.length === 0) {
  console.error("usage: node check.cjs REPO_ROOT RENDERED_DIR SET...");
  process.exit(2);
}
const chartDir = path.join(root, "chart");

const { check, eq, counts } = require("./harness.cjs");
const { programVariables, documentedMetrics } = require("./sources.cjs");
const { unknownFields } = require("./schemas.cjs");
const { checkValues } = require("./values_checks.cjs");
const { checkSet } = require("./set_checks.cjs");

// The chart as a whole.
checkValues(root, chartDir);

// Each rendered set: its objects read, all type-checked at once, then its checks.
const metrics = documentedMetrics(root);
const vars = programVariables(root);
const docsBySet = {};
for (const set of sets) {
  const text = fs.readFileSync(path.join(renderedDir, `${set}.yaml`), "utf8");
  docsBySet[set] = YAML.parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(`${set}: YAML error ${d.errors[0].message}`);
    return d.toJS();
  }).filter((d) => d !== null);
}
let unknown = null;
check("type-check the rendered objects (tsc)", () => {
  unknown = unknownFields(docsBySet, renderedDir);
});
for (const set of sets) {
  checkSet(set, docsBySet[set], { root, chartDir, metrics, vars });
  if (unknown) check(`${set}: no unknown or mistyped fields (kubernetes-models types)`, () => eq(unknown[set], [], "tsc errors"));
}

const { passed, failed } = counts();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
