/**
 * The `parley` CLI contract (exit codes and JSON fields auditors script
 * against), tested by running the real built binary as a child process:
 * `node packages/cli/bin/parley.js …`.
 *
 *   0 valid / done · 1 the check ran and failed · 2 unusable arguments
 *
 * Data: real checkpoints and Rekor v2 inclusion proofs from
 * shared/vectors/checkpoints.json, and every transparency-dev/merkle proof
 * probe from shared/vectors/rfc6962.json (see that directory's README for
 * provenance; override its location with PARLEY_VECTORS). Failures are
 * asserted by exit code and, where JSON is printed, by stable error code —
 * never by message text (STYLE.md).
 */
import { type SpawnSyncReturns, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  formatKeyId,
  newSigner,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
} from '@parley/core/node';
import { type ConsistencyProbe, type InclusionProbe, type Rfc6962Vectors, loadVectors } from '../../core/test/helpers/vectors.js';

// ---------------------------------------------------------------------------
// Locations, vectors and the process runner

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const BIN = join(REPO, 'packages/cli/bin/parley.js');

interface CheckpointVector {
  id: string;
  note_b64: string;
  parsed?: { origin: string; tree_size: number; root_hash_b64: string };
  signatures?: { key_name: string; key_id_hex: string; vkey: string | null; type: string; timestamp?: number }[];
  inclusion?: { log_index: number; tree_size: number; leaf_hash_b64: string; proof_b64: string[]; root_hash_b64: string };
  expect: { valid_with?: string[]; valid?: boolean };
}

const CP = loadVectors<{ checkpoints: CheckpointVector[] }>('checkpoints.json').checkpoints;
const RFC6962 = loadVectors<Rfc6962Vectors>('rfc6962.json');

function vector(id: string): CheckpointVector {
  const v = CP.find((c) => c.id === id);
  if (!v) throw new Error(`no checkpoint vector ${id}`);
  return v;
}

const noteBytes = (v: CheckpointVector) => Buffer.from(v.note_b64, 'base64');
const logVkey = (v: CheckpointVector) => v.expect.valid_with![0]!;
const witnessVkeys = (v: CheckpointVector) =>
  v.signatures!.filter((s) => s.type.includes('cosignature/v1')).map((s) => s.vkey!);
const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
const is32 = (b64: string) => Buffer.from(b64, 'base64').length === 32;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary synchronously; `input` is its standard input. */
function parley(args: readonly string[], input?: string | Uint8Array): Run {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 30_000,
    ...(input !== undefined ? { input } : {}),
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the binary without blocking, so batches can run a few at a time. */
function parleyAsync(args: readonly string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Maps `fn` over `items` with at most `limit` in flight; results in order. */
async function pooled<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const CONCURRENCY = 4;

/** Parses the single JSON object a `--json` command prints. */
function json(r: Run): Record<string, any> {
  return JSON.parse(r.stdout) as Record<string, any>;
}

let tmp = '';
let fileCount = 0;

/** Writes a temp file and returns its path. */
function tmpFile(content: string | Uint8Array, name = `f${fileCount++}`): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

/** A proof file body: one hash per line, as base64, lowercase hex or uppercase hex with CRLF. */
function proofText(proof: readonly string[], style: 'b64' | 'hex' | 'HEX-crlf'): string {
  if (style === 'b64') return proof.map((p) => `${p}\n`).join('');
  if (style === 'hex') return proof.map((p) => `${hex(p)}\n`).join('');
  return `${proof.map((p) => hex(p).toUpperCase()).join('\r\n')}\r\n\r\n`;
}

/** A 32-byte hash argument in the same style. */
function hashArg(b64: string, style: 'b64' | 'hex' | 'HEX-crlf'): string {
  return style === 'b64' ? b64 : style === 'hex' ? hex(b64) : hex(b64).toUpperCase();
}

/** Changes one character of a base64 or hex hash, keeping it well-formed. */
function flipChar(s: string, at = 0): string {
  const c = s[at]!;
  const swap = /[0-9a-fA-F]/.test(c) ? (c === '0' ? '1' : '0') : c === 'A' ? 'B' : 'A';
  return s.slice(0, at) + swap + s.slice(at + 1);
}

beforeAll(() => {
  if (!existsSync(join(REPO, 'packages/cli/dist/main.js')) || !existsSync(join(REPO, 'packages/core/dist/node.js'))) {
    execFileSync('npx', ['tsc', '-b', 'packages/core', 'packages/cli'], { cwd: REPO, stdio: 'inherit' });
  }
  tmp = mkdtempSync(join(tmpdir(), 'parley-cli-test-'));
});

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------

describe('parley log verify-checkpoint', () => {
  const sumdb = CP.filter((c) => c.id.startsWith('sumdb-') && c.parsed !== undefined);
  const rekor = CP.filter((c) => c.id.startsWith('rekor-') && c.parsed !== undefined);
  const arche = vector('arche2025h1-staging-ct-witnessed');
  const SUMDB_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

  it('has the vectors it relies on', () => {
    expect(sumdb).toHaveLength(2);
    expect(rekor).toHaveLength(2);
    expect(witnessVkeys(arche)).toHaveLength(4);
    // The sum.golang.org key's base64 contains '+': vkeys split on the first two '+' only.
    expect(SUMDB_KEY.split('+').length).toBeGreaterThan(3);
    expect(sumdb.every((v) => logVkey(v) === SUMDB_KEY)).toBe(true);
  });

  it.each(sumdb.map((v) => [v.id, v] as const))('verifies %s with the sum.golang.org key and prints origin, size, root', (_, v) => {
    const r = parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, tmpFile(noteBytes(v))]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(v.parsed!.origin);
    expect(r.stdout).toContain(String(v.parsed!.tree_size));
    expect(r.stdout).toContain(v.parsed!.root_hash_b64);

    const j = parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, '--json', tmpFile(noteBytes(v))]);
    expect(j.code).toBe(0);
    expect(json(j)).toMatchObject({
      valid: true,
      origin: v.parsed!.origin,
      treeSize: v.parsed!.tree_size,
      rootHash: v.parsed!.root_hash_b64,
      rootHashHex: hex(v.parsed!.root_hash_b64),
      signers: ['sum.golang.org+033de0ae'],
      cosignatures: [],
    });
  });

  it('refuses a witness (cosignature/v1) key given as the log key: exit 2, pointing at --witness', () => {
    const witness = witnessVkeys(arche)[0]!;
    const r = parley(['log', 'verify-checkpoint', '--key', witness, tmpFile(noteBytes(arche))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--witness');
  });

  it('checks --origin against the origin line, not the key name', () => {
    const file = tmpFile(noteBytes(sumdb[0]!));
    expect(parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, '--origin', 'go.sum database tree', file]).code).toBe(0);
    const bad = parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, '--origin', 'sum.golang.org', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ORIGIN_MISMATCH');
    const badJson = parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, '--origin', 'sum.golang.org', '--json', file]);
    expect(badJson.code).toBe(1);
    expect(json(badJson)).toMatchObject({ valid: false, code: 'ORIGIN_MISMATCH' });
  });

  it('rejects the tampered-size sum.golang.org checkpoint (exit 1, SIGNATURE_INVALID)', () => {
    const file = tmpFile(noteBytes(vector('sumdb-6476701-tampered-size')));
    const r = parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('SIGNATURE_INVALID');
    const j = parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, '--json', file]);
    expect(j.code).toBe(1);
    expect(json(j)).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' });
  });

  it('verifies the arche2025h1 checkpoint with its Ed25519 log key and a quorum of all 4 witnesses', () => {
    const file = tmpFile(noteBytes(arche));
    const witnesses = witnessVkeys(arche).flatMap((w) => ['--witness', w]);
    const r = parley(['log', 'verify-checkpoint', '--key', logVkey(arche), ...witnesses, '--quorum', '4', '--json', file]);
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out).toMatchObject({ valid: true, origin: arche.parsed!.origin, treeSize: arche.parsed!.tree_size, rootHash: arche.parsed!.root_hash_b64 });
    // Only the Ed25519 log signature counts; the RFC 6962 signature under the same name (other key id) is ignored.
    expect(out['signers']).toEqual(['arche2025h1.staging.ct.transparency.dev+ba2f06c0']);
    const cosigs = out['cosignatures'] as { witness: string; timestamp: number; time: string }[];
    expect(cosigs).toHaveLength(4);
    for (const c of cosigs) {
      expect(c.timestamp).toBe(1779573024);
      expect(c.time).toBe(new Date(1779573024 * 1000).toISOString());
    }
    const expectedWitnesses = arche.signatures!.filter((s) => s.type.includes('cosignature/v1')).map((s) => `${s.key_name}+${s.key_id_hex}`);
    expect(cosigs.map((c) => c.witness).sort()).toEqual(expectedWitnesses.sort());
    // Human output: same verdict.
    expect(parley(['log', 'verify-checkpoint', '--key', logVkey(arche), ...witnesses, '--quorum', '4', file]).code).toBe(0);
  });

  it('fails a quorum it cannot meet (exit 1, QUORUM_NOT_MET)', () => {
    const file = tmpFile(noteBytes(arche));
    const witnesses = witnessVkeys(arche).flatMap((w) => ['--witness', w]);
    const r = parley(['log', 'verify-checkpoint', '--key', logVkey(arche), ...witnesses, '--quorum', '5', '--json', file]);
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ valid: false, code: 'QUORUM_NOT_MET' });
    // The same witness given four times is one witness.
    const one = witnessVkeys(arche)[0]!;
    const dup = parley(['log', 'verify-checkpoint', '--key', logVkey(arche), ...Array<string[]>(4).fill(['--witness', one]).flat(), '--quorum', '2', '--json', file]);
    expect(dup.code).toBe(1);
    expect(json(dup)).toMatchObject({ valid: false, code: 'QUORUM_NOT_MET' });
  });

  it('rejects the clobbered-size arche2025h1 copy (exit 1)', () => {
    const file = tmpFile(noteBytes(vector('arche2025h1-clobbered-size')));
    const witnesses = witnessVkeys(arche).flatMap((w) => ['--witness', w]);
    const r = parley(['log', 'verify-checkpoint', '--key', logVkey(arche), ...witnesses, '--json', file]);
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' });
    expect(parley(['log', 'verify-checkpoint', '--key', logVkey(arche), file]).code).toBe(1);
  });

  it.each(rekor.map((v) => [v.id, v] as const))('verifies Rekor v2 checkpoint %s with its log key', (_, v) => {
    const r = parley(['log', 'verify-checkpoint', '--key', logVkey(v), '--origin', v.parsed!.origin, '--json', tmpFile(noteBytes(v))]);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ valid: true, treeSize: v.parsed!.tree_size, rootHash: v.parsed!.root_hash_b64 });
  });

  it('reads the checkpoint from standard input with -', () => {
    const v = rekor[0]!;
    const r = parley(['log', 'verify-checkpoint', '--key', logVkey(v), '--json', '-'], noteBytes(v));
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ valid: true, treeSize: v.parsed!.tree_size });
    const tampered = parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, '-'], noteBytes(vector('sumdb-6476701-tampered-size')));
    expect(tampered.code).toBe(1);
  });

  it('exits 1 when only an unrelated key is given (NOTE_UNVERIFIED)', () => {
    const file = tmpFile(noteBytes(sumdb[0]!));
    const r = parley(['log', 'verify-checkpoint', '--key', logVkey(rekor[0]!), '--json', file]);
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ valid: false, code: 'NOTE_UNVERIFIED' });
    expect(parley(['log', 'verify-checkpoint', '--key', logVkey(rekor[0]!), file]).code).toBe(1);
  });

  it('accepts the checkpoint when one of several --key values signed it', () => {
    const r = parley(['log', 'verify-checkpoint', '--key', logVkey(rekor[0]!), '--key', SUMDB_KEY, tmpFile(noteBytes(sumdb[0]!))]);
    expect(r.code).toBe(0);
  });

  it('exits 1 for a file that is not a note (not UTF-8, or no signatures)', () => {
    expect(parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, tmpFile(Uint8Array.of(0xff, 0xfe, 0x00, 0x0a))]).code).toBe(1);
    expect(parley(['log', 'verify-checkpoint', '--key', SUMDB_KEY, tmpFile('go.sum database tree\n1\n')]).code).toBe(1);
  });

  it('exits 2 for unusable arguments', () => {
    const file = tmpFile(noteBytes(sumdb[0]!));
    const usage = (args: string[]) => expect(parley(['log', 'verify-checkpoint', ...args]).code, args.join(' ')).toBe(2);
    usage(['--key', 'not-a-verifier-key', file]);
    usage(['--key', 'sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8', file]); // key id does not match
    usage(['--key', SUMDB_KEY, '--witness', 'not-a-verifier-key', file]);
    usage(['--key', SUMDB_KEY, join(tmp, 'no-such-checkpoint')]);
    usage(['--key', SUMDB_KEY, tmp]); // a directory
    usage([file]); // no --key
    usage(['--key', SUMDB_KEY]); // no file
    usage(['--key', SUMDB_KEY, '--quorum', 'two', file]);
    usage(['--key', SUMDB_KEY, '--quorum', '-1', file]);
  });
});

// ---------------------------------------------------------------------------

describe('parley log verify-inclusion', () => {
  const rekor = CP.filter((c) => c.inclusion !== undefined);

  const inclusionArgs = (inc: NonNullable<CheckpointVector['inclusion']>, style: 'b64' | 'hex' | 'HEX-crlf', proofFile: string) => [
    'log',
    'verify-inclusion',
    '--leaf-hash',
    hashArg(inc.leaf_hash_b64, style),
    '--index',
    String(inc.log_index),
    '--size',
    String(inc.tree_size),
    '--root',
    hashArg(inc.root_hash_b64, style === 'b64' ? 'hex' : 'b64'),
    '--proof',
    proofFile,
  ];

  it('has the Rekor v2 inclusion proofs', () => {
    expect(rekor).toHaveLength(2);
  });

  it.each(rekor.map((v) => [v.id, v] as const))('verifies the Rekor v2 proof %s in every hash encoding', (_, v) => {
    const inc = v.inclusion!;
    for (const style of ['b64', 'hex', 'HEX-crlf'] as const) {
      const r = parley([...inclusionArgs(inc, style, tmpFile(proofText(inc.proof_b64, style))), '--json']);
      expect(r.code, style).toBe(0);
      expect(json(r)).toMatchObject({ valid: true, index: inc.log_index, treeSize: inc.tree_size, rootHash: inc.root_hash_b64, proofLength: inc.proof_b64.length });
    }
    // The proof on standard input, human output.
    const stdin = parley(inclusionArgs(inc, 'hex', '-'), proofText(inc.proof_b64, 'b64'));
    expect(stdin.code).toBe(0);
    expect(stdin.stdout).toContain(inc.root_hash_b64);
  });

  it('rejects a Rekor v2 proof with any one hash changed, dropped or added (exit 1)', async () => {
    const inc = rekor[0]!.inclusion!;
    const variants: { name: string; proof: string[]; leaf?: string; root?: string; index?: number }[] = [
      ...inc.proof_b64.map((_, i) => ({ name: `line ${i + 1}`, proof: inc.proof_b64.map((p, j) => (j === i ? flipChar(p, 5) : p)) })),
      { name: 'last line dropped', proof: inc.proof_b64.slice(0, -1) },
      { name: 'extra line', proof: [...inc.proof_b64, inc.proof_b64[0]!] },
      { name: 'empty proof', proof: [] },
      { name: 'leaf hash', proof: inc.proof_b64, leaf: flipChar(inc.leaf_hash_b64) },
      { name: 'root', proof: inc.proof_b64, root: flipChar(inc.root_hash_b64) },
      { name: 'other index', proof: inc.proof_b64, index: inc.log_index - 1 },
    ];
    const results = await pooled(variants, CONCURRENCY, (v, i) => {
      const style = i % 2 === 0 ? 'b64' : 'hex';
      return parleyAsync([
        'log', 'verify-inclusion',
        '--leaf-hash', v.leaf ?? inc.leaf_hash_b64,
        '--index', String(v.index ?? inc.log_index),
        '--size', String(inc.tree_size),
        '--root', v.root ?? inc.root_hash_b64,
        '--proof', tmpFile(proofText(v.proof, style)),
        '--json',
      ]);
    });
    for (const [i, r] of results.entries()) {
      expect(r.code, variants[i]!.name).toBe(1);
      expect(json(r), variants[i]!.name).toMatchObject({ valid: false, code: 'PROOF_INVALID' });
    }
    // Human mode: the reason on stderr, nothing on stdout.
    const human = parley(inclusionArgs(inc, 'b64', tmpFile(proofText(variants[0]!.proof, 'b64'))));
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain('PROOF_INVALID');
  });

  it('exits 2 for unusable arguments', async () => {
    const inc = rekor[0]!.inclusion!;
    const proof = tmpFile(proofText(inc.proof_b64, 'b64'));
    const base = { leaf: inc.leaf_hash_b64, index: String(inc.log_index), size: String(inc.tree_size), root: inc.root_hash_b64, proof };
    const cases: { name: string; args: Partial<typeof base> }[] = [
      { name: 'index = size', args: { index: String(inc.tree_size) } },
      { name: 'index > size', args: { index: String(inc.tree_size + 5) } },
      { name: 'size 0', args: { index: '0', size: '0' } },
      { name: 'negative index', args: { index: '-1' } },
      { name: 'index not a number', args: { index: '1e3' } },
      { name: 'root not a hash', args: { root: 'not-a-hash' } },
      { name: 'root 31 bytes', args: { root: Buffer.alloc(31, 7).toString('base64') } },
      { name: 'root 63 hex digits', args: { root: hex(inc.root_hash_b64).slice(1) } },
      { name: 'root non-canonical base64', args: { root: `${inc.root_hash_b64.slice(0, -2)}1=` } },
      { name: 'leaf not a hash', args: { leaf: 'zz' } },
      { name: 'garbage proof line', args: { proof: tmpFile(`${inc.proof_b64[0]}\nnot a hash\n${inc.proof_b64[1]}\n`) } },
      { name: 'short proof line', args: { proof: tmpFile(`${hex(inc.proof_b64[0]!).slice(2)}\n`) } },
      { name: 'proof not UTF-8', args: { proof: tmpFile(Uint8Array.of(0xc3, 0x28, 0x0a)) } },
      { name: 'proof over 64 lines', args: { proof: tmpFile(proofText(Array<string>(65).fill(inc.proof_b64[0]!), 'b64')) } },
      { name: 'missing proof file', args: { proof: join(tmp, 'no-such-proof') } },
    ];
    const results = await pooled(cases, CONCURRENCY, (c) => {
      const a = { ...base, ...c.args };
      return parleyAsync(['log', 'verify-inclusion', '--leaf-hash', a.leaf, '--index', a.index, '--size', a.size, '--root', a.root, '--proof', a.proof]);
    });
    for (const [i, r] of results.entries()) expect(r.code, cases[i]!.name).toBe(2);
    // A required option left out.
    expect(parley(['log', 'verify-inclusion', '--leaf-hash', inc.leaf_hash_b64, '--index', '1', '--size', '2', '--root', inc.root_hash_b64]).code).toBe(2);
  });
});

// ---------------------------------------------------------------------------

// Each probe is a process of its own (about 60 per test, each paying the CLI's
// start-up): on a busy 2-core machine a test takes more than vitest's default.
describe('RFC 6962 proof probes (transparency-dev/merkle testdata) through the CLI', { timeout: 240_000 }, () => {
  const styles = ['b64', 'hex', 'HEX-crlf'] as const;
  const incUsable = (p: InclusionProbe) =>
    [p.leaf_hash_b64, p.root_b64, ...(p.proof_b64 ?? [])].every(is32) && p.leaf_index < p.tree_size;
  const conUsable = (p: ConsistencyProbe) =>
    [p.root1_b64, p.root2_b64, ...(p.proof_b64 ?? [])].every(is32) && p.size1 >= 1 && p.size1 <= p.size2;

  const incArgs = (p: InclusionProbe, style: (typeof styles)[number]) => [
    'log', 'verify-inclusion',
    '--leaf-hash', style === 'b64' || !is32(p.leaf_hash_b64) ? p.leaf_hash_b64 : hashArg(p.leaf_hash_b64, style),
    '--index', String(p.leaf_index),
    '--size', String(p.tree_size),
    '--root', style === 'b64' || !is32(p.root_b64) ? p.root_b64 : hashArg(p.root_b64, style),
    '--proof', tmpFile(proofText(p.proof_b64 ?? [], (p.proof_b64 ?? []).every(is32) ? style : 'b64')),
  ];
  const conArgs = (p: ConsistencyProbe, style: (typeof styles)[number]) => [
    'log', 'verify-consistency',
    '--old-size', String(p.size1),
    '--old-root', style === 'b64' || !is32(p.root1_b64) ? p.root1_b64 : hashArg(p.root1_b64, style),
    '--new-size', String(p.size2),
    '--new-root', style === 'b64' || !is32(p.root2_b64) ? p.root2_b64 : hashArg(p.root2_b64, style),
    '--proof', tmpFile(proofText(p.proof_b64 ?? [], (p.proof_b64 ?? []).every(is32) ? style : 'b64')),
  ];

  /** Runs every probe; returns the ones whose exit code differs from `want`. */
  async function mismatches<P extends { id: string }>(probes: readonly P[], args: (p: P, style: (typeof styles)[number]) => string[], want: (p: P) => number) {
    const runs = await pooled(probes, CONCURRENCY, (p, i) => parleyAsync(args(p, styles[i % styles.length]!)));
    return probes.flatMap((p, i) => (runs[i]!.code === want(p) ? [] : [{ id: p.id, want: want(p), got: runs[i]!.code, stderr: runs[i]!.stderr }]));
  }

  it('every usable inclusion probe: exit 0 when valid, 1 when not', async () => {
    const probes = RFC6962.inclusion_proofs.filter(incUsable);
    expect(probes.length).toBeGreaterThanOrEqual(50);
    expect(probes.some((p) => p.expect_valid) && probes.some((p) => !p.expect_valid)).toBe(true);
    expect(await mismatches(probes, incArgs, (p) => (p.expect_valid ? 0 : 1))).toEqual([]);
  });

  // The preceding/trailing-garbage probes put an empty hash before or after the
  // happy-path proof. A proof file cannot carry an empty hash: it becomes a
  // blank line, which the file format skips, so what the CLI sees is the
  // happy-path proof itself.
  const hasEmptyHash = (p: { proof_b64: string[] | null }) => (p.proof_b64 ?? []).includes('');

  it('a proof file cannot carry an empty hash: the garbage probes reduce to their happy path (exit 0)', async () => {
    const inc = RFC6962.inclusion_proofs.filter(hasEmptyHash);
    const con = RFC6962.consistency_proofs.filter(hasEmptyHash);
    expect(inc.length + con.length).toBeGreaterThanOrEqual(10);
    expect(await mismatches(inc, incArgs, () => 0)).toEqual([]);
    expect(await mismatches(con, conArgs, () => 0)).toEqual([]);
  });

  it('every other inclusion probe (index ≥ size, non-32-byte hashes) is refused as unusable: exit 2', async () => {
    const probes = RFC6962.inclusion_proofs.filter((p) => !incUsable(p) && !hasEmptyHash(p));
    expect(probes.every((p) => !p.expect_valid)).toBe(true);
    expect(await mismatches(probes, incArgs, () => 2)).toEqual([]);
  });

  it('every usable consistency probe: exit 0 when valid, 1 when not', async () => {
    const probes = RFC6962.consistency_proofs.filter(conUsable);
    expect(probes.length).toBeGreaterThanOrEqual(50);
    expect(probes.some((p) => p.expect_valid) && probes.some((p) => !p.expect_valid)).toBe(true);
    expect(await mismatches(probes, conArgs, (p) => (p.expect_valid ? 0 : 1))).toEqual([]);
  });

  it('every other consistency probe (old size 0, old > new, non-32-byte hashes) is refused as unusable: exit 2', async () => {
    // Policy: hashes must be 32 bytes, so consistency/additional/sizes-are-equal-one-and-proof-is-empty
    // (expect_valid true with 12-byte placeholder roots) is a usage error here — see the vectors' encoding_notes.
    const probes = RFC6962.consistency_proofs.filter((p) => !conUsable(p) && !hasEmptyHash(p));
    expect(await mismatches(probes, conArgs, () => 2)).toEqual([]);
  });

  it('verify-consistency: --json reports the verdict, the proof can come from standard input', () => {
    const valid = RFC6962.consistency_proofs.find((p) => conUsable(p) && p.expect_valid && (p.proof_b64 ?? []).length >= 2)!;
    const ok = parley([...conArgs(valid, 'hex'), '--json']);
    expect(ok.code).toBe(0);
    expect(json(ok)).toMatchObject({ valid: true, oldSize: valid.size1, newSize: valid.size2, oldRoot: valid.root1_b64, newRoot: valid.root2_b64 });
    const args = conArgs(valid, 'b64');
    args[args.length - 1] = '-';
    expect(parley(args, proofText(valid.proof_b64!, 'hex')).code).toBe(0);
    // One proof hash changed → 1 with PROOF_INVALID.
    const flipped = parley([...args, '--json'], proofText(valid.proof_b64!.map((p, i) => (i === 0 ? flipChar(p, 3) : p)), 'b64'));
    expect(flipped.code).toBe(1);
    expect(json(flipped)).toMatchObject({ valid: false, code: 'PROOF_INVALID' });
    // Roots swapped → 1.
    const swapped = parley(['log', 'verify-consistency', '--old-size', String(valid.size1), '--old-root', valid.root2_b64, '--new-size', String(valid.size2), '--new-root', valid.root1_b64, '--proof', '-'], proofText(valid.proof_b64!, 'b64'));
    expect(swapped.code).toBe(1);
    // A garbage line or a non-hash root → 2.
    expect(parley(args, `${valid.proof_b64![0]}\n!!\n`).code).toBe(2);
    expect(parley(['log', 'verify-consistency', '--old-size', '1', '--old-root', 'xyz', '--new-size', '2', '--new-root', valid.root2_b64, '--proof', '-'], '').code).toBe(2);
  });
});

// ---------------------------------------------------------------------------

describe('parley keygen', () => {
  it('--json prints a signer key and the verifier key that matches it', () => {
    const r = parley(['keygen', '--name', 'parley.example/us', '--json']);
    expect(r.code).toBe(0);
    const out = json(r) as { name: string; type: string; signer: string; verifier: string };
    expect(out.name).toBe('parley.example/us');
    expect(out.type).toBe('ed25519');
    expect(out.signer.startsWith('PRIVATE+KEY+parley.example/us+')).toBe(true);
    const vkey = parseVerifierKey(out.verifier);
    const skey = parseSignerKey(out.signer);
    expect(vkey.name).toBe('parley.example/us');
    expect(vkey.type).toBe(SIG_TYPE_ED25519);
    expect(out.verifier.split('+')[1]).toBe(formatKeyId(vkey.keyId));
    expect(skey.keyId).toBe(vkey.keyId);
    expect(Buffer.from(skey.publicKey).equals(Buffer.from(vkey.publicKey))).toBe(true);
  });

  it('prints the signer key then the verifier key without --json, and a fresh key each run', () => {
    const a = parley(['keygen', '--name', 'parley.example/cn']);
    const b = parley(['keygen', '--name', 'parley.example/cn']);
    expect(a.code).toBe(0);
    const lines = a.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(parseSignerKey(lines[0]!).keyId).toBe(parseVerifierKey(lines[1]!).keyId);
    expect(b.stdout).not.toBe(a.stdout);
  });

  it('a checkpoint signed with the generated key verifies with its verifier key, and not with another', () => {
    const gen = json(parley(['keygen', '--name', 'parley.example/us', '--json'])) as { signer: string; verifier: string };
    const other = json(parley(['keygen', '--name', 'parley.example/us', '--json'])) as { verifier: string };
    const rootHash = new Uint8Array(32).fill(0xab);
    const file = tmpFile(signCheckpoint({ origin: 'parley.example/us', treeSize: 42, rootHash, extensions: [] }, newSigner(parseSignerKey(gen.signer))));
    const r = parley(['log', 'verify-checkpoint', '--key', gen.verifier, '--origin', 'parley.example/us', '--json', file]);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ valid: true, treeSize: 42, rootHash: Buffer.from(rootHash).toString('base64') });
    const wrong = parley(['log', 'verify-checkpoint', '--key', other.verifier, '--json', file]);
    expect(wrong.code).toBe(1);
    expect(json(wrong)).toMatchObject({ valid: false, code: 'NOTE_UNVERIFIED' });
  });

  it('--witness makes a cosignature/v1 (0x04) key whose cosignatures count towards a quorum', () => {
    const w = parley(['keygen', '--name', 'witness.example/cn', '--witness', '--json']);
    expect(w.code).toBe(0);
    const wit = json(w) as { type: string; signer: string; verifier: string };
    expect(wit.type).toBe('cosignature/v1');
    expect(parseVerifierKey(wit.verifier).type).toBe(SIG_TYPE_COSIGNATURE_V1);
    expect(parseSignerKey(wit.signer).type).toBe(SIG_TYPE_COSIGNATURE_V1);

    const log = json(parley(['keygen', '--name', 'parley.example/us', '--json'])) as { signer: string; verifier: string };
    const now = 1_800_000_000;
    const note = signCheckpoint({ origin: 'parley.example/us', treeSize: 7, rootHash: new Uint8Array(32).fill(1), extensions: [] }, [
      newSigner(parseSignerKey(log.signer)),
      newSigner(parseSignerKey(wit.signer), { now: () => now }),
    ]);
    const file = tmpFile(note);
    const r = parley(['log', 'verify-checkpoint', '--key', log.verifier, '--witness', wit.verifier, '--quorum', '1', '--json', file]);
    expect(r.code).toBe(0);
    const cosigs = json(r)['cosignatures'] as { witness: string; timestamp: number }[];
    expect(cosigs).toEqual([expect.objectContaining({ witness: wit.verifier.split('+').slice(0, 2).join('+'), timestamp: now })]);
    expect(parley(['log', 'verify-checkpoint', '--key', log.verifier, '--witness', wit.verifier, '--quorum', '2', file]).code).toBe(1);
  });

  it('exits 2 for an invalid or missing --name', () => {
    for (const name of ['has space', 'has+plus', '']) {
      expect(parley(['keygen', '--name', name]).code, JSON.stringify(name)).toBe(2);
    }
    expect(parley(['keygen']).code).toBe(2);
  });
});

// ---------------------------------------------------------------------------

describe('parley log demo', () => {
  it('builds, witnesses and audits a 600-entry log; its checkpoint verifies with the printed keys', () => {
    const dir = join(tmp, 'demo');
    const r = parley(['log', 'demo', '--entries', '600', '--samples', '20', '--json', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r) as {
      ok: boolean;
      checks: { name: string; ok: boolean }[];
      logKey: string;
      witnessKey: string;
      dir: string;
      checkpoints: { treeSize: number; rootHash: string }[];
    };
    expect(out.ok).toBe(true);
    expect(out.checks.length).toBeGreaterThan(0);
    expect(out.checks.filter((c) => !c.ok)).toEqual([]);
    expect(resolve(out.dir)).toBe(resolve(dir));
    expect(out.checkpoints.map((c) => c.treeSize)).toEqual([300, 600]);
    for (const p of ['checkpoint', 'tile/0/000', 'tile/entries/000']) expect(existsSync(join(dir, p)), p).toBe(true);
    expect(parseVerifierKey(out.logKey).type).toBe(SIG_TYPE_ED25519);
    expect(parseVerifierKey(out.witnessKey).type).toBe(SIG_TYPE_COSIGNATURE_V1);

    const cp = join(dir, 'checkpoint');
    const v = parley(['log', 'verify-checkpoint', '--key', out.logKey, '--witness', out.witnessKey, '--quorum', '1', cp]);
    expect(v.code, v.stderr).toBe(0);
    const vj = json(parley(['log', 'verify-checkpoint', '--key', out.logKey, '--witness', out.witnessKey, '--quorum', '1', '--json', cp]));
    expect(vj).toMatchObject({ valid: true, treeSize: 600, rootHash: out.checkpoints[1]!.rootHash });
    expect(vj['cosignatures']).toHaveLength(1);
    // One more witness than signed: not a quorum.
    expect(parley(['log', 'verify-checkpoint', '--key', out.logKey, '--witness', out.witnessKey, '--quorum', '2', cp]).code).toBe(1);
    // The published checkpoint with its tree size changed no longer verifies.
    const text = readFileSync(cp, 'utf8');
    expect(parley(['log', 'verify-checkpoint', '--key', out.logKey, '-'], text.replace('\n600\n', '\n601\n')).code).toBe(1);
  });

  it('exits 2 for unusable --entries or --samples', () => {
    expect(parley(['log', 'demo', '--entries', '1']).code).toBe(2);
    expect(parley(['log', 'demo', '--entries', 'many']).code).toBe(2);
    expect(parley(['log', 'demo', '--entries', '10', '--samples', '-3']).code).toBe(2);
  });
});

// ---------------------------------------------------------------------------

describe('help, version and unknown input', () => {
  const helps: [string[], string][] = [
    [[], 'parley'],
    [['keygen'], 'keygen'],
    [['log'], 'log'],
    [['log', 'verify-checkpoint'], 'verify-checkpoint'],
    [['log', 'verify-inclusion'], 'verify-inclusion'],
    [['log', 'verify-consistency'], 'verify-consistency'],
    [['demo'], 'demo'],
    [['log', 'demo'], 'demo'],
  ];

  it.each(helps.map(([args, name]) => [[...args, '--help'].join(' '), args, name] as const))('%s exits 0 and names the command', async (_, args, name) => {
    const r = await parleyAsync([...args, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(name);
  });

  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'packages/cli/package.json'), 'utf8')) as { version: string };
    const r = parley(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('exits 2 for an unknown command or option, or a missing subcommand', async () => {
    const cases = [
      ['frobnicate'],
      ['log', 'verify-everything'],
      ['--frob'],
      ['keygen', '--name', 'x', '--frob'],
      ['log', 'verify-checkpoint', '--key', 'k', '--frob', 'f'],
      ['log', 'verify-inclusion', '--frob'],
      ['demo', '--frob'],
      ['log'],
    ];
    const runs = await pooled(cases, CONCURRENCY, (c) => parleyAsync(c));
    for (const [i, r] of runs.entries()) expect(r.code, cases[i]!.join(' ')).toBe(2);
  });
});
