/**
 * Opening a SQLite store while another process appends to it (what `parley
 * export`, `status` or `log verify` do beside a running `parley serve`): the
 * open checks the log's layout (entries, hashes and checkpoints describe one
 * tree), and must read all three from ONE snapshot — else a batch committed
 * between two of the reads looks like a corrupt log (STORE_CORRUPT).
 * A real child process appends (fixtures/race-child.ts) while this one
 * opens the file again and again, read-only and read-write.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/sqlite/store.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/race-child.ts', import.meta.url));
const tmp = tempDir('parley-open-');
afterAll(() => tmp.cleanup());

describe('SqliteStore.open beside a process that appends', () => {
  it('never reports a consistent log as corrupt', async () => {
    const spec = join(tmp.dir, 'busy.sqlite');
    SqliteStore.open(spec).close();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, spec, 'w', '4000'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let out = '';
    let running = true;
    void exited.then(() => (running = false));
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => ((out += d.toString()), out.includes('ready') && resolve())));
    child.stdin!.write('go\n');
    const errors: string[] = [];
    let opens = 0;
    while (running && opens < 3000) {
      try {
        const s = SqliteStore.open(spec, { readonly: opens % 2 === 0 });
        await s.close();
      } catch (e) {
        errors.push((e as Error).message);
      }
      opens++;
      if (opens % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await exited).toBe(0);
    expect(opens).toBeGreaterThan(100);
    expect(errors).toEqual([]);
  }, 120_000);
});
