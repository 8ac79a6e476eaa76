#!/usr/bin/env python3
"""Resident memory of `zmem mcp` over many stores: sends N tools/call store
requests (JSON-RPC lines, distinct keys) to one `zmem mcp --db DB` and prints
its VmRSS at each checkpoint. Nothing passes or fails on a figure.

usage: mcp_rss.py ZMEM [N] [DB]   (DB default: a temporary SQLite file)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    zmem = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    work = tempfile.mkdtemp(prefix="zmem-rss-")
    db = sys.argv[3] if len(sys.argv) > 3 else os.path.join(work, "rss.db")
    p = subprocess.Popen([zmem, "mcp", "--db", db], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=sys.stderr, bufsize=1 << 20)
    answered = [0]
    checkpoints = sorted({c for c in (1000, 10000, 100000, 250000, 500000, 1000000, n) if c <= n})
    marks = {}
    lock = threading.Condition()

    def reader():
        for line in p.stdout:
            msg = json.loads(line)
            if "error" in msg or msg.get("result", {}).get("isError"):
                print("error:", line[:300], file=sys.stderr)
                os._exit(1)
            with lock:
                answered[0] += 1
                if answered[0] - 1 in marks:
                    lock.notify_all()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    w = p.stdin
    w.write(b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":'
            b'"2025-06-18","capabilities":{},"clientInfo":{"name":"rss","version":"1"}}}\n'
            b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    sent = 0
    print("zmem mcp --db %s: resident memory while storing %d distinct keys" % (
        "(temporary sqlite file)" if len(sys.argv) <= 3 else db, n))
    for c in checkpoints:
        chunk = []
        while sent < c:
            sent += 1
            chunk.append('{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"store",'
                          '"arguments":{"key":"key/%d","value":{"text":"note %d about the weather",'
                          '"n":%d}}}}\n' % (sent, sent, sent, sent))
            if len(chunk) == 1000:
                w.write("".join(chunk).encode())
                chunk = []
        w.write("".join(chunk).encode())
        w.flush()
        with lock:
            marks[c] = True
            while answered[0] < c + 1:
                lock.wait()
        print("  after %8d stores: VmRSS %7d KiB" % (c, rss_kib(p.pid)), flush=True)
    w.close()
    p.wait()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
