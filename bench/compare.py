#!/usr/bin/python3
"""Compares a `ctix export` bundle with the bundles that were imported, as JSON values.

usage: compare.py EXPORT.json INPUT.json...
       compare.py --count INPUT.json...     (prints the number of input objects)

Objects are matched by (id, version), version being modified, else created, else none. The first
copy of a version in input order is the one expected (the store keeps the first copy). Prints the
counts, then up to 5 differences with the first JSON path where they part.
"""
import json
import sys


def key(o):
    return (o.get("id", ""), o.get("modified", o.get("created", "")))


def objects(path):
    """The objects of a bundle, of an envelope-shaped {"objects": [...]}, or a lone object."""
    with open(path, "rb") as f:
        doc = json.load(f)
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        return doc.get("objects", [])
    if isinstance(doc, dict) and "objects" in doc:
        return doc["objects"]
    if isinstance(doc, dict) and "type" in doc:
        return [doc]
    return []


def first_diff(a, b, path="$"):
    if type(a) is not type(b):
        return path, a, b
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}", a.get(k, "<absent>"), b.get(k, "<absent>")
            d = first_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}[len]", len(a), len(b)
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else (path, a, b)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if sys.argv[1] == "--count":
        print(sum(len(objects(p)) for p in sys.argv[2:]))
        return 0
    want, n_in, in_conflicts = {}, 0, 0
    for p in sys.argv[2:]:
        for o in objects(p):
            n_in += 1
            k = key(o)
            if k in want:
                in_conflicts += want[k] != o
            else:
                want[k] = o
    got = {}
    n_out = 0
    for o in objects(sys.argv[1]):
        n_out += 1
        got[key(o)] = o
    equal = differ = 0
    diffs = []
    for k, o in got.items():
        if k not in want:
            continue
        if o == want[k]:
            equal += 1
        else:
            differ += 1
            if len(diffs) < 5:
                diffs.append((k, first_diff(want[k], o)))
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    print(f"input objects={n_in} distinct_versions={len(want)} "
          f"input_same_version_different_content={in_conflicts}")
    print(f"exported={n_out} stored_of_input={len(want) - len(missing)} "
          f"not_stored={len(missing)} extra={len(extra)}")
    print(f"equal={equal} differing={differ}")
    for k, d in diffs:
        print(f"  differs {k[0]} {k[1]}: at {d[0]}: input {json.dumps(d[1])[:80]} "
              f"export {json.dumps(d[2])[:80]}")
    by_type = {}
    for k in missing:
        t = k[0].split("--")[0]
        by_type[t] = by_type.get(t, 0) + 1
    if by_type:
        print("  not stored by type: " +
              ", ".join(f"{t}={n}" for t, n in sorted(by_type.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
