// What the repository's own sources say, read independently of the chart: the variables the
// program reads, the metric families docs/metrics.md documents, and the metric names a
// PromQL expression uses.
"use strict";
const fs = require("fs");
const path = require("path");
const { assert } = require("./harness.cjs");

// Every variable the program reads: the kVars table of operator/config_env.cpp (SPEC §7).
function programVariables(root) {
  const src = fs.readFileSync(path.join(root, "operator", "config_env.cpp"), "utf8");
  const table = src.slice(src.indexOf("const Var kVars[]"), src.indexOf("};", src.indexOf("const Var kVars[]")));
  const names = [...table.matchAll(/\{"([A-Z][A-Z0-9_]*)",/g)].map((m) => m[1]);
  assert(names.length >= 30, `read only ${names.length} variables from operator/config_env.cpp`);
  return names;
}
// Metric family names documented in docs/metrics.md (tables: | `name` | type | labels |).
function documentedMetrics(root) {
  const p = path.join(root, "docs", "metrics.md");
  const text = fs.readFileSync(p, "utf8");
  const names = new Set();
  for (const m of text.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram) \|/gm)) names.add(m[1]);
  assert(names.size > 10, "docs/metrics.md lists fewer than 10 metric families");
  return names;
}
// Metric names used in a PromQL expression (identifiers followed by { or ( or [, not functions).
const PROMQL_WORDS = new Set(["sum", "max", "min", "avg", "count", "rate", "increase", "irate", "by", "without",
  "or", "and", "unless", "vector", "histogram_quantile", "on", "ignoring", "group_left", "group_right",
  "clamp_min", "clamp_max", "delta", "deriv", "abs", "topk", "bottomk", "time", "le", "offset", "bool"]);
function metricsIn(expr) {
  const out = new Set();
  const stripped = expr.replace(/"[^"]*"/g, '""').replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, " ").replace(/\{[^}]*\}/g, "{}").replace(/\[[^\]]*\]/g, "[]");
  for (const m of stripped.matchAll(/\b([a-z_:][a-z0-9_:]*)\b/gi)) {
    if (PROMQL_WORDS.has(m[1]) || /^[0-9]/.test(m[1]) || m[1].startsWith("$")) continue;
    out.add(m[1].replace(/_(bucket|sum|count)$/, (s) => s));
  }
  return out;
}
function familyOf(name, documented) {
  if (documented.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return documented.has(base) ? base : null;
}

module.exports = { programVariables, documentedMetrics, metricsIn, familyOf };
