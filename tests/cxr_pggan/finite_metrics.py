"""Exit 0 when every line of a metrics.jsonl holds a finite number under each of the given keys.

Usage: finite_metrics.py METRICS.jsonl KEY [KEY ...]
nlohmann::json writes NaN and infinity as null, so a grep for "nan" can never fail: this parses each
line and rejects null, a missing key, a non-number and a non-finite value.
"""
import json
import math
import sys

path, keys = sys.argv[1], sys.argv[2:]
bad = []
with open(path) as f:
    lines = [line for line in f if line.strip()]
for n, line in enumerate(lines, 1):
    record = json.loads(line)
    for k in keys:
        v = record.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            bad.append(f"line {n}: {k} = {v!r}")
if not lines:
    bad.append("no records")
for b in bad[:20]:
    print(f"{path}: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
