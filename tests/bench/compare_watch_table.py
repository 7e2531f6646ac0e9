#!/usr/bin/python3
"""compare_watch.sh's summary: the table of every tool's JSON line, the ceilings, the
ratios and the targets (issue 17). Reads WORK/<tool>.json; MODE=live marks figures bound
by the API server. Ours and the transport ceiling come in interleaved rounds
(WORK/ours.rN.json, WORK/transport.rN.json, each with the load average before it in
.rN.load): the best and the median of each side, and their ratios. Exits 1 when one of our
runs did not complete.
    compare_watch_table.py WORK
"""
import json
import os
import statistics
import sys

PEERS = ("client-go", "controller-runtime", "kube-rs", "client-node", "python")
ANCHORS = ("client-go", "controller-runtime", "kube-rs")


def read_json(path, name):
    if not (os.path.exists(path) and os.path.getsize(path) > 0):
        return None
    lines = open(path).read().strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (ValueError, IndexError):
        print(f"compare_watch: {name} printed no JSON line", file=sys.stderr)
        return None


def read_load(path):
    return open(path).read().strip() if os.path.exists(path) else "?"


def load(work):
    """The peers' lines by name, and the interleaved rounds of ours and the transport:
    [{"n": 1, "ours": {...}, "transport": {...}, "ours_load": "…", …}, …]."""
    rows = {}
    for name in PEERS:
        r = read_json(os.path.join(work, name + ".json"), name)
        if r is not None:
            rows[name] = r
    rounds = []
    n = 1
    while os.path.exists(os.path.join(work, f"ours.r{n}.json")):
        rd = {"n": n}
        for side in ("ours", "transport"):
            rd[side] = read_json(os.path.join(work, f"{side}.r{n}.json"), f"{side} (round {n})") or {}
            rd[side + "_load"] = read_load(os.path.join(work, f"{side}.r{n}.load"))
        rounds.append(rd)
        n += 1
    return rows, rounds


def eps(r):
    return r.get("watch_events_per_second", 0) if r and r.get("completed") else 0


def serial_of(transport, tokenize):
    """Ingest cannot beat the transport and the tokenizer in series."""
    return 1 / (1 / transport + 1 / tokenize) if transport and tokenize else 0


def pct(a, b):
    return f"{100 * a / b:.0f}%" if a and b else "-"


def print_rounds(rounds, live):
    """The interleaved rounds, then their best and median; returns (best, median) dicts of
    ours, transport, tokenize, serial, simd, strict. "serial" is the transport, then
    Boost.JSON's tokenizer building nothing; "strict" the transport, then simdjson's DOM
    parse building nothing (ours parses with simdjson: the stricter of the two)."""
    print(f"ours and the ceilings, interleaved ({len(rounds)} round(s): ours, transport, ours, transport, ...;"
          " load average 1/5/15 min before each run):")
    print(f"  {'round':<8}{'ours ev/s':>11}{'transport':>11}{'tokenizer':>11}{'serial':>11}{'ours/serial':>13}"
          f"{'simdjson':>11}{'strict':>11}{'ours/strict':>13}   load (ours)        load (transport)")
    cols = {"ours": [], "transport": [], "tokenize": [], "serial": [], "simd": [], "strict": []}
    for rd in rounds:
        o, t = eps(rd["ours"]), eps(rd["transport"])
        k = rd["ours"].get("tokenize_events_per_second", 0) if o else 0
        sj = rd["ours"].get("simdjson_events_per_second", 0) if o else 0
        ser = 0 if live else serial_of(t, k)
        strict = 0 if live else serial_of(t, sj)
        for name, v in (("ours", o), ("transport", t), ("tokenize", k), ("serial", ser), ("simd", sj), ("strict", strict)):
            if v:
                cols[name].append(v)
        print(f"  {rd['n']:<8}{o:>11.0f}{t:>11.0f}{k:>11.0f}{ser:>11.0f}{pct(o, ser):>13}{sj:>11.0f}{strict:>11.0f}"
              f"{pct(o, strict):>13}   {rd['ours_load']:<19}{rd['transport_load']}")
    best = {n: max(v) if v else 0 for n, v in cols.items()}
    med = {n: statistics.median(v) if v else 0 for n, v in cols.items()}
    for d in (best, med):
        d["serial"] = 0 if live else serial_of(d["transport"], d["tokenize"])
        d["strict"] = 0 if live else serial_of(d["transport"], d["simd"])
    for label, d in (("best", best), ("median", med)):
        print(f"  {label:<8}{d['ours']:>11.0f}{d['transport']:>11.0f}{d['tokenize']:>11.0f}{d['serial']:>11.0f}"
              f"{pct(d['ours'], d['serial']):>13}{d['simd']:>11.0f}{d['strict']:>11.0f}{pct(d['ours'], d['strict']):>13}")
    print("  (best and median of each column on its own; their serial ceilings from that transport and parser)")
    return best, med


def print_table(ours, rows, rounds, live):
    """One line per tool: ours (the round with the median ingest) and each peer."""
    print()
    print(f"{'tool':<20}{'objects':>9}{'list+sync s':>13}{'events/s':>11}{'peak RSS MB':>13}{'RSS MB':>8}{'bytes/object':>14}")
    for name, r in [("ours", ours)] + [(n, rows.get(n)) for n in PEERS]:
        if not r:
            continue
        print(f"{name:<20}{r['objects_listed']:>9}{r['list_seconds']:>13.2f}{eps(r):>11}"
              f"{r['peak_rss_kb'] / 1024:>13.0f}{r.get('rss_kb', 0) / 1024:>8.0f}{r['rss_per_object_bytes']:>14}"
              + ("" if r.get("completed") else "  (did not complete)"))
    if len(rounds) > 1:
        print(f"(ours: the round with the median ingest of {len(rounds)}; the peers: one run each)")
    if live:
        print("(live watch, changes made through the API server while each tool watches: every rate is")
        print(" bound by how fast the server takes the patches and sends the events, not by the tool)")


def print_ceilings(best, done, rounds, live):
    """The ceilings (best of the rounds) and the decoder's fast-path counts."""
    print("ceilings (events/s, best of the rounds)" + (": the transport's is the rate the changes came at, not a ceiling" if live else "") + ":")

    def best_of(key):
        return max([rd["ours"].get(key, 0) for rd in done] or [0])

    def row(label, value, extra=""):
        print(f"  {label:<44}{value:>11.0f}{extra}")
    if best.get("transport"):
        mbs = max(rd["transport"].get("watch_megabytes_per_second", 0) for rd in rounds)
        row("ours, transport only, no JSON", best["transport"], f"  ({mbs} MB/s)")
    if done:
        row("raw Boost.JSON parse", best_of("raw_parse_events_per_second"))
        for label, value in (("  into an arena", best_of("raw_parse_arena_events_per_second")),
                             ("  its tokenizer alone, building nothing", best.get("tokenize")),
                             ("simdjson DOM parse, building nothing", best.get("simd")),
                             ("ours, informer without the network", best_of("informer_no_network_events_per_second")),
                             ("  the same, every line through Boost.JSON",
                              best_of("informer_no_network_boost_events_per_second"))):
            if value:
                row(label, value)
    if best.get("serial"):
        row("serial: transport, then the tokenizer", best["serial"])
    if best.get("strict"):
        row("strict: transport, then simdjson DOM parse", best["strict"])
    for rd in done:
        o = rd["ours"]
        if "fast_decoded" in o:
            print(f"  decoder, round {rd['n']}: {o['fast_decoded']} lines on simdjson's path, {o['fast_fallbacks']} through"
                  f" Boost.JSON (refused {o['fast_refused']}, kept double {o['fast_kept_double']},"
                  f" duplicate key {o['fast_duplicate_key']})")


def print_ratios(best, med, ours, rows, live):
    """Ours over the ceilings and over each peer."""
    if best.get("serial"):
        print(f"watch ingest, ours / serial ceiling: best {pct(best['ours'], best['serial'])}, median "
              f"{pct(med['ours'], med['serial'])} (target: at least 80%)")
    if best.get("strict"):
        print(f"watch ingest, ours / strict ceiling (simdjson): best {pct(best['ours'], best['strict'])}, median "
              f"{pct(med['ours'], med['strict'])} (no target: the stricter limit, since ours parses with simdjson)")
    if best.get("transport") and not live:
        print(f"watch ingest, ours / transport ceiling: best {pct(best['ours'], best['transport'])}, median "
              f"{pct(med['ours'], med['transport'])}")
    anchors = {n: eps(rows.get(n)) for n in ANCHORS if eps(rows.get(n))}
    if anchors:
        top = max(anchors, key=anchors.get)
        print(f"watch ingest, ours / best of client-go, controller-runtime, kube-rs ({top}): "
              f"best {best['ours'] / anchors[top]:.1f}x, median {med['ours'] / anchors[top]:.1f}x (target: at least 5x)")
    for name in PEERS:
        r_eps = eps(rows.get(name))
        if r_eps:
            line = f"watch ingest, ours / {name}: best {best['ours'] / r_eps:.1f}x, median {med['ours'] / r_eps:.1f}x"
            if best.get("transport"):
                line += f" (the transport ceiling / {name}: {best['transport'] / r_eps:.1f}x)"
            print(line)
    if ours.get("raw_parse_events_per_second"):
        print(f"watch ingest, raw parse / ours (the median run): {ours['raw_parse_events_per_second'] / eps(ours):.2f}x")


def print_memory(first):
    """Round 1's memory: bytes per cached object, the first list's and a relist's peaks."""
    steady = first.get("rss_kb", 0)
    print(f"memory, ours (round 1): {first['rss_per_object_bytes']} bytes of RSS per cached object (target: at most 700), "
          f"{first.get('packed_bytes_per_object', 0)} packed; peak (first list) / steady RSS "
          f"{first['peak_rss_kb'] / max(1, steady):.2f}")
    if first.get("relist_peak_rss_kb", -1) > 0:
        print(f"memory, ours: a relist (410) with the cache full peaks at {first['relist_peak_rss_kb'] / 1024:.0f} MB, "
              f"{first['relist_peak_rss_kb'] / max(1, steady):.2f}x the steady {steady / 1024:.0f} MB (target: at most 1.5x)")


def main():
    work = sys.argv[1]
    live = os.environ.get("MODE") == "live"
    rows, rounds = load(work)
    done = [rd for rd in rounds if eps(rd["ours"])]
    # The table's row for ours: the run with the median ingest (a real run, not a mix).
    ours = sorted(done, key=lambda rd: eps(rd["ours"]))[(len(done) - 1) // 2]["ours"] if done else {}
    first = rounds[0]["ours"] if rounds else {}
    print_table(ours, rows, rounds, live)
    print()
    best, med = print_rounds(rounds, live) if rounds else ({}, {})
    print()
    print_ceilings(best, done, rounds, live)
    print()
    if best.get("ours"):
        print_ratios(best, med, ours, rows, live)
    if first.get("objects_listed"):
        print_memory(first)
    print(f"machine: {os.cpu_count()} cores; load average (1/5/15 min) {read_load(os.path.join(work, 'load.start'))} "
          f"at the start, {read_load(os.path.join(work, 'load.end'))} at the end")
    incomplete = [f"{side} (round {rd['n']})" for rd in rounds for side in ("ours", "transport")
                  if not rd[side].get("completed")]
    if not rounds:
        incomplete = ["ours", "transport"]
    if incomplete:
        print("compare_watch: did not complete: " + ", ".join(incomplete), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
