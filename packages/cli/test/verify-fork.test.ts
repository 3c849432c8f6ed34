/**
 * `parley verify-fork` against our pinned fork proofs (test/vectors/parley/fork-v1.json,
 * on the channel-v1 accord): every kind holds (0), one changed byte fails (1),
 * unusable arguments exit 2 — run as a real process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { OWN_VECTORS_DIR } from '../../core/test/helpers/vectors.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const BIN = join(REPO, 'packages/cli/bin/parley.js');
const dir = mkdtempSync(join(tmpdir(), 'parley-fork-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const forks = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/fork-v1.json'), 'utf8')).forks as Record<string, string>;
const channel = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/channel-v1.json'), 'utf8'));
const accordFile = join(dir, 'accord.json');
writeFileSync(accordFile, JSON.stringify(channel.accord));

function parley(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('parley verify-fork', () => {
  it.each(Object.entries(forks))('proves the %s fork with the accord alone', (kind, text) => {
    const file = join(dir, `${kind}.fork`);
    writeFileSync(file, text);
    const r = parley(['verify-fork', file, '--accord', accordFile, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, party: 'US', kind });
    const human = parley(['verify-fork', file, '--accord', accordFile]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('FORK PROVEN');
  });

  it('fails (1) when one byte of a proof changes, and exits 2 for unusable arguments', () => {
    const text = forks['same-size']!;
    const bad = text.slice(0, text.length - 30) + (text[text.length - 30] === 'A' ? 'B' : 'A') + text.slice(text.length - 29);
    const file = join(dir, 'bad.fork');
    writeFileSync(file, bad);
    const r = parley(['verify-fork', file, '--accord', accordFile, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).valid).toBe(false);
    expect(parley(['verify-fork', file]).code).toBe(2);
    expect(parley(['verify-fork', join(dir, 'missing.fork'), '--accord', accordFile]).code).toBe(2);
    expect(parley(['verify-fork', file, '--accord', join(dir, 'nope.json')]).code).toBe(2);
  });
});
