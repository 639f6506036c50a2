// The devchain's Esplora endpoints as the demo uses them, reached two ways: with fetch
// (proxy mode: the chain is on loopback) or with curl inside a network namespace (nft
// mode: the chain listens on the mesh segment, which the host cannot reach).
// `request` answers { ok, status, text } and throws only when nothing answered.
import { execFile } from 'node:child_process';

export function fetchChain(base) {
  return withHelpers(base, async (method, path, body) => {
    const r = await fetch(base + path, body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { ok: r.ok, status: r.status, text: await r.text() };
  });
}

export function nsChain(ns, base, timeoutS = 5) {
  return withHelpers(base, (method, path, body) => new Promise((resolve, reject) => {
    const data = body === undefined ? [] : ['-H', 'content-type: application/json', '--data-binary', JSON.stringify(body)];
    // -w appends the status on its own line, so a body without a final newline still splits.
    const args = ['netns', 'exec', ns, 'curl', '-s', '-m', String(timeoutS), '-X', method, ...data, '-w', '\n%{http_code}', base + path];
    execFile('ip', args, { maxBuffer: 16 << 20 }, (err, stdout) => {
      const cut = stdout.lastIndexOf('\n');
      const status = Number(stdout.slice(cut + 1));
      if (err || !(status > 0)) return reject(new Error(`${method} ${base}${path}: no answer${err ? ` (${err.message.split('\n')[0]})` : ''}`));
      resolve({ ok: status >= 200 && status < 300, status, text: stdout.slice(0, cut) });
    });
  }));
}

function withHelpers(base, request) {
  return {
    base,
    request,
    /** POST with a JSON body; the JSON answer (or {}), or a thrown error on a non-2xx status. */
    async post(path, body) {
      const r = await request('POST', path, body);
      if (!r.ok) throw new Error(`${base}${path}: ${r.status} ${r.text}`);
      try {
        return JSON.parse(r.text);
      } catch {
        return {};
      }
    },
  };
}
