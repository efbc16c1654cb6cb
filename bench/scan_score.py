#!/usr/bin/env python3
"""Exactness of `ctix scan` hits against gen_logs.py's ground truth.

usage: scan_score.py BUNDLE TRUTH NEARMISS HITS [--record-time]

The generator's truth lists, per log line, the indicator it plants (lineno, format, type,
indicator value, observed value); its decoys (NEARMISS) contain an indicator as a substring
without matching it. Its truth knows nothing of validity windows, while ctix judges an
indicator at the record's own time by default: with --record-time the expected set drops the
truth entries whose indicator's valid_from is after the line's time (taken from the line's own
timestamp, which the truth does not carry: read from the log next to TRUTH as <name>.log).

Compares (line, indicator value) pairs: a hit whose pair is not expected is false, an expected
pair without a hit is missed — except that a planted address which also lies inside a network of
the indicator set, or a planted host under another listed domain (the truth names only the
planted indicator), is checked here and reported apart, as a true hit the truth does not list. Prints one line per log format and a total, and exits 1 unless
both are zero everywhere.
"""
import calendar
import ipaddress
import json
import os
import sys
import time


def iso_ms(s):
    t = calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))
    ms = int(s[20:23]) if len(s) > 20 and s[19] == "." else 0
    return t * 1000 + ms


def pattern_value(p):
    v = p.split("= '", 1)[1].rsplit("'", 1)[0]
    return v.replace("\\'", "'").replace("\\\\", "\\")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    record_time = "--record-time" in sys.argv
    bundle, truth, nearmiss, hits = args
    by_id, valid_from = {}, {}
    with open(bundle) as f:
        for o in json.load(f)["objects"]:
            if o.get("type") == "indicator":
                v = pattern_value(o["pattern"])
                by_id[o["id"]] = v
                valid_from[v] = iso_ms(o["valid_from"])
    expected, fmt_of = set(), {}
    withheld = 0
    need_time = {}
    with open(truth) as f:
        for line in f:
            if line.startswith("#") or line.startswith("lineno"):
                continue
            ln, fmt, _typ, ind, _obs = line.rstrip("\n").split("\t")
            ln = int(ln)
            fmt_of[ln] = fmt
            if ind in valid_from:
                need_time[ln] = ind
                expected.add((ln, ind))
    if record_time:
        log = os.path.splitext(truth)[0]
        log = log[: -len(".truth")] if log.endswith(".truth") else log
        log += ".log"
        times = line_times(log, set(need_time))
        for ln, ind in need_time.items():
            if times.get(ln) is not None and times[ln] < valid_from[ind]:
                expected.discard((ln, ind))
                withheld += 1
    decoys = set()
    with open(nearmiss) as f:
        for line in f:
            if line.startswith("#") or line.startswith("lineno"):
                continue
            decoys.add(int(line.split("\t", 1)[0]))
    got, seen = set(), {}
    with open(hits) as f:
        for line in f:
            h = json.loads(line)
            key = (h["line"], by_id.get(h["indicator"], h["indicator"]))
            got.add(key)
            seen[key] = h["observable"]
    # The truth names the one indicator planted on a line. When the planted address also lies in
    # a network listed in a larger set (a hit line is drawn from the smallest set), the line
    # matches that network too: such a hit is checked here, not counted as false.
    also = set()
    for key in got - expected:
        ln, ind = key
        if ln not in fmt_of:
            continue
        obs = seen[key]
        if "/" in ind and "://" not in ind:
            try:
                if ipaddress.ip_address(obs) in ipaddress.ip_network(ind, strict=False):
                    also.add(key)
            except ValueError:
                pass
        elif "/" not in ind and ":" not in ind and not ind[0].isdigit() and obs.endswith("." + ind):
            also.add(key)  # a planted subdomain of a domain listed in a larger set
    false = got - expected - also
    missed = expected - got
    fmts = sorted(set(fmt_of.values()))
    ok = True
    for fm in fmts:
        e = sum(1 for (ln, _) in expected if fmt_of.get(ln) == fm)
        g = sum(1 for (ln, _) in got - also if fmt_of.get(ln) == fm)
        fa = sum(1 for (ln, _) in false if fmt_of.get(ln) == fm)
        mi = sum(1 for (ln, _) in missed if fmt_of.get(ln) == fm)
        print("  %-6s expected %6d  hits %6d  false %d  missed %d" % (fm, e, g, fa, mi))
    stray = sum(1 for (ln, _) in false if ln not in fmt_of)
    on_decoys = sum(1 for (ln, _) in got if ln in decoys and ln not in fmt_of)
    print("  total  expected %6d  hits %6d  false %d (on decoy lines %d, elsewhere %d)  "
          "missed %d%s%s" % (len(expected), len(got - also), len(false), on_decoys, stray - on_decoys,
                           len(missed),
                           "  (also true, checked: %d planted addresses or hosts inside a listed "
                           "network or domain the truth does not name)" % len(also) if also else "",
                           "  (withheld: %d truth lines whose indicator was not yet valid)"
                           % withheld if record_time else ""))
    for x in sorted(false)[:5]:
        print("    false:", x)
    for x in sorted(missed)[:5]:
        print("    missed:", x)
    ok = not false and not missed
    sys.exit(0 if ok else 1)


def line_times(log, wanted):
    """The own timestamp (ms) of the wanted line numbers of a gen_logs.py mixed log."""
    out = {}
    if not wanted:
        return out
    last = max(wanted)
    with open(log, "rb") as f:
        for ln, raw in enumerate(f, 1):
            if ln > last:
                break
            if ln not in wanted:
                continue
            s = raw.decode("utf-8", "replace")
            if s.startswith('{"timestamp":"'):
                out[ln] = iso_ms(s[14:38])
            else:
                tok = s.split(None, 1)[0]
                sec, _, frac = tok.partition(".")
                try:
                    out[ln] = int(sec) * 1000 + int((frac + "000")[:3])
                except ValueError:
                    out[ln] = None
    return out


if __name__ == "__main__":
    main()
