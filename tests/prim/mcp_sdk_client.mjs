// Drives `zmem mcp` with the official MCP TypeScript SDK (Client +
// StdioClientTransport): initialize, tools/list, tools/call of store and
// retrieve, a tool error (isError), an unknown tool (a protocol error) and
// ping. Exits 0 when everything holds.
//
//   node mcp_sdk_client.mjs PATH_TO_ZMEM
//
// Run from a directory where @modelcontextprotocol/sdk is installed
// (.ci/gates.d/mcp_sdk.sh copies it next to a fresh install).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const zmem = process.argv[2];
if (!zmem) {
  console.error("usage: node mcp_sdk_client.mjs PATH_TO_ZMEM");
  process.exit(2);
}

let failures = 0;
function check(cond, what, detail) {
  if (cond) {
    console.log(`ok   ${what}`);
  } else {
    failures++;
    console.log(`FAIL ${what}${detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
  }
}

const transport = new StdioClientTransport({ command: zmem, args: ["mcp"], stderr: "inherit" });
const client = new Client({ name: "zmem-sdk-test", version: "1.0.0" });
try {
  await client.connect(transport);

  const info = client.getServerVersion();
  check(info && info.name === "zmem", "initialize: serverInfo.name is zmem", info);
  const caps = client.getServerCapabilities();
  check(caps && typeof caps.tools === "object", "initialize: tools capability", caps);

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  check(names.includes("store") && names.includes("retrieve"), "tools/list has store and retrieve", names);
  for (const t of tools) {
    check(t.inputSchema && t.inputSchema.type === "object" && typeof t.description === "string",
          `tools/list: ${t.name} has a description and an object inputSchema`, t);
  }

  const stored = await client.callTool({
    name: "store",
    arguments: { key: "sdk/greeting", value: { hello: "world", n: 1 }, metadata: { from: "sdk" } },
  });
  check(!stored.isError, "tools/call store succeeds", stored);
  check(Array.isArray(stored.content) && stored.content[0].type === "text", "store: text content", stored);
  const storedText = JSON.parse(stored.content[0].text);
  check(storedText.key === "sdk/greeting", "store: the text is the result as JSON", storedText);
  check(stored.structuredContent && stored.structuredContent.key === "sdk/greeting",
        "store: structuredContent", stored.structuredContent);

  await client.callTool({ name: "store", arguments: { key: "sdk/greeting", value: { hello: "again" } } });
  const got = await client.callTool({ name: "retrieve", arguments: { key: "sdk/greeting", history: true } });
  const r = got.structuredContent || {};
  check(!got.isError && r.exists === true, "tools/call retrieve finds the key", got);
  check(r.value && r.value.hello === "again", "retrieve: the latest value", r.value);
  check(Array.isArray(r.history) && r.history.length === 2, "retrieve: the history has both versions", r.history);

  const missing = await client.callTool({ name: "retrieve", arguments: { key: "sdk/none" } });
  check(!missing.isError && missing.structuredContent.exists === false, "retrieve: a missing key is exists:false", missing);

  const bad = await client.callTool({ name: "store", arguments: { value: 1 } });
  check(bad.isError === true, "a primitive's error is a result with isError", bad);
  check(bad.structuredContent && bad.structuredContent.error &&
        bad.structuredContent.error.code === "invalid_params", "the error says invalid_params", bad);

  let protocolError = null;
  try {
    await client.callTool({ name: "no_such_tool", arguments: {} });
  } catch (e) {
    protocolError = e;
  }
  check(protocolError !== null && protocolError.code === -32602, "an unknown tool is a JSON-RPC error -32602",
        protocolError && protocolError.message);

  const pong = await client.ping();
  check(pong !== undefined, "ping", pong);
} catch (e) {
  failures++;
  console.log(`FAIL unexpected exception: ${e && e.stack ? e.stack : e}`);
} finally {
  await client.close();
}
console.log(failures === 0 ? "mcp sdk client: all checks passed" : `mcp sdk client: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
