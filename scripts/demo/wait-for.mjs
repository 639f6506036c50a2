// Polls `cond` until it returns something truthy; a throw counts as "not yet".
export async function waitFor(what, ms, cond, everyMs = 150) {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch {}
    if (Date.now() - t0 > ms) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
