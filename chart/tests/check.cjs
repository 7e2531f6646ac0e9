// Checks the chart's rendered manifests (chart/tests/check.sh renders them).
//   node check.cjs REPO_ROOT RENDERED_DIR SET...
// Each SET is "default" or the name of a chart/tests/values-*.yaml; RENDERED_DIR/SET.yaml is
// `helm template fdb chart --namespace bots [-f SET.yaml]`. Every object is validated
// against the Kubernetes OpenAPI schemas (kubernetes-models) and the prometheus-operator
// CRDs; then what matters is asserted: RBAC verbs, probes and ports, security context,
// every configuration variable of the program in the Deployment, POD_NAME, the token's
// Secret, the optional objects, alert and dashboard metric names against docs/metrics.md.
// Runs on Node 18 (Debian 12). Prints "N passed, N failed".
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const Ajv = require("ajv");

const [root, renderedDir, ...sets] = process.argv.slice(2);
if (!root || !renderedDir || sets.length === 0) {
  console.error("usage: node check.cjs REPO_ROOT RENDERED_DIR SET...");
  process.exit(2);
}
const chartDir = path.join(root, "chart");
const RELEASE = "fdb";
const NS = "bots";
const FULL = "fdb-foreman-dispatch-bridge";

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
// JSON with object keys sorted, so that key order never matters.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}
function eq(actual, expected, what) {
  const a = canon(actual);
  const b = canon(expected);
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
}

// --- what the chart promises, per value set ------------------------------------------
const expectations = {
  default: {
    replicas: 2, leaderElect: "true", foremanNs: NS,
    token: { name: `${FULL}-dispatch`, key: "DISPATCH_AGENT_TOKEN" }, chartSecret: null,
    github: { value: "" },
    optional: [],
  },
  "values-existing-secret": {
    replicas: 2, leaderElect: "true", foremanNs: "llm",
    token: { name: "dispatch-credentials", key: "token" }, chartSecret: null,
    github: { secret: { name: "github-credentials", key: "pat" } },
    env: {
      DISPATCH_URL: "https://dispatch.example.internal", DISPATCH_LANES: "local,frontier",
      ESCALATION_LANE: "frontier", LOG_FORMAT: "text", LOG_LEVEL: "DEBUG", VERDICT_SELF_GO: "docs,config",
    },
    json: {
      LANE_CODER_AGENTS: { local: ["coder-a", "coder-b"], "*": "coder" },
      CODER_AGENT_SLOTS: { "coder-a": 2 }, GATEPROFILE_MAP: { "*": { language: "go" } },
      FIX_FIRST_AGENTS: ["coder-a"],
    },
    optional: [],
  },
  "values-monitoring": {
    replicas: 3, leaderElect: "true", foremanNs: NS,
    token: { name: `${FULL}-dispatch`, key: "DISPATCH_AGENT_TOKEN" },
    chartSecret: { DISPATCH_AGENT_TOKEN: "test-token-not-secret", GITHUB_TOKEN: "gh-test-token" },
    github: { secret: { name: `${FULL}-dispatch`, key: "GITHUB_TOKEN" } },
    optional: ["ServiceMonitor", "PrometheusRule", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"],
  },
  "values-single": {
    replicas: 1, leaderElect: "false", foremanNs: NS,
    token: { name: `${FULL}-dispatch`, key: "DISPATCH_AGENT_TOKEN" },
    chartSecret: { DISPATCH_AGENT_TOKEN: "test-token-not-secret" },
    github: { value: "" },
    optional: ["PodDisruptionBudget"],
    // A private CA for dispatch, mounted from a ConfigMap (issue 20).
    extraVolume: { name: "dispatch-ca", configMap: { name: "dispatch-ca" } },
    extraMount: { name: "dispatch-ca", mountPath: "/etc/dispatch-ca", readOnly: true },
  },
};

// The least RBAC that works (group/resource → verbs), all in the Foreman namespace.
const RBAC = {
  "foreman.llmkube.dev/workloads": ["create", "delete", "get", "list", "patch", "watch"],
  "foreman.llmkube.dev/agentictasks": ["list", "watch"],
  "coordination.k8s.io/leases": ["create", "get", "update"],
  "events.k8s.io/events": ["create"],
  "/configmaps": ["create", "delete", "get", "list", "watch"],
};

// Every variable the program reads: the kVars table of operator/config_env.cpp (SPEC §7).
function programVariables() {
  const src = fs.readFileSync(path.join(root, "operator", "config_env.cpp"), "utf8");
  const table = src.slice(src.indexOf("const Var kVars[]"), src.indexOf("};", src.indexOf("const Var kVars[]")));
  const names = [...table.matchAll(/\{"([A-Z][A-Z0-9_]*)",/g)].map((m) => m[1]);
  assert(names.length >= 30, `read only ${names.length} variables from operator/config_env.cpp`);
  return names;
}
// The §7 names as the SPEC lists them (PRUNE_* and PR_FIX_* expanded), independent of the code.
const SPEC7 = [
  "DISPATCH_URL", "DISPATCH_AGENT_TOKEN", "DISPATCH_AGENT_NAME", "DISPATCH_LANES", "FOREMAN_NAMESPACE",
  "RETRY_MAX_ATTEMPTS", "GATEPROFILE_MAP", "LANE_CODER_AGENTS", "BASE_CODER_AGENTS", "REPO_CODER_AGENTS",
  "REVISION_CODER_AGENTS", "CODER_AGENT_SLOTS", "FIX_FIRST_AGENTS", "ESCALATION_LANE", "VERIFY_ENABLED",
  "VERDICT_SELF_GO", "MAX_IN_PROGRESS", "DELETE_WORKLOAD_TIMEOUT_S", "PARK_ON_GIVE_UP",
  "PRUNE_COMPLETED_AFTER_HOURS", "PRUNE_FAILED_AFTER_HOURS", "PR_FIX_ENABLED", "PR_FIX_MAX_ATTEMPTS",
  "GITHUB_TOKEN", "LOG_FORMAT", "LOG_LEVEL", "CLAIM_INTERVAL_S", "METRICS_ADDR", "HEALTH_ADDR", "LEADER_ELECT",
  "LEASE_NAME", "LEASE_DURATION_S", "RENEW_DEADLINE_S", "RETRY_PERIOD_S", "POD_NAME", "KUBECONFIG",
];

// Metric family names documented in docs/metrics.md (tables: | `name` | type | labels |).
function documentedMetrics() {
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

// --- schema validation -----------------------------------------------------------------
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
function unknownFields(docsBySet) {
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

// --- the per-set assertions ---------------------------------------------------------------
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

function checkSet(set, docs, metrics, vars) {
  const exp = expectations[set];
  assert(exp, `no expectations written for value set ${set}`);
  const byKind = (k) => docs.filter((d) => d.kind === k);
  const one = (k) => {
    const l = byKind(k);
    eq(l.length, 1, `number of ${k} objects`);
    return l[0];
  };
  const t = (what, fn) => check(`${set}: ${what}`, fn);

  t("every object matches its Kubernetes schema", () => {
    for (const d of docs) {
      try {
        validateObject(d);
      } catch (e) {
        throw new Error(`${d.kind}/${d.metadata && d.metadata.name}: ${e.message}`);
      }
    }
  });
  t("the set of kinds", () => {
    const base = ["Deployment", "Service", "ServiceAccount", "Role", "RoleBinding"];
    if (exp.chartSecret) base.push("Secret");
    eq(docs.map((d) => d.kind).sort(), [...base, ...exp.optional].sort(), "kinds rendered");
  });

  const dep = one("Deployment");
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  const env = envMap(c);

  t("replicas and leader election", () => {
    eq(dep.spec.replicas, exp.replicas, "spec.replicas");
    eq(env.get("LEADER_ELECT").value, exp.leaderElect, "LEADER_ELECT");
    if (exp.leaderElect === "false") eq(dep.spec.replicas, 1, "replicas without leader election");
  });
  t("every configuration variable of the program and of SPEC §7 is set", () => {
    const missing = [...new Set([...vars, ...SPEC7])].filter((v) => !env.has(v));
    eq(missing, [], "variables missing from the Deployment");
    for (const [name, e] of env) {
      assert(("value" in e) !== ("valueFrom" in e), `${name} needs exactly one of value and valueFrom`);
      if ("value" in e) assert(typeof e.value === "string", `${name} value is not a string`);
    }
  });
  t("defaults of SPEC §7 when not overridden", () => {
    const defaults = {
      DISPATCH_URL: "http://dispatch.llm:3000", DISPATCH_AGENT_NAME: "foreman-coder", DISPATCH_LANES: "local,cloud,frontier",
      RETRY_MAX_ATTEMPTS: "3", VERIFY_ENABLED: "true", MAX_IN_PROGRESS: "0", DELETE_WORKLOAD_TIMEOUT_S: "60",
      PARK_ON_GIVE_UP: "true", PRUNE_COMPLETED_AFTER_HOURS: "6", PRUNE_FAILED_AFTER_HOURS: "48", LOG_FORMAT: "json",
      LOG_LEVEL: "INFO", CLAIM_INTERVAL_S: "30", METRICS_ADDR: "0.0.0.0:8080", HEALTH_ADDR: "0.0.0.0:8081",
      LEASE_NAME: "foreman-dispatch-bridge", LEASE_DURATION_S: "15", RENEW_DEADLINE_S: "10", RETRY_PERIOD_S: "2",
      PR_FIX_ENABLED: "false", PR_FIX_MAX_ATTEMPTS: "3", KUBECONFIG: "", ESCALATION_LANE: "", GATEPROFILE_MAP: "",
    };
    const want = { ...defaults, ...(exp.env || {}), FOREMAN_NAMESPACE: exp.foremanNs };
    for (const [k, v] of Object.entries(want)) if (!(exp.json && k in exp.json)) eq(env.get(k).value, v, k);
    for (const [k, v] of Object.entries(exp.json || {})) eq(JSON.parse(env.get(k).value), v, `${k} (JSON)`);
    eq(JSON.parse(env.get("PR_FIX_LANE_AGENTS").value), { NORMAL: "coder", ESCALATED: "coder-frontier" }, "PR_FIX_LANE_AGENTS");
  });
  t("POD_NAME from the downward API", () => {
    eq(env.get("POD_NAME").valueFrom, { fieldRef: { fieldPath: "metadata.name" } }, "POD_NAME.valueFrom");
  });
  t("the dispatch token from a Secret, never a literal", () => {
    eq(env.get("DISPATCH_AGENT_TOKEN").valueFrom, { secretKeyRef: exp.token }, "DISPATCH_AGENT_TOKEN.valueFrom");
    const gh = env.get("GITHUB_TOKEN");
    if (exp.github.secret) eq(gh.valueFrom, { secretKeyRef: exp.github.secret }, "GITHUB_TOKEN.valueFrom");
    else eq(gh.value, exp.github.value, "GITHUB_TOKEN");
    const secrets = byKind("Secret");
    if (exp.chartSecret) {
      eq(secrets.length, 1, "chart-made Secrets");
      const s = secrets[0];
      eq(s.metadata.name, exp.token.name, "Secret name");
      const decoded = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
      eq(decoded, exp.chartSecret, "Secret data");
    } else {
      eq(secrets.length, 0, "chart-made Secrets");
    }
    const text = JSON.stringify(dep);
    for (const literal of ["test-token-not-secret", "gh-test-token"])
      assert(!text.includes(literal), `a token appears in the Deployment`);
  });
  t("probes on HEALTH_ADDR, metrics on METRICS_ADDR", () => {
    eq(c.livenessProbe.httpGet.path, "/healthz", "liveness path");
    eq(c.readinessProbe.httpGet.path, "/readyz", "readiness path");
    const health = addrPort(env.get("HEALTH_ADDR").value);
    const metricsPort = addrPort(env.get("METRICS_ADDR").value);
    eq(health, 8081, "health port");
    eq(metricsPort, 8080, "metrics port");
    eq(portOf(c, c.livenessProbe.httpGet.port), health, "liveness port");
    eq(portOf(c, c.readinessProbe.httpGet.port), health, "readiness port");
    eq(portOf(c, "metrics"), metricsPort, "container port 'metrics'");
  });
  t("security context", () => {
    const sc = c.securityContext;
    eq(sc.runAsNonRoot, true, "runAsNonRoot");
    eq(sc.readOnlyRootFilesystem, true, "readOnlyRootFilesystem");
    eq(sc.allowPrivilegeEscalation, false, "allowPrivilegeEscalation");
    eq(sc.capabilities, { drop: ["ALL"] }, "capabilities");
    eq(sc.seccompProfile, { type: "RuntimeDefault" }, "container seccompProfile");
    eq(pod.securityContext.seccompProfile, { type: "RuntimeDefault" }, "pod seccompProfile");
    eq(pod.securityContext.runAsNonRoot, true, "pod runAsNonRoot");
    assert(pod.securityContext.runAsUser > 0, "pod runAsUser must not be root");
    assert(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, "no host namespaces");
  });
  t("resources, graceful termination, spread across nodes", () => {
    assert(c.resources.requests && c.resources.requests.cpu && c.resources.requests.memory, "requests set");
    assert(c.resources.limits && c.resources.limits.memory, "memory limit set");
    const grace = pod.terminationGracePeriodSeconds;
    assert(grace >= 30 && grace > Number(env.get("RENEW_DEADLINE_S").value), `terminationGracePeriodSeconds ${grace}`);
    const podLabels = dep.spec.template.metadata.labels;
    assert(subset(podLabels, dep.spec.selector.matchLabels), "selector matches the pod labels");
    const tsc = pod.topologySpreadConstraints || [];
    assert(tsc.some((x) => x.topologyKey === "kubernetes.io/hostname" && subset(podLabels, x.labelSelector.matchLabels)),
      "a topology spread constraint across nodes selecting these pods");
    const anti = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    assert(anti.some((x) => x.podAffinityTerm.topologyKey === "kubernetes.io/hostname" &&
      subset(podLabels, x.podAffinityTerm.labelSelector.matchLabels)), "anti-affinity across nodes");
    eq(dep.spec.strategy.rollingUpdate.maxUnavailable, 0, "maxUnavailable");
    const tag = c.image.split(":").pop();
    eq(tag, fs.readFileSync(path.join(root, "VERSION"), "utf8").trim(), "image tag (appVersion)");
  });
  t("RBAC: a namespaced Role with exactly the least verbs, bound to the ServiceAccount", () => {
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
  });
  t("metrics Service selects the pods and targets the metrics port", () => {
    const svc = one("Service");
    assert(subset(dep.spec.template.metadata.labels, svc.spec.selector), "Service selector matches the pods");
    eq(svc.spec.ports.length, 1, "Service ports");
    eq(portOf(c, svc.spec.ports[0].targetPort), 8080, "Service targetPort");
    eq(svc.spec.ports[0].name, "metrics", "Service port name");
  });

  if (exp.optional.includes("ServiceMonitor")) {
    t("ServiceMonitor scrapes the metrics Service", () => {
      const sm = one("ServiceMonitor");
      const svc = one("Service");
      assert(subset(svc.metadata.labels, sm.spec.selector.matchLabels), "ServiceMonitor selects the Service");
      eq(sm.spec.endpoints.map((e) => [e.port, e.path]), [["metrics", "/metrics"]], "endpoints");
      eq(sm.metadata.labels.release, "kube-prometheus-stack", "extra label");
    });
  }
  if (exp.optional.includes("PrometheusRule")) {
    t("PrometheusRule alerts use documented metrics", () => {
      const pr = one("PrometheusRule");
      const rules = pr.spec.groups.flatMap((g) => g.rules);
      const names = rules.map((r) => r.alert);
      eq(names.sort(), ["ForemanBridgeDispatchErrors", "ForemanBridgeNoLeader", "ForemanBridgeRetriesSpiking",
        "ForemanBridgeTombstonesSpiking", "ForemanBridgeWatchRestarts"], "alerts");
      const want = {
        ForemanBridgeNoLeader: "leader_election_master_status",
        ForemanBridgeRetriesSpiking: "foreman_bridge_retries_total",
        ForemanBridgeTombstonesSpiking: "foreman_bridge_tombstones_total",
        ForemanBridgeDispatchErrors: "foreman_bridge_dispatch_requests_total",
        ForemanBridgeWatchRestarts: "foreman_bridge_watch_restarts_total",
      };
      for (const r of rules) {
        const used = [...metricsIn(r.expr)];
        for (const m of used) assert(familyOf(m, metrics), `${r.alert} uses ${m}, not in docs/metrics.md`);
        assert(used.includes(want[r.alert]), `${r.alert} does not use ${want[r.alert]}`);
        assert(r.labels.severity && r.labels.team === "platform", `${r.alert} labels`);
        assert(r.annotations.summary && r.annotations.description, `${r.alert} annotations`);
        const open = (r.expr.match(/\(/g) || []).length;
        eq((r.expr.match(/\)/g) || []).length, open, `${r.alert} balanced parentheses`);
      }
      const noLeader = rules.find((r) => r.alert === "ForemanBridgeNoLeader");
      assert(/max\(leader_election_master_status\{[^}]*name="foreman-dispatch-bridge"[^}]*\}\)/.test(noLeader.expr) &&
        /< 1$/.test(noLeader.expr), `NoLeader expr: ${noLeader.expr}`);
      eq(noLeader.for, "5m", "NoLeader for");
      const errors = rules.find((r) => r.alert === "ForemanBridgeDispatchErrors");
      assert(errors.expr.includes('code=~"5..|401|403|<error>"'),
        "DispatchErrors counts 5xx, 401/403 (a bad or rotated token) and no answer (<error>)");
    });
  }
  if (exp.optional.includes("PodDisruptionBudget")) {
    t("PodDisruptionBudget keeps one pod, and never blocks a drain", () => {
      const pdb = one("PodDisruptionBudget");
      assert(subset(dep.spec.template.metadata.labels, pdb.spec.selector.matchLabels), "PDB selects the pods");
      if (dep.spec.replicas > 1) {
        eq(pdb.spec.minAvailable, 1, "minAvailable");
        assert(dep.spec.replicas > pdb.spec.minAvailable, "replicas leave room for an eviction");
      } else {
        // One replica: minAvailable 1 would block every node drain.
        eq(pdb.spec.maxUnavailable, 1, "maxUnavailable with one replica");
        eq(pdb.spec.minAvailable, undefined, "no minAvailable with one replica");
      }
    });
  }
  if (exp.extraVolume) {
    t("extraVolumes and extraVolumeMounts reach the pod, /tmp kept", () => {
      const vols = dep.spec.template.spec.volumes;
      eq(vols.map((v) => v.name), ["tmp", exp.extraVolume.name], "volumes");
      eq(vols[1], exp.extraVolume, "the extra volume");
      eq(c.volumeMounts.map((m) => m.name), ["tmp", exp.extraMount.name], "mounts");
      eq(c.volumeMounts[1], exp.extraMount, "the extra mount");
    });
  }
  if (exp.optional.includes("NetworkPolicy")) {
    t("NetworkPolicy: ingress to metrics and health only; egress to DNS, API server, dispatch", () => {
      const np = one("NetworkPolicy");
      assert(subset(dep.spec.template.metadata.labels, np.spec.podSelector.matchLabels), "selects the pods");
      eq(np.spec.policyTypes, ["Ingress", "Egress"], "policyTypes");
      const inPorts = np.spec.ingress.flatMap((r) => r.ports.map((p) => p.port)).sort();
      eq(inPorts, [8080, 8081], "ingress ports");
      assert(np.spec.ingress.every((r) => r.from && r.from.length > 0), "ingress restricted to the given peers");
      const egress = np.spec.egress;
      assert(egress.some((r) => r.ports.some((p) => p.port === 53 && p.protocol === "UDP")), "DNS egress");
      assert(egress.some((r) => r.to && r.to.some((p) => p.ipBlock && p.ipBlock.cidr === "10.0.0.1/32") &&
        r.ports.some((p) => p.port === 443)), "API server egress");
      assert(egress.some((r) => r.to && r.to.some((p) => p.namespaceSelector) && r.ports.some((p) => p.port === 3000)),
        "dispatch egress");
    });
  }
  if (exp.optional.includes("ConfigMap")) {
    t("Grafana dashboard ConfigMap over documented metrics", () => {
      const cm = one("ConfigMap");
      eq(cm.metadata.namespace, "monitoring", "dashboard namespace");
      eq(cm.metadata.labels.grafana_dashboard, "1", "grafana_dashboard label");
      const keys = Object.keys(cm.data);
      eq(keys, ["foreman-dispatch-bridge.json"], "ConfigMap keys");
      const dash = JSON.parse(cm.data[keys[0]]);
      const shipped = JSON.parse(fs.readFileSync(path.join(chartDir, "dashboards", "foreman-dispatch-bridge.json"), "utf8"));
      eq(dash, shipped, "dashboard content");
      checkDashboard(dash, metrics);
    });
  }
}

function checkDashboard(dash, metrics) {
  assert(dash.title && dash.uid, "title and uid");
  const panels = dash.panels || [];
  const targets = panels.flatMap((p) => p.targets || []);
  assert(panels.length >= 8 && targets.length >= 8, `only ${panels.length} panels / ${targets.length} queries`);
  const ids = new Set();
  const used = new Set();
  for (const p of panels) {
    assert(!ids.has(p.id), `duplicate panel id ${p.id}`);
    ids.add(p.id);
    assert(p.gridPos && Number.isInteger(p.gridPos.w) && Number.isInteger(p.gridPos.h), `panel ${p.title} gridPos`);
    for (const tg of p.targets || []) {
      for (const m of metricsIn(tg.expr)) {
        const fam = familyOf(m, metrics);
        assert(fam, `panel "${p.title}" uses ${m}, not in docs/metrics.md`);
        used.add(fam);
      }
    }
  }
  for (const m of ["leader_election_master_status", "foreman_bridge_claims_total", "foreman_bridge_retries_total",
    "foreman_bridge_tombstones_total", "foreman_bridge_dispatch_requests_total", "workqueue_depth",
    "foreman_bridge_watch_restarts_total"])
    assert(used.has(m), `the dashboard does not show ${m}`);
}

// --- chart-wide checks ------------------------------------------------------------------------
check("Chart.yaml version and appVersion equal VERSION", () => {
  const chart = YAML.parse(fs.readFileSync(path.join(chartDir, "Chart.yaml"), "utf8"));
  const version = fs.readFileSync(path.join(root, "VERSION"), "utf8").trim();
  eq(chart.version, version, "Chart.yaml version");
  eq(String(chart.appVersion), version, "Chart.yaml appVersion");
});

const schema = JSON.parse(fs.readFileSync(path.join(chartDir, "values.schema.json"), "utf8"));
const ajv = new Ajv({ allErrors: true, strict: false });
const validateValues = ajv.compile(schema);
const defaults = YAML.parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8"));
check("values.yaml validates against values.schema.json", () => {
  assert(validateValues(defaults), ajv.errorsText(validateValues.errors));
});
function merge(a, b) {
  if (b === null || typeof b !== "object" || Array.isArray(b) || typeof a !== "object" || Array.isArray(a)) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
  return out;
}
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
check("every key of values.yaml has a comment", () => {
  const doc = YAML.parseDocument(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8"));
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
      if (YAML.isMap(pair.value) && !["resources", "podSecurityContext", "securityContext", "prFixLaneAgents", "labels"].includes(pair.key.value))
        walk(pair.value, `${key}.`, false);
    });
  };
  walk(doc.contents, "", doc.commentBefore);
  eq(missing, [], "keys without a comment");
});

const metrics = documentedMetrics();
const vars = programVariables();
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
  unknown = unknownFields(docsBySet);
});
for (const set of sets) {
  checkSet(set, docsBySet[set], metrics, vars);
  if (unknown) check(`${set}: no unknown or mistyped fields (kubernetes-models types)`, () => eq(unknown[set], [], "tsc errors"));
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
