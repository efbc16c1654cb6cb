#!/usr/bin/env python3
"""The OASIS reference matcher (stix2-matcher) on the workload of `build/bench/pattern gen`.

Run by bench/pattern.sh with Debian's python3 and PYTHONPATH naming checkouts of
cti-pattern-matcher (v3.0.0) and cti-pattern-validator (v2.0.0); see bench/README.md.

  pattern_ref.py --dir D [--runs 1] [--budget 180] [--subset 1000]

Times, as the C side does: (1) json.loads of bundle.json, then match(pattern, [bundle],
stix_version="2.1") for every line of patterns.txt (the matcher parses each pattern); (2) the
pattern of pattern1.txt compiled once, then json.loads + match([bundle]) for every line of
bundles.jsonl. When the first --subset patterns say that all of them would take longer than
--budget seconds, only that subset is timed and the figure is scaled (and the output says so).
Writes one result a line (1, 0, E for an exception) to ref-patterns.res and ref-bundles.res, then
compares them with c-patterns.res and c-bundles.res when those exist.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    from stix2matcher.matcher import Pattern, match
except ImportError as e:  # the script says how to get it
    print("reference matcher not importable: %s" % e, file=sys.stderr)
    sys.exit(3)


def result(fn):
    try:
        return "1" if fn() else "0"
    except Exception:  # a parse error or a MatcherException: no match, noted as E
        return "E"


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def run_patterns(bundle_text, patterns, res):
    t = time.perf_counter()
    bundle = json.loads(bundle_text)
    for i, p in enumerate(patterns):
        res[i] = result(lambda: match(p, [bundle], stix_version="2.1"))
    return time.perf_counter() - t


def run_bundles(pattern1, bundles, res):
    t = time.perf_counter()
    pat = Pattern(pattern1, "2.1")
    for i, text in enumerate(bundles):
        res[i] = result(lambda: pat.match([json.loads(text)]))
    return time.perf_counter() - t


def compare(d, name, ref, texts, limit=10):
    path = os.path.join(d, "c-%s.res" % name)
    if not os.path.exists(path):
        print("compare_%s skipped: no %s" % (name, path))
        return
    c = read_lines(path)
    n = min(len(c), len(ref))
    agree = [i for i in range(n) if c[i] == ref[i]]
    diff = [i for i in range(n) if c[i] != ref[i]]
    both = sum(1 for i in agree if c[i] == "1")
    print("compare_%s compared=%d agree=%d disagree=%d both_matched=%d "
          "c_only=%d ref_only=%d ref_errors=%d c_errors=%d"
          % (name, n, len(agree), len(diff), both,
             sum(1 for i in diff if c[i] == "1" and ref[i] != "1"),
             sum(1 for i in diff if ref[i] == "1" and c[i] != "1"),
             sum(1 for i in range(n) if ref[i] == "E"),
             sum(1 for i in range(n) if c[i] in "EB")))
    with open(os.path.join(d, "disagree-%s.txt" % name), "w", encoding="utf-8") as f:
        for i in diff:
            f.write("%d\tc=%s\tref=%s\t%s\n" % (i + 1, c[i], ref[i], texts[i][:300]))
    for i in diff[:limit]:
        print("  disagree %s %d: c=%s ref=%s  %s" % (name, i + 1, c[i], ref[i], texts[i][:200]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="build/bench-data/pattern")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--budget", type=float, default=180.0)
    ap.add_argument("--subset", type=int, default=1000)
    a = ap.parse_args()

    with open(os.path.join(a.dir, "bundle.json"), encoding="utf-8") as f:
        bundle_text = f.read()
    patterns = read_lines(os.path.join(a.dir, "patterns.txt"))
    bundles = read_lines(os.path.join(a.dir, "bundles.jsonl"))
    pattern1 = read_lines(os.path.join(a.dir, "pattern1.txt"))[0]

    # (1) Probe with the subset; time all patterns only if that fits the budget.
    n_sub = min(a.subset, len(patterns))
    res = [""] * n_sub
    t_sub = run_patterns(bundle_text, patterns[:n_sub], res)
    projected = t_sub * len(patterns) / n_sub
    measured = patterns if projected <= a.budget else patterns[:n_sub]
    times = []
    res = [""] * len(measured)
    for _ in range(a.runs):
        times.append(run_patterns(bundle_text, measured, res))
    med = statistics.median_low(times)
    scale = len(patterns) / len(measured)
    print("ref_eval_patterns runs=%s median_seconds=%.3f measured=%d patterns=%d "
          "scaled_seconds=%.3f matched=%d errors=%d us_per_pattern=%.1f%s"
          % ("/".join("%.3f" % t for t in times), med, len(measured), len(patterns),
             med * scale, res.count("1"), res.count("E"), med * 1e6 / len(measured),
             "" if scale == 1 else
             " (SUBSET: the first %d patterns timed and scaled x%.1f: all would take ~%.0f s)"
             % (len(measured), scale, projected)))
    with open(os.path.join(a.dir, "ref-patterns.res"), "w") as f:
        f.write("".join(r + "\n" for r in res))
    compare(a.dir, "patterns", res, measured)

    # (2) One pattern over every bundle.
    times = []
    resb = [""] * len(bundles)
    for _ in range(a.runs):
        times.append(run_bundles(pattern1, bundles, resb))
    med = statistics.median_low(times)
    print("ref_eval_bundles runs=%s median_seconds=%.3f bundles=%d matched=%d errors=%d "
          "us_per_bundle=%.1f"
          % ("/".join("%.3f" % t for t in times), med, len(bundles), resb.count("1"),
             resb.count("E"), med * 1e6 / len(bundles)))
    # Where its time goes: json.loads alone, and match() on the already-loaded bundles.
    t = time.perf_counter()
    loaded = [json.loads(text) for text in bundles]
    t_json = time.perf_counter() - t
    pat = Pattern(pattern1, "2.1")
    t = time.perf_counter()
    for b in loaded:
        result(lambda: pat.match([b]))
    print("ref_eval_bundles breakdown json_loads_s=%.4f match_s=%.4f"
          % (t_json, time.perf_counter() - t))
    with open(os.path.join(a.dir, "ref-bundles.res"), "w") as f:
        f.write("".join(r + "\n" for r in resb))
    compare(a.dir, "bundles", resb, ["bundle line %d" % (i + 1) for i in range(len(bundles))])


if __name__ == "__main__":
    main()
