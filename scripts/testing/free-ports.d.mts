/** `n` distinct loopback ports free for both UDP and TCP (free-ports.mjs). */
export function freePorts(n: number): Promise<number[]>;
