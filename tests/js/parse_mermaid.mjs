// Parse Mermaid diagrams with the real parser (the npm package `mermaid`), as GitHub renders them.
// Input: a JSON array of diagram texts on standard input. Output: a JSON array, one entry per diagram:
// {"ok": true, "type": "<diagram type>"} or {"ok": false, "error": "<the parser's message>"}.
// mermaid's sanitiser (DOMPurify) needs a DOM, which Node lacks: jsdom provides one.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMPurify = undefined;

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const text of JSON.parse(input)) {
  try {
    const res = await mermaid.parse(text);
    out.push({ ok: true, type: res.diagramType });
  } catch (e) {
    out.push({ ok: false, error: String(e && e.message ? e.message : e) });
  }
}
process.stdout.write(JSON.stringify(out));
