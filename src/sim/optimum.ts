// The welfare optimum of one instance at one moment: an exact max-profit
// transportation problem, solved as min-cost flow by the primal-dual method
// (Dijkstra with potentials for the shortest-path distances, then Dinic's blocking
// flow on the zero-reduced-cost edges; repeat while a path still makes profit).
//
//   maximise   Σ_c Σ_g (value_c − cost_g) · x_cg
//   subject to Σ_g x_cg ≤ demand_c            (a client wants no more than it wants)
//              0 ≤ x_cg ≤ pathKbps_cg         (the mesh path limits what one client gets)
//              Σ_c x_cg ≤ capacity_g          (real uplink capacity; 0 while down)
//
// What "exact" covers: this is the exact optimum of that linear program (with integral
// profits, so every distance is an exact integer). It lets a client split its demand
// over several gateways, which no selector in the simulator can do, so it is an upper
// bound on every single-gateway assignment under the same delivery model (each
// simulated client gets ≤ min(demand, path) from one gateway, each gateway carries
// ≤ its real capacity): welfare ratios against it are conservative. A loose bound, though
// (path-limited clients add up slices of several slow paths), so the simulator measures
// against assignment-bound.ts by default and uses this one for `--bound split`.

export interface OptimumEdge {
  readonly client: number;
  readonly gateway: number;
  /** Upper bound on this client's goodput through this gateway (kbit/s). */
  readonly capKbps: number;
  /** value − cost per kbit/s; only edges with profit > 0 can matter. Integer. */
  readonly profit: number;
}

export interface OptimumProblem {
  readonly demandKbps: ArrayLike<number>;
  readonly capacityKbps: ArrayLike<number>;
  readonly edges: readonly OptimumEdge[];
}

export interface OptimumResult {
  /** Σ profit · flow (profit units × kbit/s). */
  readonly welfareRate: number;
  /** Flow on each input edge, in input order. */
  readonly flow: Float64Array;
  readonly phases: number;
}

const EPS = 1e-9;

export function solveOptimum(p: OptimumProblem): OptimumResult {
  const C = p.demandKbps.length;
  const G = p.capacityKbps.length;
  const S = 0;
  const T = C + G + 1;
  const V = T + 1;
  const useful = p.edges.map((e, i) => ({ e, i })).filter(({ e }) => e.profit > 0 && e.capKbps > EPS);
  const m = 2 * (C + G + useful.length);
  const g = new FlowGraph(V, m);
  for (let c = 0; c < C; c++) if (p.demandKbps[c]! > EPS) g.add(S, 1 + c, p.demandKbps[c]!, 0);
  const edgeIds: number[] = [];
  for (const { e } of useful) edgeIds.push(g.add(1 + e.client, 1 + C + e.gateway, e.capKbps, -e.profit));
  for (let j = 0; j < G; j++) if (p.capacityKbps[j]! > EPS) g.add(1 + C + j, T, p.capacityKbps[j]!, 0);

  // Initial potentials make every reduced cost ≥ 0 (the graph is a DAG s→c→g→t).
  const pi = new Float64Array(V);
  for (let j = 0; j < G; j++) pi[1 + C + j] = 0;
  for (const { e } of useful) pi[1 + C + e.gateway] = Math.min(pi[1 + C + e.gateway]!, -e.profit);
  let minG = 0;
  for (let j = 0; j < G; j++) minG = Math.min(minG, pi[1 + C + j]!);
  pi[T] = minG;

  let phases = 0;
  const dist = new Float64Array(V);
  for (;;) {
    g.dijkstra(S, pi, dist);
    const dt = dist[T]!;
    if (dt === Infinity) break;
    for (let v = 0; v < V; v++) pi[v] = pi[v]! + Math.min(dist[v]!, dt);
    if (pi[T]! - pi[S]! >= 0) break; // the cheapest path no longer makes profit
    phases++;
    if (g.blockingFlows(S, T, pi) <= EPS) break;
  }

  const flow = new Float64Array(p.edges.length);
  let welfareRate = 0;
  useful.forEach(({ e, i }, k) => {
    const f = g.flowOn(edgeIds[k]!);
    flow[i] = f;
    welfareRate += f * e.profit;
  });
  return { welfareRate, flow, phases };
}

/** Residual graph in flat arrays; edge k and k^1 are each other's reverse. */
class FlowGraph {
  readonly #head: Int32Array;
  readonly #next: Int32Array;
  readonly #to: Int32Array;
  readonly #cap: Float64Array;
  readonly #cost: Float64Array;
  readonly #orig: Float64Array;
  #m = 0;
  readonly #n: number;

  constructor(n: number, maxEdges: number) {
    this.#n = n;
    this.#head = new Int32Array(n).fill(-1);
    this.#next = new Int32Array(maxEdges);
    this.#to = new Int32Array(maxEdges);
    this.#cap = new Float64Array(maxEdges);
    this.#cost = new Float64Array(maxEdges);
    this.#orig = new Float64Array(maxEdges);
  }

  add(u: number, v: number, cap: number, cost: number): number {
    const k = this.#m;
    this.#link(k, u, v, cap, cost);
    this.#link(k + 1, v, u, 0, -cost);
    this.#orig[k] = cap;
    this.#m += 2;
    return k;
  }

  flowOn(k: number): number {
    return this.#orig[k]! - this.#cap[k]!;
  }

  #link(k: number, u: number, v: number, cap: number, cost: number): void {
    this.#to[k] = v;
    this.#cap[k] = cap;
    this.#cost[k] = cost;
    this.#next[k] = this.#head[u]!;
    this.#head[u] = k;
  }

  dijkstra(s: number, pi: Float64Array, dist: Float64Array): void {
    dist.fill(Infinity);
    dist[s] = 0;
    const heap = new MinHeap(this.#n);
    heap.push(s, 0);
    const done = new Uint8Array(this.#n);
    for (;;) {
      const u = heap.pop();
      if (u < 0) break;
      if (done[u]) continue;
      done[u] = 1;
      const du = dist[u]!;
      for (let k = this.#head[u]!; k >= 0; k = this.#next[k]!) {
        if (this.#cap[k]! <= EPS) continue;
        const v = this.#to[k]!;
        const nd = du + this.#cost[k]! + pi[u]! - pi[v]!;
        if (nd < dist[v]!) {
          dist[v] = nd;
          heap.push(v, nd);
        }
      }
    }
  }

  /** Dinic on the admissible subgraph (residual edges with reduced cost 0). Returns the flow added. */
  blockingFlows(s: number, t: number, pi: Float64Array): number {
    const level = new Int32Array(this.#n);
    const it = new Int32Array(this.#n);
    // Zero reduced cost is fixed for the phase (potentials do not move inside it), so
    // mark those edges once; residual capacity is checked as it changes.
    const zero = new Uint8Array(this.#m);
    for (let u = 0; u < this.#n; u++) {
      for (let k = this.#head[u]!; k >= 0; k = this.#next[k]!) {
        if (Math.abs(this.#cost[k]! + pi[u]! - pi[this.#to[k]!]!) < 1e-6) zero[k] = 1;
      }
    }
    const admissible = (k: number) => zero[k] === 1 && this.#cap[k]! > EPS;
    let total = 0;
    for (;;) {
      level.fill(-1);
      level[s] = 0;
      const queue = [s];
      for (let qi = 0; qi < queue.length; qi++) {
        const u = queue[qi]!;
        for (let k = this.#head[u]!; k >= 0; k = this.#next[k]!) {
          const v = this.#to[k]!;
          if (level[v] === -1 && admissible(k)) {
            level[v] = level[u]! + 1;
            queue.push(v);
          }
        }
      }
      if (level[t] === -1) return total;
      it.set(this.#head);
      const dfs = (u: number, f: number): number => {
        if (u === t) return f;
        for (let k = it[u]!; k >= 0; k = this.#next[k]!, it[u] = k) {
          const v = this.#to[k]!;
          if (level[v] !== level[u]! + 1 || !admissible(k)) continue;
          const got = dfs(v, Math.min(f, this.#cap[k]!));
          if (got > EPS) {
            this.#cap[k] = this.#cap[k]! - got;
            this.#cap[k ^ 1] = this.#cap[k ^ 1]! + got;
            return got;
          }
        }
        level[u] = -1; // a dead end for the rest of this blocking flow
        return 0;
      };
      let pushed = 0;
      for (let f = dfs(s, Infinity); f > EPS; f = dfs(s, Infinity)) pushed += f;
      if (pushed <= EPS) return total;
      total += pushed;
    }
  }
}

/** A binary heap of (node, key) with lazy deletion. */
class MinHeap {
  #nodes: Int32Array;
  #keys: Float64Array;
  #size = 0;

  constructor(capacity: number) {
    this.#nodes = new Int32Array(Math.max(16, capacity));
    this.#keys = new Float64Array(Math.max(16, capacity));
  }

  push(node: number, key: number): void {
    if (this.#size === this.#nodes.length) {
      const n = new Int32Array(this.#size * 2);
      n.set(this.#nodes);
      const k = new Float64Array(this.#size * 2);
      k.set(this.#keys);
      this.#nodes = n;
      this.#keys = k;
    }
    let i = this.#size++;
    const ns = this.#nodes;
    const ks = this.#keys;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ks[p]! <= key) break;
      ns[i] = ns[p]!;
      ks[i] = ks[p]!;
      i = p;
    }
    ns[i] = node;
    ks[i] = key;
  }

  /** The node with the least key, or -1 when empty. */
  pop(): number {
    if (this.#size === 0) return -1;
    const ns = this.#nodes;
    const ks = this.#keys;
    const top = ns[0]!;
    const n = --this.#size;
    const lastN = ns[n]!;
    const lastK = ks[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && ks[r]! < ks[l]! ? r : l;
      if (ks[c]! >= lastK) break;
      ns[i] = ns[c]!;
      ks[i] = ks[c]!;
      i = c;
    }
    ns[i] = lastN;
    ks[i] = lastK;
    return top;
  }
}
