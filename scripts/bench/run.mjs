// `make bench`: every benchmark side by side in one run; prints figures and ratios.
// Copy the output to docs/benchmarks.md with the date.
import os from 'node:os';
import { decoderBench, foundationBench } from './foundation.mjs';
import { channelBench, printChannelBench } from './channel.mjs';
import { paidLinkBench, printPaidLinkBench } from './paid-link.mjs';
import { cryptoBench, printCryptoBench } from './crypto.mjs';
import { proxyBench, printProxyBench } from './proxy.mjs';
import { nftBench, nftCpuBench, printNftBench, printNftCpuBench } from './nft.mjs';

const line = (k, v) => console.log(`  ${k.padEnd(48)} ${v}`);
const quick = process.argv.includes('--quick');
console.log(`# bitmesh bench — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`);

console.log('\n## Foundation');
const f = await foundationBench();
line('bundle dist/bitmesh.js', `${(f.bundleBytes / 1024).toFixed(1)} KiB`);
line('agent idle RSS (median of 5, after 5 s)', `${(f.idleRssBytes / 2 ** 20).toFixed(1)} MiB  (limit 60 MB: ${(f.idleRssBytes / 60e6).toFixed(2)} of it)`);
line('process start → first HELLO (median of 5)', `${f.firstHelloMs.toFixed(0)} ms  (limit 500 ms: ${(f.firstHelloMs / 500).toFixed(2)} of it)`);
const d = await decoderBench();
line('strict decode of a TICK datagram', `${d.strictUsPerTick.toFixed(2)} µs`);
line('plain cbor-x decode of the same bytes', `${d.plainCborUsPerTick.toFixed(2)} µs`);
line('strict / plain', `${(d.strictUsPerTick / d.plainCborUsPerTick).toFixed(2)}×`);

console.log('\n## Payment channels');
printChannelBench(await channelBench(), line);
printPaidLinkBench(await paidLinkBench(quick ? { mib: 8, ceiling: { mib: 16, delays: [0] } } : {}), line);

console.log('\n## Native helper');
printCryptoBench(await cryptoBench());

console.log('\n## Data plane: proxy');
printProxyBench(await proxyBench(quick ? { mib: 256, rounds: 1 } : {}));

console.log('\n## Data plane: nft');
printNftBench(await nftBench());
// Root only; says SKIPPED otherwise.
printNftCpuBench(await nftCpuBench(quick ? { gib: 0.25 } : {}));
