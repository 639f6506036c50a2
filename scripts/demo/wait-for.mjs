// Polls `cond` until it returns something truthy; a throw counts as "not yet". Used by
// the demo and the nft bench (plain .mjs scripts; the tests have scripts/testing/wait-for.ts).
export async function waitFor(what, ms, cond, everyMs = 150) {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch {}
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
