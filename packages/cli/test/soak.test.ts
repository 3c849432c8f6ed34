/**
 * THE SOAK, SHORT (issue 14, "Soak"): `node bench/soak.mjs --json FILE` as a
 * real process — three `parley serve` processes under the duty desk's mix for
 * 15 s with a kill -9 of CN and a US–EU partition — and its JSON summary must
 * report every promise held: nothing acknowledged lost, nothing delivered or
 * receipted twice, no index acknowledged twice, no fork proof, every log
 * audited by `parley log verify --accord`, no deadline judged wrong, and each
 * fault recovered. The full run is `npm run soak` (3 minutes, every fault,
 * including kill -9 of a PostgreSQL party's sequencer and of its PostgreSQL
 * server: minutes of set-up and recovery, too long for the suite).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'parley-soak-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Fault {
  fault: string;
  run: boolean;
  reason?: string;
  failed?: string;
  recoveryMs?: number;
}

describe('npm run soak, short', () => {
  it('15 s of mixed traffic with kill -9 and a partition: nothing lost, nothing twice, no fork, every log audits, every deadline judged right', async () => {
    const out = join(dir, 'summary.json');
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
      const env = { ...process.env, SOAK_SECONDS: '15', SOAK_RATE: '6', SOAK_FAULTS: 'kill,partition' };
      const child = spawn(process.execPath, [join(REPO, 'bench/soak.mjs'), '--json', out], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', fail);
      child.once('close', (code) => done({ code, stdout, stderr }));
    });
    expect(run.code, run.stdout + run.stderr.slice(-3000)).toBe(0);
    const s = JSON.parse(readFileSync(out, 'utf8'));
    expect(s.ok).toBe(true);
    expect(s.problems).toEqual([]);
    expect(s.checks).toMatchObject({ lost: 0, duplicated: 0, duplicateReceipts: 0, indexesAcknowledgedTwice: 0, forks: 0 });
    for (const p of ['US', 'CN', 'EU']) expect(s.checks.audits[p], `audit of ${p}`).toMatchObject({ ok: true, signaturesChecked: true });
    expect(s.checks.deadlines.wrong).toBe(0);
    // The deadline check had something to judge: sent times and acknowledgements on both sides of their deadlines.
    expect(s.checks.deadlines.sentTimeRight).toBeGreaterThan(10);
    expect(s.checks.deadlines.ackOnTimeExpected + s.checks.deadlines.ackLateExpected).toBeGreaterThan(0);
    // Traffic of every kind was acknowledged and measured.
    expect(s.throughput.byKind.message).toBeGreaterThan(10);
    expect(s.latencyMs.message.n).toBeGreaterThan(10);
    expect(s.latencyMs['inclusion proof'].n).toBeGreaterThan(0);
    const faults = new Map((s.faults as Fault[]).map((f) => [f.fault, f]));
    for (const f of ['kill', 'partition']) {
      expect(faults.get(f), f).toMatchObject({ run: true });
      expect(faults.get(f)!.failed, f).toBeUndefined();
      expect(faults.get(f)!.recoveryMs, f).toBeGreaterThan(0);
    }
    // The machine's limits were measured in the same run.
    expect(s.limits.ed25519SignPerSec).toBeGreaterThan(0);
    expect(s.limits.bareHttpMs.p99).toBeGreaterThan(0);
    for (const p of ['US', 'CN', 'EU']) {
      expect(s.rssPeakMiB[p]).toBeGreaterThan(10);
      expect(s.storage[p].bytesPerEntry).toBeGreaterThan(100);
    }
  }, 180_000);
});
