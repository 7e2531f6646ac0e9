// Per value set, the Deployment: replicas and leader election, every configuration variable
// and its default, POD_NAME, the tokens from Secrets, probes and ports, security context,
// resources and spreading, the image tag.
"use strict";
const fs = require("fs");
const path = require("path");
const { assert, eq } = require("./harness.cjs");
const { SPEC7 } = require("./expectations.cjs");
const { portOf, addrPort, subset } = require("./manifest.cjs");

module.exports = [
  {
    name: "replicas and leader election",
    run({ exp, dep, env }) {
      eq(dep.spec.replicas, exp.replicas, "spec.replicas");
      eq(env.get("LEADER_ELECT").value, exp.leaderElect, "LEADER_ELECT");
      if (exp.leaderElect === "false") eq(dep.spec.replicas, 1, "replicas without leader election");
    },
  },
  {
    name: "every configuration variable of the program and of SPEC §7 is set",
    run({ env, vars }) {
      const missing = [...new Set([...vars, ...SPEC7])].filter((v) => !env.has(v));
      eq(missing, [], "variables missing from the Deployment");
      for (const [name, e] of env) {
        assert(("value" in e) !== ("valueFrom" in e), `${name} needs exactly one of value and valueFrom`);
        if ("value" in e) assert(typeof e.value === "string", `${name} value is not a string`);
      }
    },
  },
  {
    name: "defaults of SPEC §7 when not overridden",
    run({ exp, env }) {
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
    },
  },
  {
    name: "POD_NAME from the downward API",
    run({ env }) {
      eq(env.get("POD_NAME").valueFrom, { fieldRef: { fieldPath: "metadata.name" } }, "POD_NAME.valueFrom");
    },
  },
  {
    name: "the dispatch token from a Secret, never a literal",
    run({ exp, byKind, dep, env }) {
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
    },
  },
  {
    name: "probes on HEALTH_ADDR, metrics on METRICS_ADDR",
    run({ c, env }) {
      eq(c.livenessProbe.httpGet.path, "/healthz", "liveness path");
      eq(c.readinessProbe.httpGet.path, "/readyz", "readiness path");
      const health = addrPort(env.get("HEALTH_ADDR").value);
      const metricsPort = addrPort(env.get("METRICS_ADDR").value);
      eq(health, 8081, "health port");
      eq(metricsPort, 8080, "metrics port");
      eq(portOf(c, c.livenessProbe.httpGet.port), health, "liveness port");
      eq(portOf(c, c.readinessProbe.httpGet.port), health, "readiness port");
      eq(portOf(c, "metrics"), metricsPort, "container port 'metrics'");
    },
  },
  {
    name: "security context",
    run({ pod, c }) {
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
    },
  },
  {
    name: "resources, graceful termination, spread across nodes",
    run({ dep, pod, c, env, root }) {
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
    },
  },
];
