// Polls a condition until it yields a value (anything but undefined or false), or fails
// with what was awaited. The one wait helper of the process-level tests.
export async function waitFor<T>(f: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string, everyMs = 25): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
