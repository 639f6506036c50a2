// The delivery model: what each client actually gets through its gateway.
//
// A gateway's real uplink is shared max-min fairly (water-filling, as competing TCP
// flows roughly share a bottleneck) among the clients it carries, each client
// getting at most its cap = min(demand, mesh path rate to that gateway). A gateway
// that is down delivers nothing. Work-conserving: the uplink is never idle while a
// carried client wants more. So a gateway that takes on more than it can carry
// shortchanges all its clients, not only the newest.

/** Fills `out[client]` for `clients`; returns the gateway's total load. */
export function allocateFair(clients: readonly number[], capOf: (client: number) => number, capacityKbps: number, out: Float64Array): number {
  let remaining = capacityKbps > 0 ? capacityKbps : 0;
  const caps = clients.map((c) => ({ c, cap: Math.max(0, capOf(c)) })).sort((a, b) => a.cap - b.cap);
  let load = 0;
  for (let i = 0; i < caps.length; i++) {
    const { c, cap } = caps[i]!;
    const x = Math.min(cap, remaining / (caps.length - i));
    out[c] = x;
    remaining -= x;
    load += x;
  }
  return load;
}

/** Whether a gateway's uplink works at `t` (real state, not anybody's estimate of it). */
export function uplinkUp(outages: readonly { downAt: number; upAt: number }[], t: number, delayMs = 0): boolean {
  for (const o of outages) if (t >= o.downAt + delayMs && t < o.upAt + delayMs) return false;
  return true;
}

/** kbit/s over one second, as msat at a price in msat/KiB: kbit → KiB is ×1000/8/1024. */
export const KIB_PER_KBIT = 1000 / 8 / 1024;
