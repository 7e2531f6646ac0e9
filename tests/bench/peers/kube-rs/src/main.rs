//! The watch benchmark's kube-rs peer: `kube::runtime::reflector` over `DynamicObject`
//! Workloads (watcher with paged lists, a reflector store), counting the events applied
//! after the list. Prints one JSON line like watch-bench.
//!
//!     informer-kube-rs KUBECONFIG NAMESPACE EVENTS TIMEOUT_S
use futures::TryStreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{reflector, watcher};
use std::time::{Duration, Instant};

fn status_kb(field: &str) -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l[field.len()..].split_whitespace().next().and_then(|v| v.parse().ok()))
        })
        .unwrap_or(-1)
}

fn peak_rss_kb() -> i64 {
    status_kb("VmHWM:")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: informer-kube-rs KUBECONFIG NAMESPACE EVENTS TIMEOUT_S");
        std::process::exit(2);
    }
    let (path, ns) = (&args[1], &args[2]);
    let wanted: u64 = args[3].parse().expect("EVENTS: a number");
    let timeout = Duration::from_secs_f64(args[4].parse().expect("TIMEOUT_S: a number"));
    let rss_before = status_kb("VmRSS:");
    let start = Instant::now();

    let kubeconfig = Kubeconfig::read_from(path).unwrap_or_else(|e| {
        eprintln!("kube-rs: {e}");
        std::process::exit(2)
    });
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| {
            eprintln!("kube-rs: {e}");
            std::process::exit(2)
        });
    let client = kube::Client::try_from(config).expect("kube-rs: client");
    let gvk = GroupVersionKind::gvk("foreman.llmkube.dev", "v1alpha1", "Workload");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "workloads");
    let api: Api<DynamicObject> = Api::namespaced_with(client, ns, &ar);

    let writer = reflector::store::Writer::<DynamicObject>::new(ar.clone());
    let reader = writer.as_reader();
    // Paged lists then a watch (the default ListWatch strategy), as the other tools.
    let stream = reflector(writer, watcher(api, watcher::Config::default()));
    let mut stream = std::pin::pin!(stream);

    let mut listed = false;
    let mut list_seconds = -1.0;
    let mut events: u64 = 0;
    let mut first = start;
    let mut last = start;
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let done = loop {
        tokio::select! {
            _ = &mut deadline => break false,
            ev = stream.try_next() => match ev {
                Ok(Some(watcher::Event::InitDone)) => {
                    if !listed {
                        listed = true;
                        list_seconds = start.elapsed().as_secs_f64();
                        eprintln!("kube-rs: listed {} objects in {:.2} s", reader.state().len(), list_seconds);
                    }
                }
                Ok(Some(watcher::Event::Apply(_))) | Ok(Some(watcher::Event::Delete(_))) if listed => {
                    events += 1;
                    if events == 1 { first = Instant::now(); }
                    if events >= wanted { last = Instant::now(); break true; }
                }
                Ok(Some(_)) => {}
                Ok(None) => break false,
                Err(e) => eprintln!("kube-rs: watcher error: {e}"),
            }
        }
    };
    let objects = reader.state().len();
    let rss = status_kb("VmRSS:");
    let watch_seconds = if done { (last - first).as_secs_f64() } else { -1.0 };
    let eps = if done && watch_seconds > 0.0 { (events as f64 / watch_seconds).round() as u64 } else { 0 };
    let per_object = if objects > 0 { (rss - rss_before) * 1024 / objects as i64 } else { 0 };
    println!(
        "{}",
        serde_json::json!({
            "tool": "kube-rs", "objects_listed": objects, "list_seconds": list_seconds, "watch_events": events,
            "watch_seconds": watch_seconds, "watch_events_per_second": eps, "peak_rss_kb": peak_rss_kb(),
            "rss_kb": rss, "rss_per_object_bytes": per_object, "completed": done,
        })
    );
    std::process::exit(if done { 0 } else { 1 });
}
