/**
 * Any party's log for the dashboard's explorer (any logged-in role). The
 * browser verifies inclusion itself with core, so these routes serve raw
 * material — entry bytes, proof hashes, the signed checkpoint note — and
 * verify nothing on the reader's behalf:
 *
 *     GET /v1/logs/{party}                       indices newest first (?before&limit)
 *     GET /v1/logs/{party}/checkpoint            the signed note, text/plain
 *     GET /v1/logs/{party}/entries/{index}?size  entry, leaf hash, inclusion proof, checkpoint
 *     GET /v1/logs/{party}/cosigned              the witnessed checkpoints held: for our own log,
 *                                                each peer's latest cosignature of it; for another
 *                                                party's, the latest our witness cosigned
 *     GET /v1/logs/{party}/timestamps?size       RFC 3161 tokens of a checkpoint (size N, default the
 *                                                latest stamped) with the note they stamp, every token
 *                                                verified by this node before it was stored (issue 12);
 *                                                another party's not held yet is fetched from its node,
 *                                                verified and stored first: a token that does not verify
 *                                                is refused with its typed code (TSA_*, 422)
 *     GET /v1/logs/{party}/consistency?old&new   RFC 9162 §2.1.4 consistency proof between two sizes
 *                                                (the browser checks a checkpoint against the
 *                                                witnessed ones and the one it verified before)
 *
 * Our own log comes from the store. Another party's: the checkpoint is the
 * latest this node cosigned as its witness (its note carries our
 * cosignature), else the one its node serves now; entries we hold come from
 * the store, others and every proof from that party's node through the
 * federation client ({@link PeerClient}, signed requests, {@link PEER_TIMEOUT_MS}).
 *
 * Errors: an unknown party is 404, an index or size outside the tree 400
 * (TREE_ARGUMENT_INVALID), a size with no checkpoint available 404; the
 * other node failing is 502 UPSTREAM_UNAVAILABLE or 504 UPSTREAM_TIMEOUT —
 * never a 5xx for the request's own mistakes.
 */
import { decodeUtf8, fail, formatBase64, leafHash, parseCheckpoint, parseNote } from '@parley/core';
import { z } from 'zod';
import { PeerClient, PeerError } from '../federation/peer.js';
import { heldTimestampSet } from '../tsa/held.js';
import { fetchPeerTimestamps } from '../tsa/peers.js';
import { type App, type Context, BEARER, READERS } from './context.js';
import { HttpError } from './problem.js';
import * as S from './schemas.js';

/** Time allowed to another party's node per request from the explorer. */
export const PEER_TIMEOUT_MS = 4_000;

export const LogParams = z.object({ party: S.PartyId }).strict();
export const LogEntryParams = z.object({ party: S.PartyId, index: S.Decimal }).strict();
export const LogEntryQuery = z.object({ size: S.Decimal.pipe(z.number().int().min(1)).optional().describe('Tree size: one with a checkpoint available (default: the checkpoint held)') }).strict();
export const LogConsistencyQuery = z
  .object({
    old: S.Decimal.pipe(z.number().int().min(1)).describe('The smaller tree size, at least 1'),
    new: S.Decimal.describe('The larger tree size, at least `old`'),
  })
  .strict()
  .refine((q) => q.old <= q.new, { message: 'old must not exceed new', path: ['old'] });
export const LogListQuery = z
  .object({
    before: S.Decimal.optional().describe('Only indices below this (the `next` of the previous page)'),
    limit: S.Decimal.pipe(z.number().int().min(1).max(200)).optional().describe('1–200, default 50'),
  })
  .strict();

export const LogEntryProof = z
  .object({
    party: z.string(),
    index: z.number().int(),
    treeSize: z.number().int(),
    entry: z.string().describe('Base64 of the leaf bytes (the canonical signed entry)'),
    leafHash: z.string().describe('Base64 RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 ‖ entry)'),
    proof: z.array(z.string()).describe('Base64 hashes, RFC 9162 §2.1.3 inclusion proof'),
    checkpoint: z.string().describe('The signed checkpoint note (C2SP tlog-checkpoint) of size treeSize'),
    suspect: z.literal(true).optional().describe('Written after the last witnessed checkpoint under a key later recovered as compromised (issue 11)'),
  })
  .meta({ id: 'LogEntryProof' });

export const LogConsistencyProof = z
  .object({
    party: z.string(),
    oldSize: z.number().int(),
    newSize: z.number().int(),
    proof: z.array(z.string()).describe('Base64 hashes, RFC 9162 §2.1.4 consistency proof (empty when the sizes are equal)'),
  })
  .meta({ id: 'LogConsistencyProof' });

export const CosignedNotes = z
  .object({
    party: z.string().describe('The log'),
    notes: z.array(
      z.object({
        witness: z.string().describe('The party whose witness cosigned it'),
        treeSize: z.number().int(),
        note: z.string().describe("The checkpoint note: the log's signature and that witness's cosignature (C2SP tlog-cosignature)"),
      }),
    ),
  })
  .meta({ id: 'CosignedNotes' });

export const LogTimestampsQuery = z.object({ size: S.Decimal.pipe(z.number().int().min(1)).optional().describe('Tree size of the checkpoint (default: the latest with tokens held)') }).strict();

export const CheckpointTimestamps = z
  .object({
    party: z.string().describe('The log'),
    treeSize: z.number().int().describe('Size of the checkpoint stamped'),
    checkpoint: z.string().describe('The exact signed checkpoint note stamped (the log\u2019s own signature, no cosignatures): the imprint is SHA-256 of it'),
    timestamps: z.array(
      z.object({
        authority: z.string().describe('The accord\u2019s name of the time-stamping authority'),
        token: z.string().describe('Base64 DER RFC 3161 TimeStampToken'),
        genTime: z.string().describe('The token\u2019s genTime (RFC 3339)'),
      }),
    ),
  })
  .meta({ id: 'CheckpointTimestamps' });

export const LogListing = z.object({
  party: z.string(),
  treeSize: z.number().int().describe('Size of the latest checkpoint known here'),
  items: z.array(
    z.object({
      index: z.number().int(),
      held: z.boolean().describe('This node holds the entry (own, or received): the other members are present'),
      type: S.EntryTypeName.optional(),
      time: z.string().optional(),
      officer: z.string().optional(),
      to: z.array(z.string()).optional(),
      incident: z.string().optional(),
      suspect: z.literal(true).optional().describe('Written after the last witnessed checkpoint under a key later recovered as compromised (issue 11)'),
    }),
  ),
  next: z.number().int().optional(),
});

/** Runs a request to another party's node, turning its failures into 502/504 problems. */
async function upstream<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof PeerError)) throw e;
    if (e.code === 'PEER_TIMEOUT') throw new HttpError('UPSTREAM_TIMEOUT', e.message);
    throw new HttpError('UPSTREAM_UNAVAILABLE', e.message);
  }
}

export function registerLogs(app: App, ctx: Context, peerUrls: Readonly<Record<string, string>> = {}): void {
  const { node, store, sessions } = ctx;
  const peers = new Map<string, PeerClient>();

  function member(party: string) {
    const m = node.accord.party(party);
    if (!m) throw new HttpError('NOT_FOUND', `${party} is not a party of the accord`);
    return m;
  }
  function peer(party: string): PeerClient {
    let p = peers.get(party);
    if (!p) {
      try {
        p = new PeerClient(node, party, { timeoutMs: PEER_TIMEOUT_MS, ...(peerUrls[party] !== undefined ? { url: peerUrls[party] } : {}) });
      } catch {
        throw new HttpError('UPSTREAM_UNAVAILABLE', `the accord names no URL for ${party}`);
      }
      peers.set(party, p);
    }
    return p;
  }
  const sizeOf = (note: Uint8Array | string): number => parseCheckpoint(parseNote(note).text).treeSize;

  /** The checkpoint note held for `party` (own: latest; other: latest cosigned, else its node's), or undefined. */
  async function heldCheckpoint(party: string): Promise<Uint8Array | undefined> {
    if (party === node.party) return node.latestCheckpoint();
    const held = await node.witness.latest(member(party).party.id);
    if (held) return held.note;
    return upstream(() => peer(party).checkpoint());
  }

  /** A checkpoint note of exactly `size`, or undefined when none is available here. */
  async function checkpointAt(party: string, size: number): Promise<Uint8Array | undefined> {
    if (party === node.party) return store.checkpointAt(size);
    const held = await node.witness.latest(member(party).party.id);
    if (held?.treeSize === size) return held.note;
    const current = await upstream(() => peer(party).checkpoint());
    return current && sizeOf(current) === size ? current : undefined;
  }

  app.get('/v1/logs/:party/checkpoint', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['log'], summary: 'A party\u2019s checkpoint as held here (own: latest; other: latest cosigned as witness)', security: BEARER, params: LogParams, response: { 200: { description: 'C2SP signed note', content: { 'text/plain': { schema: z.string() } } } } },
    handler: async (req, reply) => {
      member(req.params.party);
      const note = await heldCheckpoint(req.params.party);
      if (!note) throw new HttpError('NOT_FOUND', `no checkpoint of ${req.params.party}'s log is held`);
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(decodeUtf8(note, 'checkpoint'));
    },
  });

  app.get('/v1/logs/:party/entries/:index', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['log'], summary: 'An entry of any party\u2019s log with its inclusion proof and the checkpoint it is proved against', security: BEARER, params: LogEntryParams, querystring: LogEntryQuery, response: { 200: LogEntryProof } },
    handler: async (req, reply) => {
      const { party, index } = req.params;
      member(party);
      const note = req.query.size === undefined ? await heldCheckpoint(party) : await checkpointAt(party, req.query.size);
      if (!note) throw new HttpError('NOT_FOUND', req.query.size === undefined ? `no checkpoint of ${party}'s log is held` : `no checkpoint of ${party}'s log at size ${req.query.size} is available`);
      const treeSize = sizeOf(note);
      if (index >= treeSize) fail('TREE_ARGUMENT_INVALID', `index ${index} is not below the tree size ${treeSize}`);
      let bytes: Uint8Array | undefined;
      let proof: Uint8Array[];
      if (party === node.party) {
        bytes = await node.entryBytes(index);
        proof = await node.inclusionProof(index, treeSize);
      } else {
        bytes = (await store.received(party, index))?.bytes;
        if (!bytes) {
          // The entry bundle holding it, cut just after it (tlog-tiles: any width up to the tree is served).
          const bundle = await upstream(() => peer(party).entryBundle(Math.floor(index / 256), (index % 256) + 1));
          bytes = bundle[bundle.length - 1];
        }
        proof = await upstream(() => peer(party).inclusionProof(index, treeSize));
      }
      if (!bytes) throw new HttpError('NOT_FOUND', `entry ${index} of ${party}'s log is not available`);
      return reply.header('cache-control', 'no-store').send({
        party,
        index,
        treeSize,
        entry: formatBase64(bytes),
        leafHash: formatBase64(leafHash(bytes)),
        proof: proof.map(formatBase64),
        checkpoint: decodeUtf8(note, 'checkpoint'),
        ...(node.isSuspect(party, index) ? { suspect: true as const } : {}),
      });
    },
  });

  app.get('/v1/logs/:party/cosigned', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['log'], summary: 'Witnessed checkpoints of a party\u2019s log held here (own: each peer\u2019s latest cosignature; other: ours)', security: BEARER, params: LogParams, response: { 200: CosignedNotes } },
    handler: async (req, reply) => {
      const { party } = req.params;
      const m = member(party);
      const notes: z.output<typeof CosignedNotes>['notes'] = [];
      if (party === node.party) {
        for (const p of node.accord.accord.parties) {
          if (p.id === party) continue;
          const held = await store.ownCosigned(p.id);
          if (held) notes.push({ witness: p.id, treeSize: held.treeSize, note: held.note });
        }
      } else {
        const held = await node.witness.latest(m.party.id);
        if (held) notes.push({ witness: node.party, treeSize: held.treeSize, note: decodeUtf8(held.note, 'checkpoint') });
      }
      return reply.header('cache-control', 'no-store').send({ party, notes });
    },
  });

  app.get('/v1/logs/:party/timestamps', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['log'], summary: 'RFC 3161 time-stamp tokens of a checkpoint of any party\u2019s log, verified here (issue 12)', security: BEARER, params: LogParams, querystring: LogTimestampsQuery, response: { 200: CheckpointTimestamps } },
    handler: async (req, reply) => {
      const { party } = req.params;
      member(party);
      let set = await heldTimestampSet(store, party, req.query.size);
      if (set === undefined && party !== node.party) {
        // Lazily from the party's own node: verified, then stored, then served from the store.
        const got = await upstream(() => fetchPeerTimestamps(node, store, peer(party), party, req.query.size));
        if (got.verified === 0 && got.refused.length > 0) fail(got.refused[0]!.code as Parameters<typeof fail>[0], `${party}'s node served a token that does not verify: ${got.refused[0]!.message}`);
        set = await heldTimestampSet(store, party, req.query.size ?? got.treeSize);
      }
      if (set === undefined) throw new HttpError('NOT_FOUND', req.query.size === undefined ? `no time-stamp token of ${party}'s log is held` : `no time-stamp token of ${party}'s checkpoint at size ${req.query.size} is held`);
      return reply.header('cache-control', 'no-store').send(set);
    },
  });

  app.get('/v1/logs/:party/consistency', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['log'], summary: 'Consistency proof between two sizes of any party\u2019s log (unverified: the reader checks it against checkpoints it verified)', security: BEARER, params: LogParams, querystring: LogConsistencyQuery, response: { 200: LogConsistencyProof } },
    handler: async (req, reply) => {
      const { party } = req.params;
      const { old: oldSize, new: newSize } = req.query;
      member(party);
      let proof: Uint8Array[];
      if (party === node.party) proof = await node.consistencyProof(oldSize, newSize);
      else {
        proof = await upstream(async () => {
          try {
            return await peer(party).consistencyProof(oldSize, newSize);
          } catch (e) {
            // The other node refused the sizes (beyond its log): the reader's mistake, or a log shorter than it showed before.
            if (e instanceof PeerError && e.problemCode === 'TREE_ARGUMENT_INVALID') fail('TREE_ARGUMENT_INVALID', `${party}'s node cannot prove ${oldSize} → ${newSize}: ${e.message}`);
            throw e;
          }
        });
      }
      return reply.header('cache-control', 'no-store').send({ party, oldSize, newSize, proof: proof.map(formatBase64) });
    },
  });

  app.get('/v1/logs/:party', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['log'], summary: 'Browse a party\u2019s log by index, newest first (metadata of the entries held here)', security: BEARER, params: LogParams, querystring: LogListQuery, response: { 200: LogListing } },
    handler: async (req, reply) => {
      const { party } = req.params;
      const m = member(party);
      const own = party === node.party;
      let treeSize: number;
      if (own) treeSize = node.treeSize;
      else {
        const held = await node.witness.latest(m.party.id);
        treeSize = Math.max(held?.treeSize ?? 0, (await store.highestReceived(party)) + 1);
      }
      const limit = req.query.limit ?? 50;
      const hi = Math.min(treeSize, req.query.before ?? treeSize);
      const lo = Math.max(0, hi - limit);
      const items: z.output<typeof LogListing>['items'] = [];
      const metas = own ? new Map((await store.entries(lo, hi)).map((e) => [e.index, e.meta])) : undefined;
      for (let i = hi - 1; i >= lo; i--) {
        const meta = own ? metas!.get(i) : (await store.received(party, i))?.meta;
        items.push(
          meta
            ? { index: i, held: true, type: meta.type, time: meta.time, officer: meta.officer, to: [...meta.to], ...(meta.incident !== undefined ? { incident: meta.incident } : {}), ...(node.isSuspect(party, i) ? { suspect: true as const } : {}) }
            : { index: i, held: false, ...(node.isSuspect(party, i) ? { suspect: true as const } : {}) },
        );
      }
      return reply.header('cache-control', 'no-store').send({ party, treeSize, items, ...(lo > 0 ? { next: lo } : {}) });
    },
  });
}
