// Bundle entry point (dist/bitmesh.js).
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bitmesh: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
