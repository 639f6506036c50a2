// The one way the agent writes a file that must survive a power cut: a temp file
// (mode 0600 from its first byte), fsync, rename over the old one, fsync the directory.
// A crash leaves the old file or the new one, never a torn one.
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomic(file: string, content: string, opts: { exclusiveTemp?: boolean } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, opts.exclusiveTemp ? 'wx' : 'w', 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
