// The chart as a whole, before anything is rendered: Chart.yaml's versions, values.yaml and
// every chart/tests/(bad-)values-*.yaml against values.schema.json (ajv, independently of
// Helm), and a comment on every key of values.yaml.
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const Ajv = require("ajv");
const { check, assert, eq } = require("./harness.cjs");

function checkChartVersion(root, chartDir) {
  check("Chart.yaml version and appVersion equal VERSION", () => {
    const chart = YAML.parse(fs.readFileSync(path.join(chartDir, "Chart.yaml"), "utf8"));
    const version = fs.readFileSync(path.join(root, "VERSION"), "utf8").trim();
    eq(chart.version, version, "Chart.yaml version");
    eq(String(chart.appVersion), version, "Chart.yaml appVersion");
  });
}

// Helm's merge of a values file over the defaults: maps merged key by key, the rest replaced.
function merge(a, b) {
  if (b === null || typeof b !== "object" || Array.isArray(b) || typeof a !== "object" || Array.isArray(a)) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
  return out;
}

function checkValuesSchema(chartDir) {
  const schema = JSON.parse(fs.readFileSync(path.join(chartDir, "values.schema.json"), "utf8"));
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validateValues = ajv.compile(schema);
  const defaults = YAML.parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8"));
  check("values.yaml validates against values.schema.json", () => {
    assert(validateValues(defaults), ajv.errorsText(validateValues.errors));
  });
  for (const f of fs.readdirSync(path.join(chartDir, "tests")).sort()) {
    if (!/^(bad-)?values-.*\.yaml$/.test(f)) continue;
    const text = fs.readFileSync(path.join(chartDir, "tests", f), "utf8");
    const merged = merge(defaults, YAML.parse(text));
    // A file marked "# rejected-by: template" is schema-valid on purpose: the templates reject it.
    const schemaBad = f.startsWith("bad-") && !/^# rejected-by: template/m.test(text);
    check(`${f} is ${schemaBad ? "rejected" : "accepted"} by values.schema.json (ajv)`, () => {
      eq(validateValues(merged), !schemaBad, `schema verdict (${ajv.errorsText(validateValues.errors)})`);
    });
  }
}

// Sections whose keys are Kubernetes fields or free maps, not walked into.
const UNWALKED = ["resources", "podSecurityContext", "securityContext", "prFixLaneAgents", "labels"];

// The keys of values.yaml (dotted) that have no comment.
function uncommentedKeys(doc) {
  const missing = [];
  // The comment above the first key of a map is stored on the map (or the document).
  const commented = (map, i, outer) => {
    const pair = map.items[i];
    if (pair.key.commentBefore || (i === 0 && (map.commentBefore || outer))) return true;
    // A section whose every key is commented (recursively) counts as commented (e.g. image:).
    return YAML.isMap(pair.value) && pair.value.items.length > 0 &&
      pair.value.items.every((_, j) => commented(pair.value, j, false));
  };
  const walk = (node, prefix, outer) => {
    if (!YAML.isMap(node)) return;
    node.items.forEach((pair, i) => {
      const key = `${prefix}${pair.key.value}`;
      if (!commented(node, i, outer)) missing.push(key);
      if (YAML.isMap(pair.value) && !UNWALKED.includes(pair.key.value)) walk(pair.value, `${key}.`, false);
    });
  };
  walk(doc.contents, "", doc.commentBefore);
  return missing;
}

function checkValuesComments(chartDir) {
  check("every key of values.yaml has a comment", () => {
    const doc = YAML.parseDocument(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8"));
    eq(uncommentedKeys(doc), [], "keys without a comment");
  });
}

function checkValues(root, chartDir) {
  checkChartVersion(root, chartDir);
  checkValuesSchema(chartDir);
  checkValuesComments(chartDir);
}

module.exports = { checkValues };
