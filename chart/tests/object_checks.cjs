// Per value set: every rendered object valid, and the kinds rendered.
"use strict";
const { eq } = require("./harness.cjs");
const { validateObject } = require("./schemas.cjs");

module.exports = [
  {
    name: "every object matches its Kubernetes schema",
    run({ docs }) {
      for (const d of docs) {
        try {
          validateObject(d);
        } catch (e) {
          throw new Error(`${d.kind}/${d.metadata && d.metadata.name}: ${e.message}`);
        }
      }
    },
  },
  {
    name: "the set of kinds",
    run({ exp, docs }) {
      const base = ["Deployment", "Service", "ServiceAccount", "Role", "RoleBinding"];
      if (exp.chartSecret) base.push("Secret");
      eq(docs.map((d) => d.kind).sort(), [...base, ...exp.optional].sort(), "kinds rendered");
    },
  },
];
