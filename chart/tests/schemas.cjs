// Schema validation of rendered objects: each against its Kubernetes OpenAPI schema
// (kubernetes-models) or the prometheus-operator CRDs, and all of them type-checked (tsc)
// against the kubernetes-models interfaces, which name unknown fields.
"use strict";
const fs = require("fs");
const path = require("path");
const { assert } = require("./harness.cjs");

function modelFor(apiVersion, kind) {
  const candidates = [];
  if (apiVersion.startsWith("monitoring.coreos.com/"))
    candidates.push(`@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`);
  else candidates.push(`kubernetes-models/${apiVersion}/${kind}`);
  for (const c of candidates) {
    try {
      const mod = require(c);
      if (mod[kind]) return mod[kind];
    } catch (e) {
      if (e.code !== "MODULE_NOT_FOUND") throw e;
    }
  }
  return null;
}

function validateObject(obj) {
  const Model = modelFor(obj.apiVersion, obj.kind);
  assert(Model, `no schema for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();  // throws with the JSON-pointer of the first violations
  const name = obj.metadata && obj.metadata.name;
  assert(typeof name === "string" && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) && name.length <= 253,
    `metadata.name ${JSON.stringify(name)} is not a DNS-1123 subdomain`);
  const labels = (obj.metadata && obj.metadata.labels) || {};
  for (const [k, v] of Object.entries(labels)) {
    assert(typeof v === "string" && v.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v),
      `label ${k}=${JSON.stringify(v)} is not a valid label value`);
  }
}

// Unknown fields: the validators above accept them (the API server would drop them
// silently), so every object is also type-checked as an object literal against the
// kubernetes-models TypeScript interfaces, whose excess-property check names any field
// the API does not have (a misspelt "readinesProbe", a field at the wrong level).
// Returns a map set → [messages].
// The type-check writes its project into RENDERED_DIR/ts.
function unknownFields(docsBySet, renderedDir) {
  const { execFileSync } = require("child_process");
  const modules = path.dirname(path.dirname(require.resolve("kubernetes-models/package.json")));
  const dir = path.join(renderedDir, "ts");
  fs.mkdirSync(dir, { recursive: true });
  const where = [];  // line number (1-based) → [set, object]
  let src = "";
  for (const [set, docs] of Object.entries(docsBySet)) {
    docs.forEach((d, i) => {
      const mod = d.apiVersion.startsWith("monitoring.coreos.com/")
        ? `@kubernetes-models/prometheus-operator/${d.apiVersion}/${d.kind}`
        : `kubernetes-models/${d.apiVersion}/${d.kind}`;
      const id = `${set.replace(/[^A-Za-z0-9]/g, "_")}_${i}`;
      src += `import type { I${d.kind} as T_${id} } from "${mod}";\n`;
      where.push(null);
      src += `export const o_${id}: T_${id} = ${JSON.stringify(d)};\n`;
      where.push([set, `${d.kind}/${d.metadata.name}`]);
    });
  }
  fs.writeFileSync(path.join(dir, "objects.ts"), src);
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: "commonjs", moduleResolution: "node", target: "es2020",
      skipLibCheck: true, types: [], baseUrl: ".", paths: { "*": [`${modules}/*`] } },
    files: ["objects.ts"],
  }));
  const out = {};
  for (const set of Object.keys(docsBySet)) out[set] = [];
  let text = "";
  try {
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", dir], { encoding: "utf8" });
  } catch (e) {
    text = `${e.stdout || ""}${e.stderr || ""}`;
    if (!text) throw e;
  }
  for (const line of text.split("\n").filter(Boolean)) {
    const m = /objects\.ts\((\d+),\d+\): (.*)$/.exec(line);
    if (!m || !where[Number(m[1]) - 1]) throw new Error(`tsc: ${line}`);
    const [set, obj] = where[Number(m[1]) - 1];
    out[set].push(`${obj}: ${m[2]}`);
  }
  return out;
}

module.exports = { validateObject, unknownFields };
