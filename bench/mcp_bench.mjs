// tools/call round trips through the official MCP TypeScript SDK client
// against `zmem mcp`, memory store against an SQLite file, with 1k and 100k
// keys already stored: the median of store and of retrieve calls at each
// size, with the ratio sqlite / memory. Nothing passes or fails on time.
//
//   node mcp_bench.mjs PATH_TO_ZMEM [CALLS]
//
// Run from a directory where @modelcontextprotocol/sdk is installed (as the
// SDK gate does: npm install @modelcontextprotocol/sdk in a temporary folder
// and copy this file there).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const zmem = process.argv[2];
const calls = Number(process.argv[3] || 2000);
if (!zmem) {
  console.error("usage: node mcp_bench.mjs PATH_TO_ZMEM [CALLS]");
  process.exit(2);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function session(db, sizes) {
  const transport = new StdioClientTransport({
    command: zmem,
    args: ["mcp", "--db", db],
    stderr: "inherit",
  });
  const client = new Client({ name: "zmem-bench", version: "1.0.0" });
  await client.connect(transport);
  const out = {};
  let stored = 0;
  const value = { text: "a note about the weather and the sea", n: 1, tags: ["a", "b"] };
  for (const size of sizes) {
    // Fill up to size keys (through the same client), then time.
    while (stored < size) {
      await client.callTool({ name: "store", arguments: { key: `key/${stored}`, value } });
      stored++;
    }
    const put = [], get = [];
    for (let i = 0; i < calls; i++) {
      const key = `key/${(i * 7919) % size}`;
      let t0 = process.hrtime.bigint();
      const r1 = await client.callTool({ name: "store", arguments: { key, value } });
      put.push(Number(process.hrtime.bigint() - t0) / 1e3);
      t0 = process.hrtime.bigint();
      const r2 = await client.callTool({ name: "retrieve", arguments: { key } });
      get.push(Number(process.hrtime.bigint() - t0) / 1e3);
      if (r1.isError || r2.isError) throw new Error(`call failed: ${JSON.stringify([r1, r2])}`);
    }
    out[size] = { store: median(put), retrieve: median(get) };
  }
  await client.close();
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "zmem-mcp-bench-"));
try {
  const sizes = [1000, 100000];
  const mem = await session(":memory:", sizes);
  const sql = await session(join(dir, "bench.db"), sizes);
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
