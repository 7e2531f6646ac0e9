// Reading rendered objects: a container's env by name, ports by name or number, the port
// of a host:port address, label selection.
"use strict";
const { assert } = require("./harness.cjs");

function envMap(container) {
  const m = new Map();
  for (const e of container.env || []) {
    assert(!m.has(e.name), `env ${e.name} appears twice`);
    m.set(e.name, e);
  }
  return m;
}
function portOf(container, ref) {
  if (typeof ref === "number") return ref;
  const p = (container.ports || []).find((x) => x.name === ref);
  assert(p, `no container port named ${ref}`);
  return p.containerPort;
}
function addrPort(v) {
  const m = /^(.*):(\d+)$/.exec(v || "");
  assert(m, `not host:port: ${v}`);
  return Number(m[2]);
}
function subset(labels, selector) {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

module.exports = { envMap, portOf, addrPort, subset };
