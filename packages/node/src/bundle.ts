/**
 * Offline bundles on a node: export a signed file of this party's entries
 * for one recipient, and import one from another party (the format and every
 * check are core's `federation/bundle.ts`).
 *
 *     export:  latest checkpoint (size N) → own entries i in [since, min(until, N))
 *              with `to` among their recipients → each with its RFC 9162
 *              inclusion proof in the tree of size N → signed by the node's
 *              log key (ParleyNode.signBundle)
 *     import:  openBundle(bytes, accord, this party)
 *              → its checkpoint against our witness state for the sender's log,
 *                as a push (POST /fed/v1/bundle) is checked (federation/receive.ts):
 *                  same size, same root    witnessed
 *                  same size, other root   fork proof kept (quarantine), PROOF_INVALID
 *                  nothing cosigned yet    cosigned here now (tlog-witness from size 0)
 *                  another size            no consistency proof travels offline: the
 *                                          checkpoint is kept and compared with the
 *                                          sender's log at the next contact (gossip.ts)
 *              → node.ingestBundle(bundle)  (refused while the sender is quarantined)
 *
 * Import goes through `ParleyNode.ingest`, the same call network delivery
 * makes: each entry is verified again, stored idempotently (a second import
 * is all duplicates), and answered with machine receipts in our own log. A
 * bundle that fails any check stores nothing.
 *
 * @example
 *   const file = await exportBundle(us, usStore, { to: 'CN', since: 120 });
 *   // … carried across the air gap …
 *   const { accepted, receipts } = await importBundle(cn, file);
 */
import {
  type BundleEntryInput,
  type BundleTimestamps,
  formatBase64,
  isParleyError,
  parseBase64,
  type VerifiedBundle,
  type WitnessedCheckpoint,
  MAX_BUNDLE_ENTRIES,
  decodeUtf8,
  encodeUtf8,
  fail,
  formatAddCheckpointRequest,

  parseCheckpoint,
  parseNote,
} from '@parley/core';
import type { LogStore } from '@parley/store';
import { keepUnverified } from './federation/forks.js';
import { bundleCheckpointNote, checkWitnessed } from './federation/receive.js';
import type { ParleyNode, Submitted } from './service.js';
import { openBundleAt } from './epochs.js';
import { noteTimestamped } from './tsa/bounds.js';
import { verifyCheckpointTokens } from './tsa/verify.js';
import type { CheckpointTimestamp } from '@parley/store';

/** What to export. */
export interface ExportBundleOptions {
  /** Recipient party: only entries addressed to it are exported. */
  readonly to: string;
  /** First index of the range (default 0). */
  readonly since?: number;
  /** End of the range, exclusive (default and cap: the latest checkpoint's tree size). */
  readonly until?: number;
  /** Creation time written in the bundle (default: now). */
  readonly now?: Date;
}

/** Entries read from the store per query while exporting. */
const PAGE = 1024;

/**
 * Writes a signed offline bundle of this node's own entries addressed to
 * `to` in [since, until), with inclusion proofs against the node's latest
 * checkpoint (which is included, with any cosignatures it carries).
 * @param node the sending node.
 * @param store the node's store (for reading its own entries by range).
 * @param o recipient and range.
 * @returns the bundle file bytes.
 * @throws ParseError `BUNDLE_MALFORMED` when `to` is not another party;
 *   ArgumentError `TREE_ARGUMENT_INVALID` for an empty log or a bad range;
 *   `INPUT_TOO_LARGE` beyond 100,000 entries or 64 MiB (export in parts with `until`).
 * @example await exportBundle(node, store, { to: 'CN', since: 10, until: 20 })
 */
export async function exportBundle(node: ParleyNode, store: LogStore, o: ExportBundleOptions): Promise<Uint8Array> {
  return (await exportBundleFile(node, store, o)).bytes;
}

/** A bundle made by {@link exportBundleFile}, with what a caller names or reports it by. */
export interface ExportedBundle {
  /** The bundle file bytes. */
  readonly bytes: Uint8Array;
  readonly from: string;
  readonly to: string;
  /** Tree size of the checkpoint the entries are proven against. */
  readonly treeSize: number;
  /** Number of entries in the bundle. */
  readonly entries: number;
}

/**
 * {@link exportBundle}, also returning the checkpoint's tree size and the
 * entry count (for the file name and the HTTP route's answer).
 * @throws as {@link exportBundle}.
 * @example const { bytes, treeSize } = await exportBundleFile(node, store, { to: 'CN' });
 */
export async function exportBundleFile(node: ParleyNode, store: LogStore, o: ExportBundleOptions): Promise<ExportedBundle> {
  if (o.to === node.party || !node.accord.party(o.to)) fail('BUNDLE_MALFORMED', `${o.to} is not another party of the accord`);
  const note = await node.latestCheckpoint();
  if (note === undefined) fail('TREE_ARGUMENT_INVALID', 'the log is empty: there is no checkpoint to bundle');
  // Our own checkpoint, as the store holds it: parsed, not re-verified.
  const treeSize = parseCheckpoint(parseNote(note).text).treeSize;
  const since = o.since ?? 0;
  const until = Math.min(o.until ?? treeSize, treeSize);
  if (!Number.isSafeInteger(since) || !Number.isSafeInteger(until) || since < 0 || (o.until !== undefined && o.until < since)) {
    fail('TREE_ARGUMENT_INVALID', `bad range [${o.since ?? 0}, ${o.until ?? 'end'})`);
  }
  const entries: BundleEntryInput[] = [];
  for (let from = since; from < until; from += PAGE) {
    for (const e of await store.entries(from, Math.min(from + PAGE, until))) {
      if (!e.meta.to.includes(o.to)) continue;
      if (entries.length === MAX_BUNDLE_ENTRIES) fail('INPUT_TOO_LARGE', `more than ${MAX_BUNDLE_ENTRIES} entries for ${o.to} from ${since}: export in parts with until`);
      entries.push({ index: e.index, bytes: e.bytes, proof: await node.inclusionProof(e.index, treeSize) });
    }
  }
  const timestamps = await bundleTimestamps(store, node.party, since, treeSize);
  const bytes = node.signBundle({
    accordId: node.accord.id,
    from: node.party,
    to: o.to,
    created: (o.now ?? new Date()).toISOString(),
    checkpoint: decodeUtf8(note, 'checkpoint'),
    entries,
    ...(timestamps.length > 0 ? { timestamps } : {}),
  });
  return { bytes, from: node.party, to: o.to, treeSize, entries: entries.length };
}

/**
 * The RFC 3161 tokens a bundle of `party`'s entries from `since` carries
 * (issue 12): those of the smallest stamped checkpoint covering the first
 * entry (the earliest trusted time of the range) and of the latest stamped
 * checkpoint up to `treeSize`. None held: none carried (the bundle keeps its
 * earlier bytes).
 */
async function bundleTimestamps(store: LogStore, party: string, since: number, treeSize: number): Promise<BundleTimestamps[]> {
  const sizes = new Set<number>();
  const first = (await store.checkpointTimestamps(party, { from: since + 1, limit: 1 }))[0];
  if (first !== undefined && first.treeSize <= treeSize) sizes.add(first.treeSize);
  const latest = await store.latestTimestampedSize(party);
  if (latest > 0 && latest <= treeSize) sizes.add(latest);
  const out: BundleTimestamps[] = [];
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const rows = await store.checkpointTimestamps(party, { treeSize: size });
    if (rows.length > 0) out.push({ checkpoint: rows[0]!.note, tokens: rows.map((r) => ({ authority: r.authority, token: formatBase64(r.token) })) });
  }
  return out;
}

/**
 * Verifies a bundle's tokens (issue 12): each stamped note is the sender's
 * checkpoint signed by its key at that size, each token verifies against
 * the accord (tsa/verify.ts).
 * @returns the rows to keep.
 * @throws VerificationError `BUNDLE_INVALID` naming the member, with the
 *   token's (or note's) typed error as cause.
 */
async function verifyBundleTimestamps(node: ParleyNode, b: VerifiedBundle): Promise<CheckpointTimestamp[]> {
  const rows: CheckpointTimestamp[] = [];
  for (const [i, t] of (b.timestamps ?? []).entries()) {
    const path = `bundle.timestamps[${i}]`;
    let checked;
    try {
      checked = await verifyCheckpointTokens(node, b.from, t.checkpoint, t.tokens.map((k) => ({ authority: k.authority, token: parseBase64(k.token) })));
    } catch (e) {
      if (!isParleyError(e)) throw e;
      return fail('BUNDLE_INVALID', `${path}.checkpoint: not ${b.from}'s signed checkpoint: ${e.message}`, e);
    }
    const bad = checked.refused[0];
    if (bad !== undefined) fail('BUNDLE_INVALID', `${path}: the token of ${bad.authority} does not verify (${bad.code}): ${bad.message}`, bad.error);
    rows.push(...checked.verified);
  }
  return rows;
}

/** What {@link importBundle} did. */
export interface ImportBundleResult {
  /** The sending party. */
  readonly from: string;
  /** The sender's checkpoint the entries were proven against (with valid cosignatures). */
  readonly checkpoint: WitnessedCheckpoint;
  /** Entries new to this node. */
  readonly accepted: number;
  /** Entries already held (a repeated import). */
  readonly duplicates: number;
  /** Machine receipts written to our log for the new entries. */
  readonly receipts: Submitted[];
  /**
   * The checkpoint against our witness: `witnessed` (the one we cosigned),
   * `cosigned` (none was held: cosigned now), `deferred` (another size: kept
   * and compared with the sender's log at the next contact).
   */
  readonly witness: 'witnessed' | 'cosigned' | 'deferred';
}

/**
 * Verifies a bundle addressed to this node (core `openBundle`) and ingests
 * its entries exactly as network delivery does (`ParleyNode.ingest`).
 * @param node the receiving node.
 * @param bytes the bundle file.
 * @returns the sender, its checkpoint, counts and the receipts written.
 * @throws ParseError `BUNDLE_MALFORMED`, `INPUT_TOO_LARGE`; VerificationError
 *   `BUNDLE_INVALID`; `PROOF_INVALID` for a checkpoint of the size we
 *   cosigned with another root (the fork proof is kept first);
 *   `ENTRY_INVALID` while the sender is quarantined; whatever `ingest` throws (e.g. `STORE_CONFLICT` for an
 *   entry that conflicts with one already held — evidence of a fork).
 *   Nothing is stored when it throws before `ingest`.
 * @example const r = await importBundle(cn, readFileSync('us-to-cn.bundle.json'));
 */
export async function importBundle(node: ParleyNode, bytes: Uint8Array): Promise<ImportBundleResult> {
  const b: VerifiedBundle = openBundleAt(node, bytes, node.party);
  // issue 12: the tokens verify before anything of the bundle is acted on.
  const stamps = await verifyBundleTimestamps(node, b);
  const witness = await witnessImported(node, b);
  const r = await node.ingestBundle(b);
  if (stamps.length > 0) {
    await node.store.addCheckpointTimestamps(stamps);
    for (const s of stamps) noteTimestamped(node.store, s);
  }
  return { from: b.from, checkpoint: b.checkpoint, witness, ...r };
}

/** Checks (and if nothing is held yet, cosigns) an imported bundle's checkpoint; see the module doc. */
async function witnessImported(node: ParleyNode, b: VerifiedBundle): Promise<ImportBundleResult['witness']> {
  const cp = b.checkpoint.checkpoint;
  for (let attempt = 0; attempt < 2; attempt++) {
    const heldSize = await checkWitnessed(node, node.store, b);
    if (heldSize === cp.treeSize && heldSize > 0) return 'witnessed';
    if (heldSize > 0 || cp.treeSize === 0) {
      await keepUnverified(node.store, b.from, bundleCheckpointNote(b));
      return 'deferred';
    }
    const a = await node.witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: encodeUtf8(bundleCheckpointNote(b)) }));
    if (a.status === 200) return 'cosigned';
    // 409: a push or pull witnessed this log meanwhile; compare with that instead.
    if (a.status !== 409) fail(a.error?.code ?? 'PROOF_INVALID', `witnessing the bundle's checkpoint: ${a.detail}`, a.error);
  }
  return 'deferred';
}
