// The checks of one rendered value set, as tables run in order (object_checks, then, with
// the Deployment read, deployment_checks, rbac_checks and optional_checks). Each entry is
// { name, when?(expectations), run(context) }; its check is named "SET: NAME".
"use strict";
const { check, eq, assert } = require("./harness.cjs");
const { expectations } = require("./expectations.cjs");
const { envMap } = require("./manifest.cjs");

const TABLES_BEFORE_DEPLOYMENT = [require("./object_checks.cjs")];
const TABLES = [require("./deployment_checks.cjs"), require("./rbac_checks.cjs"), require("./optional_checks.cjs")];

function runTable(table, ctx) {
  for (const entry of table) {
    if (entry.when && !entry.when(ctx.exp)) continue;
    check(`${ctx.set}: ${entry.name}`, () => entry.run(ctx));
  }
}

// `sources`: { root, chartDir, metrics (documented families), vars (the program's variables) }.
// A set without expectations, or without exactly one Deployment, stops the run (thrown).
function checkSet(set, docs, sources) {
  const exp = expectations[set];
  assert(exp, `no expectations written for value set ${set}`);
  const byKind = (k) => docs.filter((d) => d.kind === k);
  const one = (k) => {
    const l = byKind(k);
    eq(l.length, 1, `number of ${k} objects`);
    return l[0];
  };
  const ctx = { set, exp, docs, byKind, one, ...sources };
  for (const table of TABLES_BEFORE_DEPLOYMENT) runTable(table, ctx);
  ctx.dep = one("Deployment");
  ctx.pod = ctx.dep.spec.template.spec;
  ctx.c = ctx.pod.containers[0];
  ctx.env = envMap(ctx.c);
  for (const table of TABLES) runTable(table, ctx);
}

module.exports = { checkSet };
