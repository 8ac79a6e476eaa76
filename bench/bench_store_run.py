#!/usr/bin/env python3
"""The store through `zmem run`, backend against backend, in one run.

For each backend (memory, then an SQLite file with --sync normal, and full
when asked), runs N store requests then N retrieve requests through one
`zmem run` process, one call per request and in batches of 100, several
times, and prints each median with the ratio to the memory backend: wall
time, and the CPU time of the zmem process, which holds on a loaded machine
where wall time does not; the ratios use CPU time. Each phase is measured
inside the one process: the requests go through a pipe, and once every
answer of the phase is read, the process's time on the CPU (user + system,
in nanoseconds, from /proc/PID/schedstat) is read, so the retrieves of both
backends are timed alike, after the stores, in the process that made them,
with no subtraction of two runs. Also times opening (one retrieve) a
database of M versions against an empty one (getrusage of the whole
process). Nothing here passes or fails on time.

Where bench_sqlite_floor is found (beside zmem's build, or --floor PATH),
also prints what SQLite alone costs for its cheapest read and write, each in
its own transaction, as a multiple of the memory backend's whole call in the
same run: the least the sqlite backend's one-call requests can cost. And,
against the memory backend's batched calls, SQLite's own part of the
batched ones: the backend's read of a key's latest version, on the database
the batched stores wrote, and FTS5 indexing the stores' tokens.

usage: bench_store_run.py ZMEM [N] [REPEAT] [--open-versions M] [--floor PATH]
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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


def cpu_children():
    """User + system seconds of the waited-for children so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(zmem, db, text, sync):
    """(wall, cpu) seconds one `zmem run --db db` takes to answer text; cpu is
    the process's user + system time."""
    args = [zmem, "run", "--db", db]
    if sync:
        args += ["--sync", sync]
    c0 = cpu_children()
    t0 = time.perf_counter()
    p = subprocess.run(args, input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    dc = cpu_children() - c0
    if p.returncode != 0 or b'"ok":false' in p.stdout:
        sys.exit("zmem run failed on %s: %s %s" % (db, p.stderr.decode()[:300],
                                                    p.stdout.decode()[:300]))
    return dt, dc


def on_cpu(pid):
    """Seconds the process pid has spent on a CPU (user + system), to the
    nanosecond: the first field of /proc/PID/schedstat."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def phases(zmem, db, texts, sync):
    """Runs one `zmem run --db db` process answering each text in turn; for
    each, (wall, cpu) seconds from its first request written to its last
    answer read, cpu being the process's own time on the CPU meanwhile."""
    args = [zmem, "run", "--db", db]
    if sync:
        args += ["--sync", sync]
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = []
    try:
        for text in texts:
            lines = text.count("\n")
            writer = threading.Thread(target=lambda t=text: (p.stdin.write(t.encode()),
                                                             p.stdin.flush()))
            c0 = on_cpu(p.pid)
            t0 = time.perf_counter()
            writer.start()
            for _ in range(lines):
                line = p.stdout.readline()
                if not line or b'"ok":false' in line:
                    sys.exit("zmem run failed on %s: %s %s" % (db, line.decode()[:300],
                                                                p.stderr.read().decode()[:300]))
            dt = time.perf_counter() - t0
            out.append((dt, on_cpu(p.pid) - c0))
            writer.join()
    finally:
        p.stdin.close()
        p.wait()
    if p.returncode != 0:
        sys.exit("zmem run exited with %d on %s" % (p.returncode, db))
    return out


def main():
    argv, opts, args = [], {}, sys.argv[1:]
    while args:
        a = args.pop(0)
        if a in ("--open-versions", "--floor"):
            opts[a] = args.pop(0)
        elif not a.startswith("--"):
            argv.append(a)
    zmem = argv[0]
    n = int(argv[1]) if len(argv) > 1 else 100000
    repeat = int(argv[2]) if len(argv) > 2 else 3
    open_versions = int(opts.get("--open-versions", 1000000))
    floor = opts.get("--floor", os.path.join(os.path.dirname(os.path.abspath(zmem)), "..",
                                             "bench", "bench_sqlite_floor"))
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
                    db = ":memory:" if name == "memory" else os.path.join(work, "b%d-%s-%d.db" % (batch, sync, r))
                    t_put, t_get = phases(zmem, db, [put, get], sync)
                    puts.append(t_put)
                    gets.append(t_get)
                for op, xs in (("store", puts), ("retrieve", gets)):
                    results[(batch, label, op)] = (statistics.median(x[0] for x in xs),
                                                   statistics.median(x[1] for x in xs))
        print("zmem run, %d store then %d retrieve requests, median of %d "
              "(wall s; CPU s = user + system of zmem; ratio to memory by CPU time)"
              % (n, n, repeat))
        for batch in (1, 100):
            for op in ("store", "retrieve"):
                base = results[(batch, "memory", op)][1]
                for (b, label, o), (t, c) in results.items():
                    if b != batch or o != op:
                        continue
                    print("  batch %-3d %-8s %-20s wall %8.3f s  cpu %8.3f s  %8.0f calls/cpu-s"
                          "  %6.2fx" % (batch, op, label, t, c, n / c, c / base))
        if os.access(floor, os.X_OK):
            # The database of the first batched sqlite run: its stores are
            # the ones the batched retrieves read.
            store_db = os.path.join(work, "b100-normal-0.db")
            p = subprocess.run([floor, work, str(n), store_db], stdout=subprocess.PIPE, check=True)
            f = dict((k, float(v)) for k, v in (l.split() for l in p.stdout.decode().splitlines()))
            get_us = results[(1, "memory", "retrieve")][1] / n * 1e6
            put_us = results[(1, "memory", "store")][1] / n * 1e6
            print("SQLite alone (bench_sqlite_floor, CPU a statement), against the memory "
                  "backend's whole call (batch 1: store %.3f us, retrieve %.3f us):" % (put_us, get_us))
            print("  one-row read, its own transaction   %7.3f us  %6.2fx a memory retrieve"
                  % (f["read"], f["read"] / get_us))
            print("  one-row read, in one transaction    %7.3f us  %6.2fx a memory retrieve"
                  % (f["read_txn"], f["read_txn"] / get_us))
            print("  one-row insert, its own transaction %7.3f us  %6.2fx a memory store"
                  % (f["write"], f["write"] / put_us))
            bget_us = results[(100, "memory", "retrieve")][1] / n * 1e6
            bput_us = results[(100, "memory", "store")][1] / n * 1e6
            print("SQLite's own part of a batched call, against the memory backend's whole call "
                  "(batch 100: store %.3f us, retrieve %.3f us):" % (bput_us, bget_us))
            print("  the backend's read of a key's latest version, in one transaction  %7.3f us"
                  "  %6.2fx a memory retrieve" % (f["get_txn"], f["get_txn"] / bget_us))
            print("  FTS5 indexing one store's tokens (passes of 2048 keys)            %7.3f us"
                  "  %6.2fx a memory store" % (f["fts"], f["fts"] / bput_us))
            print("  the backend's statements writing one store's version, 100 a commit  %7.3f us"
                  "  %6.2fx a memory store" % (f["write_txn"], f["write_txn"] / bput_us))
            both = f["fts"] + f["write_txn"]
            print("  the two together (a batched store's SQLite, all but the search passes' "
                  "reads and strings)  %7.3f us  %6.2fx a memory store" % (both, both / bput_us))
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
        t_big = statistics.median(run(zmem, big, probe, None)[1] for _ in range(max(repeat, 5)))
        t_empty = statistics.median(run(zmem, empty, probe, None)[1]
                                    for _ in range(max(repeat, 5)))
        print("open and one retrieve (CPU): %d versions %.4f s, empty %.4f s: %.2fx" %
              (open_versions, t_big, t_empty, t_big / t_empty))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
