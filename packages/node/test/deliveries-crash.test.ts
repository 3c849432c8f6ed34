/**
 * kill -9 while the deadline tracker files deliveries (issue 14: the
 * tracker's facts live in the store's `deliveries` tables, one page of
 * entries per transaction together with its cursor). A child process opens
 * US's node on a real SQLite file and refreshes the tracker; it SIGKILLs
 * itself just before, or just after, its k-th filing commits. After each
 * kill the parent checks that the cursor and the rows agree (every entry
 * below the cursor filed, none above), and after a clean run that the
 * deliveries are exactly those of a node that never crashed.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatBase64, formatSignedAccord, formatSignerKey } from '@parley/core/node';
import { SqliteStore, type StoredDelivery } from '@parley/store';
import { makeAccord, makeParty } from './helpers/channel.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const dist = (p: string) => pathToFileURL(join(repo, 'packages', p)).href;

/** The child: open US's node on `db`, grow its log to `growTo` heartbeats, then (unless 0) refresh the tracker, dying at a filing. */
const CHILD = `
import { readFileSync } from 'node:fs';
const core = await import(${JSON.stringify(dist('core/dist/node.js'))});
const { SqliteStore } = await import(${JSON.stringify(dist('store/dist/index.js'))});
const { ParleyNode, DeadlineTracker } = await import(${JSON.stringify(dist('node/dist/index.js'))});
const [cfgFile, db, growTo, track, crash] = process.argv.slice(2);
const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
const keys = { log: core.parseSignerKey(cfg.log), hpke: { privateKey: core.parseBase64(cfg.hpkePrivate), publicKey: core.parseBase64(cfg.hpkePublic) } };
const store = SqliteStore.open(db);
const node = await ParleyNode.open({ accord: core.parseSignedAccord(cfg.accord), party: 'US', keys, store });
while (node.treeSize < Number(growTo)) await Promise.all(Array.from({ length: Math.min(64, Number(growTo) - node.treeSize) }, () => node.heartbeat()));
if (track === '1') {
  const [when, at] = (crash || 'never:0').split(':');
  let n = 0;
  const crashing = new Proxy(store, {
    get(target, prop) {
      if (prop === 'fileDeliveries') {
        return async (b) => {
          n++;
          if (when === 'before' && n === Number(at)) process.kill(process.pid, 'SIGKILL');
          const filed = await target.fileDeliveries(b);
          if (when === 'after' && n === Number(at)) process.kill(process.pid, 'SIGKILL');
          return filed;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const t = new DeadlineTracker({ node, store: crashing });
  await t.refresh();
}
await node.close();
await store.close();
console.log('done');
`;

const tmp = mkdtempSync(join(tmpdir(), 'parley-deliveries-crash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function child(db: string, growTo: number, track: boolean, crash?: string): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(tmp, 'child.mjs'), join(tmp, 'cfg.json'), db, String(growTo), track ? '1' : '0', crash ?? ''], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

async function deliveriesOf(db: string): Promise<{ cursor: { ownSize: number; lastSeq: number }; rows: StoredDelivery[] }> {
  const store = SqliteStore.open(db);
  try {
    const rows: StoredDelivery[] = [];
    for (let page = await store.deliveries({ limit: 1000 }); page.length > 0; ) {
      rows.push(...page);
      const last = page[page.length - 1]!;
      page = await store.deliveries({ limit: 1000, after: { party: last.party, index: last.index, recipient: last.recipient } });
    }
    return { cursor: await store.deliveryCursor(), rows };
  } finally {
    await store.close();
  }
}

describe('kill -9 while the deadline tracker files deliveries (real SQLite, separate process)', () => {
  it('never leaves the deliveries and their cursor apart; a restart files exactly what a node that never crashed files', { timeout: 300_000 }, async () => {
    const us = makeParty('US');
    const accord = makeAccord([us, makeParty('CN'), makeParty('EU')]);
    writeFileSync(join(tmp, 'child.mjs'), CHILD);
    writeFileSync(join(tmp, 'cfg.json'), JSON.stringify({ accord: formatSignedAccord(accord), log: formatSignerKey(us.keys.log), hpkePrivate: formatBase64(us.keys.hpke.privateKey), hpkePublic: formatBase64(us.keys.hpke.publicKey) }));
    const db = join(tmp, 'us.sqlite');
    const ENTRIES = 2600; // six pages of 500 entries: six filings
    const grown = child(db, ENTRIES, false);
    expect(grown.status, grown.stderr).toBe(0);
    const reference = join(tmp, 'reference.sqlite');
    copyFileSync(db, reference);

    // Killed before its 2nd filing (500 filed), after its 2nd (1,500), before its 1st (nothing more), after its 1st (2,000).
    let last = 0;
    for (const crash of ['before:2', 'after:2', 'before:1', 'after:1']) {
      const r = child(db, ENTRIES, true, crash);
      expect(r.signal, `${crash}: ${r.stderr}`).toBe('SIGKILL');
      const { cursor, rows } = await deliveriesOf(db);
      // Each heartbeat is a delivery to both other parties: the rows are exactly the entries below the cursor.
      expect(rows.length, crash).toBe(cursor.ownSize * 2);
      expect(new Set(rows.map((d) => d.index)).size, crash).toBe(cursor.ownSize);
      expect(Math.max(-1, ...rows.map((d) => d.index)), crash).toBe(cursor.ownSize - 1);
      expect(cursor.ownSize, `${crash}: the cursor never moves back`).toBeGreaterThanOrEqual(last);
      last = cursor.ownSize;
    }
    expect(last, 'the kills left filing half done').toBeLessThan(ENTRIES);

    const done = child(db, ENTRIES, true);
    expect(done.status, done.stderr).toBe(0);
    const clean = child(reference, ENTRIES, true);
    expect(clean.status, clean.stderr).toBe(0);
    const got = await deliveriesOf(db);
    const want = await deliveriesOf(reference);
    expect(got.cursor.ownSize).toBe(ENTRIES);
    expect(got.rows.length).toBe(ENTRIES * 2);
    expect(got).toEqual(want);
  });
});
