// A user behind an nft-mode client: downloads `url` again and again until killed, and
// prints its running totals as one JSON line ({"bytes","ok","failed"}) whenever they
// change, at most every 250 ms. Runs inside the client's namespace (`ip netns exec`);
// before the client has a gateway there is no route, so a GET fails and is retried.
//   node scripts/demo/download-loop.mjs <url>
import http from 'node:http';

const url = process.argv[2];
if (!url) {
  console.error('usage: download-loop.mjs <url>');
  process.exit(2);
}
const totals = { bytes: 0, ok: 0, failed: 0 };
let printed = '';
setInterval(() => {
  const line = JSON.stringify(totals);
  if (line !== printed) process.stdout.write((printed = line) + '\n');
}, 250);

const once = () =>
  new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.on('data', (d) => (totals.bytes += d.length));
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    // A stalled transfer (its gateway gone, the quota run out) is given up and retried.
    req.setTimeout(5_000, () => req.destroy(new Error('stalled')));
    req.on('error', () => resolve(false));
  });

for (;;) {
  if (await once()) totals.ok++;
  else {
    totals.failed++;
    await new Promise((r) => setTimeout(r, 250)); // no gateway yet, or failing over
  }
}
