import { ERROR_CODES, statusOf, titleOf } from '../../errors.js';

/**
 * A self-contained reference UI for `/openapi.json` (no CDN): it lists every operation
 * with its method, path, policies and schemas, and the problem codes the API answers with.
 */
export function docsHtml(): string {
  const problems = ERROR_CODES.map((c) => `<tr id="problem-${c}"><td><code>${c}</code></td><td>${statusOf(c)}</td><td>${titleOf(c)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Latchkey API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafbfc}
header{padding:16px 24px;background:#14213d;color:#fff}main{max-width:1100px;margin:0 auto;padding:16px 24px}
details{background:#fff;border:1px solid #d8dee4;border-radius:6px;margin:8px 0;padding:8px 12px}
summary{cursor:pointer}.m{display:inline-block;min-width:64px;font-weight:700}.GET{color:#1a7f37}.POST{color:#0969da}.PATCH,.PUT{color:#9a6700}.DELETE{color:#cf222e}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}table{border-collapse:collapse}td,th{border:1px solid #d8dee4;padding:4px 8px}
</style></head><body><header><strong>Latchkey API reference</strong> · <a style="color:#9cf" href="/openapi.json">openapi.json</a></header>
<main><div id="ops">Loading…</div><h2>Problem codes</h2><table><tr><th>code</th><th>status</th><th>title</th></tr>${problems}</table></main>
<script src="/docs/app.js"></script></body></html>`;
}

/** The page's script, served separately so the CSP can forbid inline scripts. */
export const DOCS_SCRIPT = `
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const root = document.getElementById('ops'); root.textContent = '';
  const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const d = document.createElement('details');
    const x = op['x-latchkey'] || {};
    d.innerHTML = '<summary><span class="m ' + method.toUpperCase() + '">' + method.toUpperCase() + '</span> <code>' + esc(path) + '</code> — ' + esc(op.summary) + '</summary>'
      + '<p><code>' + esc(op.operationId) + '</code> v' + esc(x.version) + ' · ' + esc(x.kind) + ' · ' + esc(x.stability) + ' · ' + esc((x.owners||[]).join(', ')) + '</p>'
      + '<p>' + esc(op.description).replace(/\\n/g, '<br>') + '</p>'
      + '<p>Policies: ' + esc((x.policies||[]).map(p => p.key + '@' + p.version).join(', ')) + '</p>'
      + (op.parameters && op.parameters.length ? '<h4>Parameters</h4><pre>' + esc(JSON.stringify(op.parameters, null, 2)) + '</pre>' : '')
      + (op.requestBody ? '<h4>Body</h4><pre>' + esc(JSON.stringify(op.requestBody.content['application/json'].schema, null, 2)) + '</pre>' : '')
      + '<h4>Responses</h4><pre>' + esc(JSON.stringify(Object.keys(op.responses))) + '</pre>';
    root.appendChild(d);
  }
});
`;
