// Per value set, the optional objects when the set asks for them: ServiceMonitor,
// PrometheusRule, PodDisruptionBudget, extra volumes, NetworkPolicy, the Grafana dashboard.
"use strict";
const fs = require("fs");
const path = require("path");
const { assert, eq } = require("./harness.cjs");
const { metricsIn, familyOf } = require("./sources.cjs");
const { subset } = require("./manifest.cjs");

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

module.exports = [
  {
    name: "ServiceMonitor scrapes the metrics Service",
    when: (exp) => exp.optional.includes("ServiceMonitor"),
    run({ one }) {
      const sm = one("ServiceMonitor");
      const svc = one("Service");
      assert(subset(svc.metadata.labels, sm.spec.selector.matchLabels), "ServiceMonitor selects the Service");
      eq(sm.spec.endpoints.map((e) => [e.port, e.path]), [["metrics", "/metrics"]], "endpoints");
      eq(sm.metadata.labels.release, "kube-prometheus-stack", "extra label");
    },
  },
  {
    name: "PrometheusRule alerts use documented metrics",
    when: (exp) => exp.optional.includes("PrometheusRule"),
    run({ one, metrics }) {
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
    },
  },
  {
    name: "PodDisruptionBudget keeps one pod, and never blocks a drain",
    when: (exp) => exp.optional.includes("PodDisruptionBudget"),
    run({ one, dep }) {
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
    },
  },
  {
    name: "extraVolumes and extraVolumeMounts reach the pod, /tmp kept",
    when: (exp) => exp.extraVolume,
    run({ exp, dep, c }) {
      const vols = dep.spec.template.spec.volumes;
      eq(vols.map((v) => v.name), ["tmp", exp.extraVolume.name], "volumes");
      eq(vols[1], exp.extraVolume, "the extra volume");
      eq(c.volumeMounts.map((m) => m.name), ["tmp", exp.extraMount.name], "mounts");
      eq(c.volumeMounts[1], exp.extraMount, "the extra mount");
    },
  },
  {
    name: "NetworkPolicy: ingress to metrics and health only; egress to DNS, API server, dispatch",
    when: (exp) => exp.optional.includes("NetworkPolicy"),
    run({ one, dep }) {
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
    },
  },
  {
    name: "Grafana dashboard ConfigMap over documented metrics",
    when: (exp) => exp.optional.includes("ConfigMap"),
    run({ one, metrics, chartDir }) {
      const cm = one("ConfigMap");
      eq(cm.metadata.namespace, "monitoring", "dashboard namespace");
      eq(cm.metadata.labels.grafana_dashboard, "1", "grafana_dashboard label");
      const keys = Object.keys(cm.data);
      eq(keys, ["foreman-dispatch-bridge.json"], "ConfigMap keys");
      const dash = JSON.parse(cm.data[keys[0]]);
      const shipped = JSON.parse(fs.readFileSync(path.join(chartDir, "dashboards", "foreman-dispatch-bridge.json"), "utf8"));
      eq(dash, shipped, "dashboard content");
      checkDashboard(dash, metrics);
    },
  },
];
