#!/usr/bin/env python3
"""Writes the bench-data files again the way other writers lay them out, so
that bench_json can show how each parser copes with the common layouts:

  NAME.python.json   Python's json.dumps defaults: ", " and ": " separators,
                     every non-ASCII character escaped as \\uXXXX
  NAME.compact.json  no whitespace at all, UTF-8 as is

usage: json_variants.py SRC_DIR OUT_DIR FILE...
"""
import json
import os
import sys


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[3:]:
        path = os.path.join(src, name + ".json")
        if not os.path.exists(path):
            print(f"json_variants.py: {path} not found; skipped", file=sys.stderr)
            continue
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        with open(os.path.join(out, name + ".python.json"), "w", encoding="ascii") as f:
            f.write(json.dumps(value))
        with open(os.path.join(out, name + ".compact.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
