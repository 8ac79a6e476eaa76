// Drives `zmem mcp` with the official MCP TypeScript SDK (Client +
// StdioClientTransport): initialize, tools/list, tools/call of store and
// retrieve, a tool error (isError), an unknown tool (a protocol error),
// prompts (templates put with template_put, then listPrompts and getPrompt,
// an unknown prompt and a missing argument, a deleted template) and ping. Exits 0 when
// everything holds.
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

  const mem1 = await client.callTool({ name: "memory", arguments: {} });
  const m1 = mem1.structuredContent || {};
  check(!mem1.isError && Number.isInteger(m1.id) && m1.store && m1.store.backend === "sqlite",
        "tools/call memory: a report with the store's figure", mem1);
  const mem2 = await client.callTool({ name: "memory", arguments: { since: m1.id } });
  const m2 = mem2.structuredContent || {};
  check(!mem2.isError && m2.since === m1.id && m2.delta && m2.delta.calls === 1,
        "tools/call memory since: the delta since the first report", mem2);

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

  // Prompts: the templates stored with template_put.
  check(caps && typeof caps.prompts === "object", "initialize: prompts capability", caps);
  const tag = `${process.pid}-${Date.now()}`;
  const summary = `sdk-summary-${tag}`, chat = `sdk-chat-${tag}`;
  const put1 = await client.callTool({
    name: "template_put",
    arguments: { name: summary, template: "Summarize {{topic}} in {{n}} bullets", description: "Ask for a summary" },
  });
  check(!put1.isError && put1.structuredContent.placeholders.join() === "topic,n", "template_put: placeholders", put1);
  const put2 = await client.callTool({
    name: "template_put",
    arguments: {
      name: chat,
      template: {
        description: "A short chat",
        messages: [
          { role: "user", content: "Hello, I am {{who}}." },
          { role: "assistant", content: { type: "text", text: "Welcome, {{who}}!" } },
        ],
      },
    },
  });
  check(!put2.isError, "template_put: a chat template", put2);

  const { prompts } = await client.listPrompts();
  const p1 = prompts.find((p) => p.name === summary);
  check(p1 !== undefined, "prompts/list has the template", prompts.map((p) => p.name));
  check(p1 && p1.description === "Ask for a summary", "prompts/list: the description", p1);
  check(p1 && Array.isArray(p1.arguments) && p1.arguments.map((a) => a.name).join() === "topic,n" &&
        p1.arguments.every((a) => a.required === true), "prompts/list: placeholders as required arguments", p1);

  const got1 = await client.getPrompt({ name: summary, arguments: { topic: "arenas", n: "3" } });
  check(got1.messages.length === 1 && got1.messages[0].role === "user" &&
        got1.messages[0].content.type === "text" &&
        got1.messages[0].content.text === "Summarize arenas in 3 bullets", "prompts/get renders the template", got1);
  const got2 = await client.getPrompt({ name: chat, arguments: { who: "Ada" } });
  check(got2.description === "A short chat" && got2.messages.length === 2 &&
        got2.messages[0].content.text === "Hello, I am Ada." && got2.messages[1].role === "assistant" &&
        got2.messages[1].content.text === "Welcome, Ada!", "prompts/get: a list of messages", got2);

  // A new version is what the next getPrompt renders.
  await client.callTool({ name: "template_put", arguments: { name: summary, template: "v2 {{topic}} {{n}}" } });
  const got3 = await client.getPrompt({ name: summary, arguments: { topic: "pools", n: "2" } });
  check(got3.messages[0].content.text === "v2 pools 2", "prompts/get: the latest version", got3);

  for (const [what, req, part] of [
    ["an unknown prompt", { name: `sdk-none-${tag}` }, "no template named"],
    ["a missing argument", { name: summary, arguments: { topic: "x" } }, "{{n}}"],
  ]) {
    let err = null;
    try {
      await client.getPrompt(req);
    } catch (e) {
      err = e;
    }
    check(err !== null && err.code === -32602 && String(err.message).includes(part),
          `prompts/get: ${what} is a JSON-RPC error -32602 naming it`, err && err.message);
  }

  // A deleted template is no prompt any more.
  const del = await client.callTool({ name: "template_delete", arguments: { name: summary } });
  check(!del.isError && del.structuredContent.deleted === true, "template_delete", del);
  const after = (await client.listPrompts()).prompts;
  check(!after.some((p) => p.name === summary) && after.some((p) => p.name === chat),
        "prompts/list: the deleted template is gone", after.map((p) => p.name));
  let gone = null;
  try {
    await client.getPrompt({ name: summary, arguments: { topic: "x", n: "1" } });
  } catch (e) {
    gone = e;
  }
  check(gone !== null && gone.code === -32602 && String(gone.message).includes("no template named"),
        "prompts/get: a deleted template is a JSON-RPC error -32602", gone && gone.message);

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
