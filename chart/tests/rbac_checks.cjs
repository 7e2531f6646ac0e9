// Per value set: the least RBAC (a namespaced Role bound to the ServiceAccount) and the
// metrics Service.
"use strict";
const { assert, eq } = require("./harness.cjs");
const { NS, RBAC } = require("./expectations.cjs");
const { portOf, subset } = require("./manifest.cjs");

module.exports = [
  {
    name: "RBAC: a namespaced Role with exactly the least verbs, bound to the ServiceAccount",
    run({ exp, byKind, one, pod }) {
      eq(byKind("ClusterRole").length + byKind("ClusterRoleBinding").length, 0, "cluster-scoped RBAC");
      const role = one("Role");
      const rb = one("RoleBinding");
      const sa = one("ServiceAccount");
      eq(role.metadata.namespace, exp.foremanNs, "Role namespace (FOREMAN_NAMESPACE)");
      eq(rb.metadata.namespace, exp.foremanNs, "RoleBinding namespace");
      const got = {};
      for (const rule of role.rules) {
        assert(!rule.resourceNames && !rule.nonResourceURLs, "no resourceNames / nonResourceURLs expected");
        for (const g of rule.apiGroups) for (const r of rule.resources) {
          assert(g !== "*" && r !== "*" && !rule.verbs.includes("*"), "no wildcards");
          const key = `${g}/${r}`;
          got[key] = [...new Set([...(got[key] || []), ...rule.verbs])].sort();
        }
      }
      eq(Object.keys(got).sort(), Object.keys(RBAC).sort(), "resources");
      for (const k of Object.keys(RBAC)) eq(got[k], RBAC[k], `verbs on ${k}`);
      eq(rb.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name }, "roleRef");
      eq(rb.subjects, [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: NS }], "subjects");
      eq(pod.serviceAccountName, sa.metadata.name, "serviceAccountName");
    },
  },
  {
    name: "metrics Service selects the pods and targets the metrics port",
    run({ one, dep, c }) {
      const svc = one("Service");
      assert(subset(dep.spec.template.metadata.labels, svc.spec.selector), "Service selector matches the pods");
      eq(svc.spec.ports.length, 1, "Service ports");
      eq(portOf(c, svc.spec.ports[0].targetPort), 8080, "Service targetPort");
      eq(svc.spec.ports[0].name, "metrics", "Service port name");
    },
  },
];
