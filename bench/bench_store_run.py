#!/usr/bin/env python3
"""The store through `zmem run`, backend against backend, in one run.

For each backend (memory, then an SQLite file with --sync normal, and full
when asked), runs N store requests then N retrieve requests through one
`zmem run` process, one call per request and in batches of 100, several
times, and prints each median with the ratio to the memory backend. Also
times opening (one retrieve) a database of M versions against an empty one.
Nothing here passes or fails on time.

usage: bench_store_run.py ZMEM [N] [REPEAT] [--open-versions M]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def requests(n, op, batch):
    """The text of n requests of op (store or retrieve), batch calls a line."""
    lines = []
    calls = []
    for i in range(n):
        if op == "store":
            call = '{"primitive":"store","params":{"key":"key/%d","value":{"n":%d,"text":"note %d about the weather"}}}' % (i % (n // 2 or 1), i, i)
        else:
            call = '{"primitive":"retrieve","params":{"key":"key/%d"}}' % (i % (n // 2 or 1))
        if batch == 1:
            lines.append(call[:1] + '"id":%d,' % i + call[1:])
        else:
            calls.append(call)
            if len(calls) == batch:
                lines.append('{"id":%d,"batch":[%s]}' % (i, ",".join(calls)))
                calls = []
    if calls:
        lines.append('{"id":%d,"batch":[%s]}' % (n, ",".join(calls)))
    return "\n".join(lines) + "\n"


def run(zmem, db, text, sync):
    """Seconds one `zmem run --db db` takes to answer text (wall)."""
    args = [zmem, "run", "--db", db]
    if sync:
        args += ["--sync", sync]
    t0 = time.perf_counter()
    p = subprocess.run(args, input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0 or b'"ok":false' in p.stdout:
        sys.exit("zmem run failed on %s: %s %s" % (db, p.stderr.decode()[:300],
                                                    p.stdout.decode()[:300]))
    return dt


def main():
    argv = [a for a in sys.argv[1:] if not a.startswith("--")]
    zmem = argv[0]
    n = int(argv[1]) if len(argv) > 1 else 100000
    repeat = int(argv[2]) if len(argv) > 2 else 3
    open_versions = 1000000
    if "--open-versions" in sys.argv:
        open_versions = int(sys.argv[sys.argv.index("--open-versions") + 1])
    work = tempfile.mkdtemp(prefix="zmem-bench-")
    try:
        backends = [("memory", None), ("sqlite", "normal")]
        if "--full" in sys.argv:
            backends.append(("sqlite", "full"))
        results = {}
        for batch in (1, 100):
            put = requests(n, "store", batch)
            get = requests(n, "retrieve", batch)
            for name, sync in backends:
                label = name if sync is None else "%s (sync %s)" % (name, sync)
                puts, gets = [], []
                for r in range(repeat):
                    if name == "memory":
                        # One process: the stores, then the retrieves.
                        t_put = run(zmem, ":memory:", put, None)
                        t_both = run(zmem, ":memory:", put + get, None)
                        puts.append(t_put)
                        gets.append(max(t_both - t_put, 1e-9))
                    else:
                        db = os.path.join(work, "b%d-%d.db" % (batch, r))
                        puts.append(run(zmem, db, put, sync))
                        gets.append(run(zmem, db, get, sync))
                results[(batch, label, "store")] = statistics.median(puts)
                results[(batch, label, "retrieve")] = statistics.median(gets)
        print("zmem run, %d store then %d retrieve requests, median of %d (wall s; ratio to memory)"
              % (n, n, repeat))
        for batch in (1, 100):
            for op in ("store", "retrieve"):
                base = results[(batch, "memory", op)]
                for (b, label, o), t in results.items():
                    if b != batch or o != op:
                        continue
                    print("  batch %-3d %-8s %-20s %8.3f s  %8.0f calls/s  %6.2fx" %
                          (batch, op, label, t, n / t, t / base))
        # Opening: a database of open_versions versions against an empty one.
        big = os.path.join(work, "big.db")
        step = 100000
        for start in range(0, open_versions, step):
            text = "".join('{"id":%d,"batch":[%s]}\n' % (i, ",".join(
                '{"primitive":"store","params":{"key":"k%d","value":%d}}' % (j % (open_versions // 4 or 1), j)
                for j in range(i, min(i + 100, open_versions))))
                for i in range(start, min(start + step, open_versions), 100))
            run(zmem, big, text, None)
        empty = os.path.join(work, "empty.db")
        probe = '{"id":1,"primitive":"retrieve","params":{"key":"k1"}}\n'
        run(zmem, empty, probe, None)
        t_big = statistics.median(run(zmem, big, probe, None) for _ in range(max(repeat, 5)))
        t_empty = statistics.median(run(zmem, empty, probe, None) for _ in range(max(repeat, 5)))
        print("open and one retrieve: %d versions %.4f s, empty %.4f s: %.2fx" %
              (open_versions, t_big, t_empty, t_big / t_empty))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
