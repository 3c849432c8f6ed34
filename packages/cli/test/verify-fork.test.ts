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
import {
  type JsonValue,
  type SignedAccord,
  accordForkProof,
  canonicalize,
  draftAccord,
  draftAmendment,
  formatAccordForkProof,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  hpkeGenerateKeyPair,
  signAccord,
  signAccordVersion,
  verifierKeyOf,
  verifyAccord,
} from '@parley/core/node';

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

describe('parley verify-fork: an accord fork (issue 11)', () => {
  // Three parties, quorum 2; US and EU sign two different versions 2 after the one genesis.
  const keys = ['CN', 'EU', 'US'].map((id) => ({ id, log: generateSignerKey(`${id.toLowerCase()}.parley.test/log`), hpke: hpkeGenerateKeyPair() }));
  let genesis: SignedAccord = {
    accord: draftAccord({
      name: 'fork-channel',
      amendmentQuorum: 2,
      parties: keys.map((k) => ({ id: k.id, names: { en: k.id, 'zh-CN': k.id }, urls: [`http://127.0.0.1/${k.id.toLowerCase()}`], logKey: formatVerifierKey(verifierKeyOf(k.log)), hpkeKey: formatBase64(k.hpke.publicKey) })),
    }),
    signatures: [],
  };
  for (const k of keys) genesis = signAccord(genesis, k.id, k.log);
  const v1 = verifyAccord(genesis);
  const side = (heartbeatSeconds: number): SignedAccord => {
    let s: SignedAccord = { accord: draftAmendment(v1, { ...v1.accord, heartbeatSeconds }), signatures: [] };
    for (const k of keys.filter((x) => x.id !== 'CN')) s = signAccordVersion(s, k.id, k.log, { prior: true });
    return s;
  };
  const proof = accordForkProof(side(1800), side(600), v1)!;
  const text = formatAccordForkProof(proof);
  const genesisFile = join(dir, 'fork-channel.json');
  writeFileSync(genesisFile, JSON.stringify(genesis));

  it('proves two different valid versions 2 with the accord alone (0); one changed side fails (1)', () => {
    const file = join(dir, 'accord.fork');
    writeFileSync(file, text);
    const r = parley(['verify-fork', file, '--accord', genesisFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, kind: 'accord', version: 2, signers: ['EU', 'US'] });
    expect(parley(['verify-fork', file, '--accord', genesisFile]).stdout).toContain('ACCORD FORK PROVEN');
    // Both sides the same version: no fork.
    const same = join(dir, 'same.fork');
    writeFileSync(same, formatAccordForkProofLoose({ ...proof, b: proof.a }));
    const bad = parley(['verify-fork', same, '--accord', genesisFile, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, code: 'FORK_PROOF_INVALID' });
  });
});

/** A proof's canonical text without the builder's checks (a forged proof). */
function formatAccordForkProofLoose(p: unknown): string {
  return canonicalize(p as JsonValue);
}
