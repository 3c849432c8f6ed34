/**
 * `parley accord verify CHAINFILE` and `parley accord consent`, offline, as a
 * real process (issue 11): a chain of four versions (a deadline change, a
 * party joining with its consent, a planned key rotation with the new key's
 * consent) is walked version by version (exit 0, every check printed); each
 * broken chain fails (exit 1) with its typed code in --json; unusable input
 * exits 2. A new party's consent is added to a proposal file offline with a
 * bare signer key and with a Parley key file, and the chain then verifies.
 * Core's chain vectors (packages/core/test/vectors/accord-chain/), when
 * present, are checked too: valid → 0, invalid → 1 with their code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Accord,
  type AccordParty,
  type SignedAccord,
  type SignerKey,
  type VerifiedAccord,
  draftAccord,
  draftAmendment,
  formatBase64,
  formatHex,
  formatSignerKey,
  formatVerifierKey,
  accordDigest,
  generateSignerKey,
  signAccord,
  signAccordVersion,
  verifierKeyOf,
  verifyAccord,
  verifyAmendment,
} from '@parley/core/node';
import { sealKeyFile } from '../dist/keyfile.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const BIN = join(REPO, 'packages/cli/bin/parley.js');
const VECTORS = join(REPO, 'packages/core/test/vectors/accord-chain');
const dir = mkdtempSync(join(tmpdir(), 'parley-chain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parley(args: readonly string[], env: Record<string, string> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN', ...(env['PARLEY_PASSPHRASE'] ? [] : ['PARLEY_PASSPHRASE'])]) if (!(k in env)) delete e[k];
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: e, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, unknown> & { code?: string; checks?: { name: string; ok: boolean }[] };

function party(id: string, key: SignerKey): AccordParty {
  return { id, names: { en: id, 'zh-CN': id }, urls: [`https://${id.toLowerCase()}.example`], logKey: formatVerifierKey(verifierKeyOf(key)), hpkeKey: formatBase64(new Uint8Array(32).fill(id.charCodeAt(0))) };
}

const keys = { US: generateSignerKey('us.example/log'), CN: generateSignerKey('cn.example/log'), EU: generateSignerKey('eu.example/log'), JP: generateSignerKey('jp.example/log') };
const cn2 = generateSignerKey('cn.example/log');

// Version 1: US, CN, EU; amendments need 2 of them.
let v1: SignedAccord = { accord: draftAccord({ name: 'test-hotline', parties: [party('US', keys.US), party('CN', keys.CN), party('EU', keys.EU)], amendmentQuorum: 2, created: new Date('2026-01-01T00:00:00Z') }), signatures: [] };
for (const id of ['US', 'CN', 'EU'] as const) v1 = signAccord(v1, id, keys[id]);
const c1 = verifyAccord(v1);

function approve(prev: VerifiedAccord, accord: Accord, by: readonly (keyof typeof keys)[], plain: readonly [string, SignerKey][] = []): SignedAccord {
  let s: SignedAccord = { accord, signatures: [] };
  for (const id of by) s = signAccordVersion(s, id, keys[id], { prior: true, prev });
  for (const [id, k] of plain) s = signAccordVersion(s, id, k);
  return s;
}

// Version 2: FLASH acknowledged within 5 minutes (US and CN approve).
const d2 = draftAmendment(c1, { ...c1.accord, deadlines: { ...c1.accord.deadlines, ackSeconds: { ...c1.accord.deadlines.ackSeconds, FLASH: 300 } } });
const v2 = approve(c1, d2, ['US', 'CN']);
const c2 = verifyAmendment(c1, v2);
// Version 3: JP joins (US and EU approve, JP consents).
const d3 = draftAmendment(c2, { ...c2.accord, parties: [...c2.accord.parties, party('JP', keys.JP)] });
const v3 = approve(c2, d3, ['US', 'EU'], [['JP', keys.JP]]);
const c3 = verifyAmendment(c2, v3);
// Version 4: CN rotates its log key (CN with its old key and JP approve, the new key consents).
const d4 = draftAmendment(c3, { ...c3.accord, parties: c3.accord.parties.map((p) => (p.id === 'CN' ? { ...p, logKey: formatVerifierKey(verifierKeyOf(cn2)) } : p)) });
const v4 = approve(c3, d4, ['CN', 'JP'], [['CN', cn2]]);
verifyAmendment(c3, v4);

const channel = c1.id;
const chainOf = (versions: readonly SignedAccord[]) => ({ channel, versions, activations: [] });
function file(name: string, v: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  return f;
}
const digest = (s: SignedAccord) => formatHex(accordDigest(s.accord));

describe('parley accord verify CHAINFILE', () => {
  const good = file('chain.json', chainOf([v1, v2, v3, v4]));

  it('walks a valid chain version by version: exit 0, one check per version, the current version', () => {
    const r = parley(['accord', 'verify', good, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const v = json(r);
    expect(v).toMatchObject({ valid: true, channel, versions: 4, current: { version: 4, digest: digest(v4), frozen: false } });
    expect(v.checks!.map((c) => c.name)).toEqual(['version 1', 'version 2', 'version 3', 'version 4', 'activations']);
    expect(v.checks!.every((c) => c.ok)).toBe(true);
    const human = parley(['accord', 'verify', good]);
    expect(human.code).toBe(0);
    expect(human.stdout.match(/✓ version \d/g)).toHaveLength(4);
  });

  it('--trusted: a version the chain contains holds (0); a digest it lacks is ACCORD_CHAIN (1); a malformed digest is a usage error (2)', () => {
    const ok = parley(['accord', 'verify', good, '--trusted', digest(v3), '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(json(ok).checks!.some((c) => c.name === 'trusted version' && c.ok)).toBe(true);
    const other = approve(c1, draftAmendment(c1, { ...c1.accord, heartbeatSeconds: 999 }), ['US', 'EU']);
    const missing = parley(['accord', 'verify', good, '--trusted', digest(other), '--json']);
    expect(missing.code).toBe(1);
    expect(json(missing)).toMatchObject({ ok: false, valid: false, code: 'ACCORD_CHAIN' });
    expect(parley(['accord', 'verify', good, '--trusted', 'abc', '--json']).code).toBe(2);
  });

  // Each broken chain: exit 1 and its typed code.
  const cases: [string, unknown, string][] = [
    ['a skipped version (2 missing)', chainOf([v1, v3, v4]), 'ACCORD_VERSION'],
    ['a repeated version', chainOf([v1, v2, v2]), 'ACCORD_VERSION'],
    ['an amendment without quorum (US alone)', chainOf([v1, approve(c1, d2, ['US'])]), 'ACCORD_QUORUM'],
    ['an added party that did not consent', chainOf([v1, v2, approve(c2, d3, ['US', 'EU'])]), 'ACCORD_CONSENT'],
    ['a rotated key that did not sign', chainOf([v1, v2, v3, approve(c3, d4, ['CN', 'JP'])]), 'ACCORD_CONSENT'],
    ['an approval with a bad signature', chainOf([v1, { ...v2, signatures: v2.signatures.map((s, i) => (i === 0 ? { ...s, sig: v1.signatures[0]!.sig } : s)) }]), 'SIGNATURE_INVALID'],
    ['a founding accord not signed by every party', chainOf([{ ...v1, signatures: v1.signatures.slice(1) }, v2]), 'ACCORD_UNSIGNED'],
    ['another channel id', { ...chainOf([v1, v2]), channel: 'ab'.repeat(32) }, 'ACCORD_CHAIN'],
    ['a malformed chain (unknown member)', { ...chainOf([v1]), extra: 1 }, 'ACCORD_MALFORMED'],
  ];
  it.each(cases)('refuses %s: exit 1, code in --json', (_name, chain, code) => {
    const f = file(`bad-${code}-${Math.random().toString(36).slice(2)}.json`, chain);
    const r = parley(['accord', 'verify', f, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(json(r)).toMatchObject({ ok: false, valid: false, code });
    expect(json(r).checks!.at(-1)).toMatchObject({ ok: false });
  });

  it('exits 2 for unusable input: a missing file, not JSON, not a chain or accord', () => {
    const missing = parley(['accord', 'verify', join(dir, 'nope.json'), '--json']);
    expect(missing.code).toBe(2);
    expect(json(missing).code).toBe('FILE_UNREADABLE');
    const notJson = parley(['accord', 'verify', '--node', 'not a url', '--json']);
    expect(notJson.code).toBe(2);
    expect(parley(['accord', 'verify', '--json']).code).toBe(2);
    expect(parley(['accord', 'verify', good, '--node', 'http://127.0.0.1:1', '--json']).code).toBe(2);
  });

  it('still verifies a single signed accord file (version 1) as before', () => {
    const f = file('accord.json', v1);
    const r = parley(['accord', 'verify', f, '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ valid: true, complete: true, id: channel });
  });

  // Core's vectors: a chain file, or {description, code, chain} around one (fork.json is not a chain file).
  const vectors = (existsSync(VECTORS) ? readdirSync(VECTORS).filter((f) => f.endsWith('.json')) : [])
    .map((f) => ({ f, v: JSON.parse(readFileSync(join(VECTORS, f), 'utf8')) as Record<string, unknown> }))
    .map(({ f, v }) => ({ f, chain: (v['chain'] ?? v) as Record<string, unknown>, code: v['code'] as string | undefined }))
    .filter(({ chain }) => Array.isArray(chain['versions']) && typeof chain['channel'] === 'string');
  it('finds core\'s chain vectors (packages/core/test/vectors/accord-chain)', () => {
    expect(vectors.length).toBeGreaterThan(10);
    expect(vectors.filter((x) => x.code === undefined).length).toBeGreaterThan(0);
  });
  it.each(vectors.map((x) => [x.f, x] as const))("core's vector %s: valid → 0, invalid → 1 with its code", (f, { chain, code }) => {
    const r = parley(['accord', 'verify', file(`vector-${f}`, chain), '--json']);
    if (code === undefined) {
      expect(r.code, `${f}: ${r.stdout}`).toBe(0);
      expect(json(r).valid).toBe(true);
    } else {
      expect(r.code, `${f}: ${r.stdout}`).toBe(1);
      expect(json(r)).toMatchObject({ ok: false, valid: false, code });
    }
  });
});

describe('parley accord consent (offline)', () => {
  it('a new party signs a proposal file with a bare signer key; the chain then verifies', () => {
    const proposal = file('join-jp.json', { accord: d3, signatures: approve(c2, d3, ['US', 'EU']).signatures, rationale: 'JP joins' });
    const keyFile = file('jp.key', `${formatSignerKey(keys.JP)}\n`);
    const r = parley(['accord', 'consent', proposal, '--key', keyFile, '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json(r)).toMatchObject({ party: 'JP', version: 3, digest: formatHex(accordDigest(d3)) });
    const signed = JSON.parse(readFileSync(proposal, 'utf8')) as { accord: Accord; signatures: SignedAccord['signatures']; rationale: string };
    expect(signed.rationale).toBe('JP joins');
    const v = parley(['accord', 'verify', file('chain-consented.json', chainOf([v1, v2, { accord: signed.accord, signatures: signed.signatures }])), '--json']);
    expect(v.code, v.stdout).toBe(0);
  });

  it('a rotated key proves possession from a Parley key file (passphrase from the environment), written to --out', async () => {
    const keyFile = file('cn.next', await sealKeyFile({ log: cn2, hpkeSeed: new Uint8Array(32) }, 'pass phrase 1234', 2 ** 10));
    const proposal = file('rotate-cn.json', { accord: d4, signatures: approve(c3, d4, ['CN', 'JP']).signatures });
    const outFile = join(dir, 'rotate-cn-signed.json');
    const r = parley(['accord', 'consent', proposal, '--key', keyFile, '--out', outFile, '--json'], { PARLEY_PASSPHRASE: 'pass phrase 1234' });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json(r)).toMatchObject({ party: 'CN', version: 4, written: outFile });
    const signed = JSON.parse(readFileSync(outFile, 'utf8')) as SignedAccord;
    expect(parley(['accord', 'verify', file('chain-rotated.json', chainOf([v1, v2, v3, signed])), '--json']).code).toBe(0);
    const wrong = parley(['accord', 'consent', proposal, '--key', keyFile, '--json'], { PARLEY_PASSPHRASE: 'wrong passphrase' });
    expect(wrong.code).toBe(2);
    expect(json(wrong).code).toBe('PASSPHRASE_WRONG');
  });

  it("refuses a key the version does not name (2), and a file that is not a proposal (2)", () => {
    const proposal = file('join-jp-2.json', { accord: d3, signatures: [] });
    const r = parley(['accord', 'consent', proposal, '--key', file('other.key', formatSignerKey(generateSignerKey('xx.example/log'))), '--json']);
    expect(r.code).toBe(2);
    expect(json(r).code).toBe('USAGE');
    const notProposal = parley(['accord', 'consent', file('np.json', '[1,2]'), '--key', file('jp2.key', formatSignerKey(keys.JP)), '--json']);
    expect(notProposal.code).toBe(2);
    expect(json(notProposal).code).toBe('FILE_UNREADABLE');
  });
});

describe('parley accord install CHAINFILE (a party that joins a running channel)', () => {
  it("JP (parley init) consents with its data directory's key; the chain naming it installs (genesis as accord.json, later versions in the store); a chain without it is refused", async () => {
    const pass = 'correct horse battery staple';
    const env = { PARLEY_PASSPHRASE: pass };
    const init = parley(['init', '--party', 'JP', '--origin', 'jp.example/log', '--data', join(dir, 'jp'), '--json'], env);
    expect(init.code, init.stderr).toBe(0);
    const jp = JSON.parse(readFileSync(join(dir, 'jp', 'party.json'), 'utf8')) as AccordParty;
    const d = draftAmendment(c1, { ...c1.accord, parties: [...c1.accord.parties, jp] });
    const proposal = file('join-jp-data.json', { accord: d, signatures: approve(c1, d, ['US', 'CN']).signatures });
    const consent = parley(['accord', 'consent', proposal, '--data', join(dir, 'jp'), '--json'], env);
    expect(consent.code, consent.stdout + consent.stderr).toBe(0);
    const signed = JSON.parse(readFileSync(proposal, 'utf8')) as SignedAccord;
    const chainFile = file('chain-jp.json', chainOf([v1, { accord: signed.accord, signatures: signed.signatures }]));
    // Not yet in force for JP: a chain that does not name it is refused (2) and nothing is written.
    const early = parley(['accord', 'install', file('chain-v1.json', chainOf([v1])), '--data', join(dir, 'jp'), '--json'], env);
    expect(early.code).toBe(2);
    expect(existsSync(join(dir, 'jp', 'accord.json'))).toBe(false);
    const r = parley(['accord', 'install', chainFile, '--data', join(dir, 'jp'), '--json'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ channel, version: 2, party: 'JP', versions: 2 });
    expect(verifyAccord(JSON.parse(readFileSync(join(dir, 'jp', 'accord.json'), 'utf8')) as SignedAccord).id).toBe(channel);
    // A broken chain is not installed (1).
    const broken = parley(['accord', 'install', file('chain-jp-bad.json', chainOf([v1, { accord: signed.accord, signatures: signed.signatures.filter((s) => s.party !== 'JP') }])), '--data', join(dir, 'jp'), '--json'], env);
    expect(broken.code).toBe(1);
    expect(json(broken).code).toBe('ACCORD_CONSENT');
  }, 60_000);
});

describe('parley init --chain CHAINFILE (join a running channel from its chain; serve catches up)', () => {
  it('walks the chain before writing anything; binds the data directory to its channel; serve fetches the chain that names the party from a node, verifies it from version 1 and starts', async () => {
    const env = { PARLEY_PASSPHRASE: 'correct horse battery staple' };
    const kr = join(dir, 'kr');
    // A chain that does not verify: nothing is written (1).
    const bad = parley(['init', '--party', 'KR', '--origin', 'kr.example/log', '--data', join(dir, 'kr-bad'), '--chain', file('chain-no-quorum.json', chainOf([v1, approve(c1, d2, ['US'])])), '--json'], env);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(existsSync(join(dir, 'kr-bad', 'keys.enc'))).toBe(false);
    const init = parley(['init', '--party', 'KR', '--origin', 'kr.example/log', '--data', kr, '--chain', file('chain-for-kr.json', chainOf([v1])), '--json'], env);
    expect(init.code, init.stdout + init.stderr).toBe(0);
    expect(json(init)).toMatchObject({ id: 'KR', channel, chainVersion: 1 });
    expect(verifyAccord(JSON.parse(readFileSync(join(kr, 'accord.json'), 'utf8')) as SignedAccord).id).toBe(channel);
    // The others add KR; KR consents with its data directory's key.
    const me = JSON.parse(readFileSync(join(kr, 'party.json'), 'utf8')) as AccordParty;
    const d = draftAmendment(c1, { ...c1.accord, parties: [...c1.accord.parties, me] });
    const proposal = file('join-kr.json', { accord: d, signatures: approve(c1, d, ['US', 'CN']).signatures });
    expect(parley(['accord', 'consent', proposal, '--data', kr, '--json'], env).code).toBe(0);
    const signed = JSON.parse(readFileSync(proposal, 'utf8')) as SignedAccord;
    const chain2 = JSON.stringify(chainOf([v1, { accord: signed.accord, signatures: signed.signatures }]));
    // A channel node answering GET /v1/accord/chain (real HTTP on 127.0.0.1); a second one answers garbage.
    const { createServer } = await import('node:http');
    const asked: string[] = [];
    const serveText = (text: string) => createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(req.url === '/v1/accord/chain' ? 200 : 404, { 'content-type': 'application/json' }).end(text);
    });
    const good = serveText(chain2);
    const junk = serveText('{"channel":"x"}');
    await Promise.all([good, junk].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
    const portOf = (s: typeof good) => (s.address() as { port: number }).port;
    const { spawn } = await import('node:child_process');
    const { createServer: net } = await import('node:net');
    const port = await new Promise<number>((r) => { const s = net().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
    const child = spawn(process.execPath, [BIN, 'serve', '--data', kr, '--port', String(port), '--json', '--peer', `CN=http://127.0.0.1:${portOf(junk)}`, '--peer', `US=http://127.0.0.1:${portOf(good)}`], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (x: string) => (err += x));
    try {
      const started = await new Promise<string>((done, fail) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (x: string) => {
          out += x;
          if (out.includes('\n')) done(out);
        });
        child.once('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)));
      });
      expect(started).toContain('127.0.0.1');
      const held = (await (await fetch(`http://127.0.0.1:${port}/v1/accord/chain`)).json()) as { versions: unknown[] };
      expect(held.versions.length).toBe(2);
      expect(asked).toContain('/v1/accord/chain');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      good.close();
      junk.close();
    }
  }, 90_000);
});
