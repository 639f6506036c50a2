// Prints vitest's totals, summed over one or more JSON reports, as the one plain line
// CI reads: `N passed, N failed, N skipped`. A report that is missing or unreadable
// counts as one failure (its run crashed before writing it).
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files.length ? files : ['.vitest-results.json']) {
  let r;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    failed++;
    continue;
  }
  // A suite that failed to load counts as a failure even though it ran no test.
  const brokenSuites = (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0).length;
  passed += r.numPassedTests;
  failed += r.numFailedTests + brokenSuites;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
