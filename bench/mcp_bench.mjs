// tools/call round trips through the official MCP TypeScript SDK client
// against `zmem mcp`, memory store against an SQLite file, with 1k and 100k
// keys already stored: the median of store and of retrieve calls at each
// size, with the ratio sqlite / memory. The two backends' calls are
// interleaved, one after the other. Nothing passes or fails on time.
//
//   taskset -c 0 node mcp_bench.mjs PATH_TO_ZMEM [CALLS]
//
// Pinned to one processor (taskset), the client and both servers share it,
// and every round trip is a hand-over on that processor. Free to move, a
// server the scheduler keeps beside the client answers faster than one it
// must wake on the other processor: in a run with two memory servers, the
// second was 2.3x to 3.0x slower unpinned, 0.99x to 1.01x pinned. The
// script says so on stderr when it is not pinned.
//
// Run from a directory where @modelcontextprotocol/sdk is installed (as the
// SDK gate does: npm install @modelcontextprotocol/sdk in a temporary folder
// and copy this file there).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

const zmem = process.argv[2];
const calls = Number(process.argv[3] || 2000);
if (!zmem) {
  console.error("usage: node mcp_bench.mjs PATH_TO_ZMEM [CALLS]");
  process.exit(2);
}

if (availableParallelism() > 1)
  console.error(
    "mcp_bench: not pinned to one processor: the ratios will measure where the " +
      "scheduler puts each server (run under taskset -c 0)",
  );

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function connect(db) {
  const transport = new StdioClientTransport({
    command: zmem,
    args: ["mcp", "--db", db],
    stderr: "inherit",
  });
  const client = new Client({ name: "zmem-bench", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

const value = { text: "a note about the weather and the sea", n: 1, tags: ["a", "b"] };

// One timed call: its round trip in microseconds.
async function timed(client, name, args) {
  const t0 = process.hrtime.bigint();
  const r = await client.callTool({ name, arguments: args });
  const us = Number(process.hrtime.bigint() - t0) / 1e3;
  if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r)}`);
  return us;
}

// Both backends at once, each with its own `zmem mcp` and client, their
// calls interleaved (which goes first alternates), so that both see the
// machine in the same state: round-trip latency moves a lot with the
// processor's state, and a ratio of two runs made one after the other
// would measure that too.
async function sessions(dbs, sizes) {
  const clients = [];
  for (const db of dbs) clients.push(await connect(db));
  const out = dbs.map(() => ({}));
  let stored = 0;
  for (const size of sizes) {
    // Fill up to size keys (through the same clients), then time.
    for (; stored < size; stored++)
      for (const c of clients)
        await c.callTool({ name: "store", arguments: { key: `key/${stored}`, value } });
    const put = dbs.map(() => []), get = dbs.map(() => []);
    for (let i = 0; i < calls; i++) {
      const key = `key/${(i * 7919) % size}`;
      for (let j = 0; j < clients.length; j++) {
        const k = (i + j) % clients.length;
        put[k].push(await timed(clients[k], "store", { key, value }));
        get[k].push(await timed(clients[k], "retrieve", { key }));
      }
    }
    dbs.forEach((_, k) => (out[k][size] = { store: median(put[k]), retrieve: median(get[k]) }));
  }
  for (const c of clients) await c.close();
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "zmem-mcp-bench-"));
try {
  const sizes = [1000, 100000];
  const [mem, sql] = await sessions([":memory:", join(dir, "bench.db")], sizes);
  console.log(`tools/call through the MCP SDK client, median of ${calls} calls (us)`);
  for (const size of sizes) {
    for (const op of ["store", "retrieve"]) {
      const m = mem[size][op], s = sql[size][op];
      console.log(
        `  ${String(size).padStart(6)} keys  ${op.padEnd(8)}  memory ${m.toFixed(1).padStart(7)}` +
          `  sqlite ${s.toFixed(1).padStart(7)}  sqlite/memory ${(s / m).toFixed(2)}x`,
      );
    }
  }
  for (const op of ["store", "retrieve"]) {
    console.log(
      `  sqlite ${op}: 100k keys / 1k keys ${(sql[100000][op] / sql[1000][op]).toFixed(2)}x`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
