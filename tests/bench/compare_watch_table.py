#!/usr/bin/python3
"""compare_watch.sh's summary: the table of every tool's JSON line, the ceilings, the
ratios and the targets (issue 17). Reads WORK/<tool>.json; MODE=live marks figures bound
by the API server. Exits 1 when one of our two runs did not complete.
    compare_watch_table.py WORK
"""
import json
import os
import sys

PEERS = ("client-go", "controller-runtime", "kube-rs", "client-node", "python")
ANCHORS = ("client-go", "controller-runtime", "kube-rs")


def load(work):
    rows = {}
    for name in ("ours", "transport") + PEERS:
        p = os.path.join(work, name + ".json")
        if os.path.exists(p) and os.path.getsize(p) > 0:
            lines = open(p).read().strip().splitlines()
            try:
                rows[name] = json.loads(lines[-1])
            except (ValueError, IndexError):
                print(f"compare_watch: {name} printed no JSON line", file=sys.stderr)
    return rows


def eps(r):
    return r.get("watch_events_per_second", 0) if r and r.get("completed") else 0


def main():
    work = sys.argv[1]
    live = os.environ.get("MODE") == "live"
    rows = load(work)
    ours = rows.get("ours", {})
    print()
    print(f"{'tool':<20}{'objects':>9}{'list+sync s':>13}{'events/s':>11}{'peak RSS MB':>13}{'RSS MB':>8}{'bytes/object':>14}")
    for name in ("ours",) + PEERS:
        r = rows.get(name)
        if not r:
            continue
        print(f"{name:<20}{r['objects_listed']:>9}{r['list_seconds']:>13.2f}{eps(r):>11}"
              f"{r['peak_rss_kb'] / 1024:>13.0f}{r.get('rss_kb', 0) / 1024:>8.0f}{r['rss_per_object_bytes']:>14}"
              + ("" if r.get("completed") else "  (did not complete)"))
    if live:
        print("(live watch, changes made through the API server while each tool watches: every rate is")
        print(" bound by how fast the server takes the patches and sends the events, not by the tool)")
    print()
    print("ceilings (events/s)" + (": the transport's is the rate the changes came at, not a ceiling" if live else "") + ":")
    transport = eps(rows.get("transport"))
    tokenize = ours.get("tokenize_events_per_second", 0)
    if transport:
        r = rows["transport"]
        print(f"  {'ours, transport only, no JSON':<44}{transport:>11}  ({r.get('watch_megabytes_per_second', 0)} MB/s)")
    if ours:
        print(f"  {'raw Boost.JSON parse':<44}{ours['raw_parse_events_per_second']:>11.0f}")
        if ours.get("raw_parse_arena_events_per_second"):
            print(f"  {'  into an arena':<44}{ours['raw_parse_arena_events_per_second']:>11.0f}")
        if tokenize:
            print(f"  {'  its tokenizer alone, building nothing':<44}{tokenize:>11.0f}")
        if ours.get("informer_no_network_events_per_second"):
            print(f"  {'ours, informer without the network':<44}{ours['informer_no_network_events_per_second']:>11.0f}")
    serial = 0
    if transport and tokenize and not live:
        serial = 1 / (1 / transport + 1 / tokenize)
        print(f"  {'serial: transport, then the tokenizer':<44}{serial:>11.0f}")
    print()
    ours_eps = eps(ours)
    if ours_eps:
        if serial:
            print(f"watch ingest, ours / serial ceiling: {100 * ours_eps / serial:.0f}% (target: at least 80%)")
        if transport and not live:
            print(f"watch ingest, ours / transport ceiling: {100 * ours_eps / transport:.0f}%")
        anchors = {n: eps(rows.get(n)) for n in ANCHORS if eps(rows.get(n))}
        if anchors:
            best = max(anchors, key=anchors.get)
            print(f"watch ingest, ours / best of client-go, controller-runtime, kube-rs ({best}): "
                  f"{ours_eps / anchors[best]:.1f}x (target: at least 5x)")
        for name in PEERS:
            r_eps = eps(rows.get(name))
            if r_eps:
                line = f"watch ingest, ours / {name}: {ours_eps / r_eps:.1f}x"
                if transport:
                    line += f" (the transport ceiling / {name}: {transport / r_eps:.1f}x)"
                print(line)
        if ours.get("raw_parse_events_per_second"):
            print(f"watch ingest, raw parse / ours: {ours['raw_parse_events_per_second'] / ours_eps:.2f}x")
    if ours.get("objects_listed"):
        steady = ours.get("rss_kb", 0)
        print(f"memory, ours: {ours['rss_per_object_bytes']} bytes of RSS per cached object (target: at most 700), "
              f"{ours.get('packed_bytes_per_object', 0)} packed; peak (first list) / steady RSS "
              f"{ours['peak_rss_kb'] / max(1, steady):.2f}")
        if ours.get("relist_peak_rss_kb", -1) > 0:
            print(f"memory, ours: a relist (410) with the cache full peaks at {ours['relist_peak_rss_kb'] / 1024:.0f} MB, "
                  f"{ours['relist_peak_rss_kb'] / max(1, steady):.2f}x the steady {steady / 1024:.0f} MB (target: at most 1.5x)")
    incomplete = [n for n in ("ours", "transport") if not rows.get(n, {}).get("completed")]
    if incomplete:
        print("compare_watch: did not complete: " + ", ".join(incomplete), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
