#!/usr/bin/env python3
"""Writes a mesh-like JSON file for bench_json: float arrays as a 3D exporter
writes them (vertex positions, normals, texture coordinates) and integer
index arrays, compact, no spaces. The same bytes on every run (fixed seed).

usage: gen_mesh.py OUT_FILE
"""
import json
import random
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    rnd = random.Random(14)
    batches = []
    for b in range(4):
        n = 4000 + 1000 * b  # vertices in this batch
        positions, normals, uvs = [], [], []
        for _ in range(n):
            positions += [round(rnd.uniform(-120.0, 120.0), 4) for _ in range(3)]
            normals += [round(rnd.uniform(-1.0, 1.0), 6) for _ in range(3)]
            uvs += [round(rnd.uniform(0.0, 1.0), 5) for _ in range(2)]
        indices = [rnd.randrange(n) for _ in range(3 * n)]
        batches.append({
            "name": "batch%d" % b,
            "material": {"diffuse": [round(rnd.random(), 3) for _ in range(3)],
                         "shininess": round(rnd.uniform(1, 100), 2)},
            "positions": positions,
            "normals": normals,
            "uvs": uvs,
            "indices": indices,
        })
    doc = {"format": "mesh", "version": 2, "batches": batches}
    with open(sys.argv[1], "w", encoding="ascii") as f:
        f.write(json.dumps(doc, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
