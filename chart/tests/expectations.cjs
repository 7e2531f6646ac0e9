// What the chart promises: per value set (default, chart/tests/values-*.yaml), the least
// RBAC, and the configuration variables SPEC §7 lists.
"use strict";

const NS = "bots";  // the release namespace check.sh renders into
const FULL = "fdb-foreman-dispatch-bridge";  // the full name of release "fdb"

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


module.exports = { NS, FULL, expectations, RBAC, SPEC7 };
