// Prints vitest's totals as the one plain line CI reads: `N passed, N failed, N skipped`.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
let r;
try {
  r = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(0);
}
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
// A suite that failed to load counts as a failure even though it ran no test.
const brokenSuites = (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0).length;
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + brokenSuites} failed, ${skipped} skipped`);
