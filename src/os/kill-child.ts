// Killing a child process safely. When spawn fails (ENOENT, EACCES), Node keeps the
// child's handle with pid 0, and ChildProcess.kill() then calls kill(0, sig): the
// signal goes to our whole process group — the agent, its supervisor's shell, a test
// runner. So a child is signalled only if it really started and has not ended.
import type { ChildProcess } from 'node:child_process';

/** True while `child` is a running process we may signal. */
export function isRunningChild(child: ChildProcess): boolean {
  return typeof child.pid === 'number' && child.pid > 0 && child.exitCode === null && child.signalCode === null;
}

/** Signal `child` if it is running; a child that never started is left alone. */
export function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  if (!isRunningChild(child)) return false;
  return child.kill(signal);
}
