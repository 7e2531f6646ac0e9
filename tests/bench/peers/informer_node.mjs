// The same list + watch + cache with @kubernetes/client-node's makeInformer, for the
// watch benchmark's comparison. Prints one JSON line like watch-bench.
//   node informer_node.mjs KUBECONFIG NAMESPACE EVENTS TIMEOUT_S
import * as k8s from '@kubernetes/client-node';

const [kubeconfig, ns, eventsArg, timeoutArg] = process.argv.slice(2);
const wanted = Number(eventsArg || 100000);
const timeoutMs = Number(timeoutArg || 120) * 1000;

const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const api = kc.makeApiClient(k8s.CustomObjectsApi);
const group = 'foreman.llmkube.dev', version = 'v1alpha1', plural = 'workloads';
const listFn = () => api.listNamespacedCustomObject({ group, version, namespace: ns, plural });
const informer = k8s.makeInformer(kc, `/apis/${group}/${version}/namespaces/${ns}/${plural}`, listFn);

const rssBefore = process.memoryUsage().rss;
let listed = false, events = 0, watchStart = 0, watchEnd = 0, peakRss = rssBefore;
const t0 = process.hrtime.bigint();
let listSeconds = -1;
const sample = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);

function finish(done) {
  clearInterval(sample);
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  const objects = informer.list(ns).length;
  const watchSeconds = done ? Number(watchEnd - watchStart) / 1e9 : -1;
  console.log(JSON.stringify({
    tool: 'client-node', objects_listed: objects, list_seconds: listSeconds, watch_events: events,
    watch_seconds: watchSeconds, watch_events_per_second: watchSeconds > 0 ? Math.round(events / watchSeconds) : 0,
    peak_rss_kb: Math.round(peakRss / 1024), rss_kb: Math.round(rss / 1024),
    rss_per_object_bytes: objects ? Math.round((rss - rssBefore) / objects) : 0, completed: done,
  }));
  process.exit(done ? 0 : 1);
}

function count() {
  if (!listed) return;
  if (events === 0) watchStart = process.hrtime.bigint();
  if (++events >= wanted) { watchEnd = process.hrtime.bigint(); finish(true); }
}
informer.on('add', count);
informer.on('update', count);
informer.on('delete', count);
informer.on('error', (e) => { console.error('client-node informer error:', e && e.message); });
setTimeout(() => finish(false), timeoutMs);
await informer.start();
listed = true;
listSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.error(`client-node: listed ${informer.list(ns).length} objects in ${listSeconds.toFixed(2)} s`);
