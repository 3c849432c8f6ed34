/**
 * Pure checks and conversions for the governance tables of issue 14 (SQLite
 * migration 10, PostgreSQL migration 2), shared by both stores as pure
 * helpers only (tessera's rule: no SQL here).
 *
 * - What a write must satisfy before it touches a table ({@link checkChain},
 *   {@link checkChainExtends}, {@link checkDeparted}, {@link checkEvaluationNote}):
 *   a caller's bug is a `STORE_CONFLICT`, never a half-written row.
 * - How the values earlier releases kept in `settings` become rows
 *   ({@link legacyRows}); the migrations run it inside their transaction:
 *
 *       accord.chain                          {channel, versions, activations} → accord_chain, accord_versions, accord_activations
 *       accord.departed                       {[party]: {party, version, digest, end}} → departed_logs
 *       accord.forks                          [proof text …]                    → accord_forks
 *       evaluation.cosigned/<P>/<i>/<C>       {cosigner, size, timestamp, note} → evaluation_notes
 *
 * A value without its documented shape is not converted: it stays in
 * `settings` for an operator to inspect (the node refuses to open on a chain
 * left there rather than run on the genesis alone: node service.ts).
 */
import { type ChainFileActivation, fail, type SignedAccord } from '@parley/core';
import type { EvaluationNote, StoredAccordChain, StoredDepartedLog, WitnessCosignature } from './types.js';

/** The settings keys migration 10 (SQLite) / 2 (PostgreSQL) moves, as SQL LIKE patterns. */
export const LEGACY_SETTING_PATTERNS: readonly string[] = ['accord.chain', 'accord.departed', 'accord.forks', 'evaluation.cosigned/%'];

/** Recorded time of rows moved from settings, which did not keep one. */
export const MIGRATED_AT = '1970-01-01T00:00:00.000Z';

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** The accord version a signed accord carries (absent: 1, the genesis). */
export function versionOf(v: SignedAccord): number | undefined {
  const n = (v as { accord?: { version?: unknown } } | null)?.accord?.version ?? 1;
  return isInt(n, 1) ? n : undefined;
}

/** A chain checked for storing: each version's number and JSON, each activation in order. */
export interface ChainRows {
  readonly channel: string;
  readonly versions: readonly { readonly version: number; readonly signed: string }[];
  readonly activations: readonly ChainFileActivation[];
}

/**
 * Checks a chain's shape: versions numbered 2, 3, … in order, activations
 * with a party, a version ≥ 1, a size ≥ 0 (and suspectFrom ≥ 0 when given),
 * an entry, at most one per (party, version).
 * @throws StoreError `STORE_CONFLICT`.
 */
export function checkChain(chain: StoredAccordChain): ChainRows {
  const bad = (why: string): never => fail('STORE_CONFLICT', `putAccordChain: ${why}`);
  if (!isText(chain.channel)) bad('empty channel');
  const versions = chain.versions.map((v, i) => {
    const version = versionOf(v);
    if (version !== i + 2) bad(`version ${i + 2} expected at ${i}, found ${String(version)}`);
    if (typeof v !== 'object' || v === null || !Array.isArray(v.signatures)) bad(`version ${i + 2} is not a signed accord`);
    return { version: i + 2, signed: JSON.stringify(v) };
  });
  const seen = new Set<string>();
  for (const a of chain.activations) {
    if (!isText(a.party) || !isInt(a.version, 1) || !isInt(a.size, 0) || typeof a.entry !== 'string') bad(`malformed activation ${JSON.stringify({ party: a.party, version: a.version, size: a.size })}`);
    if (a.suspectFrom !== undefined && !isInt(a.suspectFrom, 0)) bad(`activation of ${a.party} at version ${a.version}: suspectFrom ${a.suspectFrom}`);
    const k = `${a.party} ${a.version}`;
    if (seen.has(k)) bad(`two activations of ${a.party} at version ${a.version}`);
    seen.add(k);
  }
  return { channel: chain.channel, versions, activations: chain.activations };
}

/**
 * Checks that `next` extends `held` (see LogStore.putAccordChain): same
 * channel, no fewer versions, every held activation kept at its size.
 * @throws StoreError `STORE_CONFLICT`.
 */
export function checkChainExtends(held: { channel: string; versions: number; activations: readonly { party: string; version: number; size: number }[] } | undefined, next: ChainRows): void {
  if (held === undefined) return;
  const bad = (why: string): never => fail('STORE_CONFLICT', `putAccordChain: ${why}`);
  if (held.channel !== next.channel) bad(`the chain is channel ${next.channel}'s, the held one ${held.channel}'s`);
  if (next.versions.length < held.versions) bad(`the chain ends at version ${next.versions.length + 1}, before version ${held.versions + 1} held (rolled back)`);
  for (const a of held.activations) {
    if (!next.activations.some((b) => b.party === a.party && b.version === a.version && b.size === a.size)) bad(`the chain drops ${a.party}'s activation of version ${a.version} at ${a.size}`);
  }
}

/** @throws StoreError `STORE_CONFLICT` for a malformed departed log. */
export function checkDeparted(d: StoredDepartedLog): void {
  if (!isText(d.party) || !isText(d.digest) || !isInt(d.version, 2) || !isInt(d.end, 0)) {
    fail('STORE_CONFLICT', `addDepartedLogs: malformed ${JSON.stringify(d)}`);
  }
}

/** @throws StoreError `STORE_CONFLICT` for a malformed evaluation note. */
export function checkEvaluationNote(n: EvaluationNote): void {
  if (!isText(n.party) || !isText(n.cosigner) || !isText(n.note) || !isInt(n.index, 0) || !isInt(n.treeSize, n.index + 1) || !isInt(n.cosignedAt, 0)) {
    fail('STORE_CONFLICT', `addEvaluationNote ${n.party}/${n.index}/${n.cosigner}: malformed (size ${n.treeSize}, time ${n.cosignedAt})`);
  }
}

/** @throws StoreError `STORE_CONFLICT` for more than 1000 rows or a malformed one (addWitnessCosignatures). */
export function checkWitnessCosignatures(rows: readonly WitnessCosignature[]): void {
  if (rows.length > 1000) fail('STORE_CONFLICT', `addWitnessCosignatures: ${rows.length} rows (at most 1000)`);
  for (const r of rows) {
    if (!isText(r.party) || !isInt(r.treeSize, 1) || !(r.note instanceof Uint8Array) || r.note.length === 0) {
      fail('STORE_CONFLICT', `addWitnessCosignatures ${String(r.party)}/${String(r.treeSize)}: malformed`);
    }
  }
}

/** Rows of one legacy setting (see the module doc). */
export type LegacyRows =
  | { readonly kind: 'chain'; readonly chain: ChainRows }
  | { readonly kind: 'departed'; readonly logs: readonly StoredDepartedLog[] }
  | { readonly kind: 'forks'; readonly proofs: readonly string[] }
  | { readonly kind: 'evaluation'; readonly note: EvaluationNote };

/**
 * The rows of the legacy setting `key` with JSON text `value`, or undefined
 * when it is not one of the moved keys or not in its documented shape.
 */
export function legacyRows(key: string, value: string): LegacyRows | undefined {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  try {
    if (key === 'accord.chain') {
      const f = v as { channel?: unknown; versions?: unknown; activations?: unknown };
      if (!Array.isArray(f.versions ?? []) || !Array.isArray(f.activations ?? [])) return undefined;
      // Versions 2 … (a version 1 at the head is the genesis, kept in accord.json).
      const versions = ((f.versions ?? []) as SignedAccord[]).filter((x) => versionOf(x) !== 1);
      return { kind: 'chain', chain: checkChain({ channel: f.channel as string, versions, activations: (f.activations ?? []) as ChainFileActivation[] }) };
    }
    if (key === 'accord.departed') {
      if (Array.isArray(v)) return undefined;
      const logs = Object.entries(v as Record<string, StoredDepartedLog>).map(([party, d]) => ({ party, version: d?.version, digest: d?.digest, end: d?.end }));
      for (const d of logs) checkDeparted(d);
      return { kind: 'departed', logs };
    }
    if (key === 'accord.forks') {
      if (!Array.isArray(v) || !v.every(isText)) return undefined;
      return { kind: 'forks', proofs: v };
    }
    const m = /^evaluation\.cosigned\/([^/]+)\/(\d+)\/([^/]+)$/.exec(key);
    if (m !== null) {
      const c = v as { cosigner?: unknown; size?: unknown; timestamp?: unknown; note?: unknown };
      const note = { party: m[1]!, index: Number(m[2]), cosigner: m[3]!, treeSize: c.size, cosignedAt: c.timestamp, note: c.note } as EvaluationNote;
      if (c.cosigner !== note.cosigner) return undefined;
      checkEvaluationNote(note);
      return { kind: 'evaluation', note };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
