/**
 * `parley log verify` checks RFC 3161 tokens when the log has any (issue
 * 12). A US node runs in this process as `parley serve` runs it
 * (startRuntime, a file store) on an accord listing a real openssl TSA
 * (core test/helpers/tsa.ts) on 127.0.0.1; the real `parley` binary audits
 * its log over HTTP: the tokens its /log/timestamps serves are verified
 * and printed (JSON too); a token of another checkpoint given with
 * --timestamps fails the audit with TSA_IMPRINT_MISMATCH (exit 1); without
 * the accord the tokens are listed, not checked. Issue 14: the node's static
 * mirror carries the tokens (`timestamps`), and the audit of the mirror —
 * as a directory and served by nginx — checks them the same way.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeUtf8, formatBase64, formatSignedAccord } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { MirrorPublisher, ParleyNode, type Runtime, startRuntime } from '@parley/node';
import { startTsaServer, type TsaServer } from '../../core/test/helpers/tsa.js';
import { makeAccord, makeParty } from '../../node/test/helpers/channel.js';
import { cleanEnv } from './helpers/channel.js';
import { BIN } from './helpers/serve.js';
import { startNginx } from './helpers/nginx.js';
import { freePort } from './helpers/parties.js';

let dir: string;
let tsa: TsaServer;
let store: SqliteStore;
let node: ParleyNode;
let runtime: Runtime;
let logKey: string;

/** Runs the real binary without blocking this process's event loop (the node under audit runs in it). */
function parley(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, env: cleanEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-logverify-tsa-'));
  tsa = await startTsaServer({ name: 'tsa-a' });
  const parties = ['CN', 'US'].map(makeParty);
  const accord = makeAccord(parties, { timestamping: { authorities: [tsa.authority], required: 1 } });
  writeFileSync(join(dir, 'accord.json'), formatSignedAccord(accord));
  const us = parties[1]!;
  logKey = us.party.logKey;
  store = SqliteStore.open(join(dir, 'us.sqlite'));
  node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
  runtime = await startRuntime({ node, store, federation: { enabled: false }, heartbeatMs: 0, tsa: { intervalMs: 100 } });
  for (const text of ['one', 'two', 'three']) {
    await node.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text });
    await until('the checkpoint stamped', async () => (await store.latestTimestampedSize('US')) === node.treeSize);
  }
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  await node?.close();
  await store?.close();
  await tsa?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('parley log verify with RFC 3161 tokens (issue 12)', () => {
  it('verifies and prints the tokens the node serves; JSON gives each token and the trusted time', async () => {
    const human = await parley(['log', 'verify', '--from', runtime.url, '--key', logKey, '--accord', 'accord.json']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/✓ time stamps — tsa-a at \d{4}-\d\d-\d\dT[\d:.]+Z stamped tree size 3: entries below 3 existed by /);

    const r = await parley(['log', 'verify', '--from', runtime.url, '--key', logKey, '--accord', 'accord.json', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { valid: boolean; timestamps: { treeSize: number; checked: boolean; satisfied: boolean; trustedTime: string; tokens: { authority: string; genTime: string }[] } };
    expect(out.valid).toBe(true);
    const [held] = await store.checkpointTimestamps('US', { treeSize: 3 });
    expect(out.timestamps).toMatchObject({ treeSize: 3, checked: true, satisfied: true, required: 1, trustedTime: new Date(held!.genTime).toISOString() });
    expect(out.timestamps.tokens.map((t) => t.authority)).toEqual(['tsa-a']);
  }, 60_000);

  it('fails (exit 1, TSA_IMPRINT_MISMATCH) on a token of another checkpoint; without the accord lists the tokens unchecked', async () => {
    const [first] = await store.checkpointTimestamps('US', { treeSize: 1 });
    const note = decodeUtf8((await store.checkpointAt(3))!);
    writeFileSync(join(dir, 'forged.json'), JSON.stringify({ party: 'US', treeSize: 3, checkpoint: note, timestamps: [{ authority: 'tsa-a', token: formatBase64(first!.token) }] }));
    const bad = await parley(['log', 'verify', '--from', runtime.url, '--key', logKey, '--accord', 'accord.json', '--timestamps', 'forged.json', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout || bad.stderr)).toMatchObject({ valid: false, code: 'TSA_IMPRINT_MISMATCH' });

    const unchecked = await parley(['log', 'verify', '--from', runtime.url, '--key', logKey]);
    expect(unchecked.code, unchecked.stderr).toBe(0);
    expect(unchecked.stdout).toMatch(/– time stamps — 1 token\(s\) of tree size 3 \(tsa-a\) not checked: pass --accord/);
  }, 60_000);

  it('a static mirror of the log carries the tokens: its audit, as a directory and through nginx, checks them (issue 14)', async () => {
    const mirrorDir = join(dir, 'mirror');
    const mirror = await MirrorPublisher.start({ node, store, dir: mirrorDir, intervalMs: 0 });
    try {
      await mirror.caughtUp;
      await mirror.sync();
      const nginx = await startNginx(mirrorDir, await freePort());
      try {
        for (const from of [mirrorDir, `${nginx.url}/`]) {
          const r = await parley(['log', 'verify', '--from', from, '--key', logKey, '--accord', 'accord.json', '--json']);
          expect(r.code, `${from}: ${r.stderr}`).toBe(0);
          const out = JSON.parse(r.stdout) as { valid: boolean; treeSize: number; timestamps?: { treeSize: number; checked: boolean; satisfied: boolean } };
          expect(out).toMatchObject({ valid: true, treeSize: 3, timestamps: { treeSize: 3, checked: true, satisfied: true } });
        }
      } finally {
        await nginx.stop();
      }
    } finally {
      await mirror.stop();
    }
  }, 60_000);
});
