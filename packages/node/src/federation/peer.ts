/**
 * PeerClient: this node's HTTP client for ONE other party's node. Every
 * request carries a `Parley-Signature` header made with our log key
 * (ParleyNode.signRequest, core federation/request.ts) over the method, the
 * request target exactly as sent and the exact body bytes.
 *
 *     GET  /log/checkpoint                    the peer's signed checkpoint (C2SP tlog-checkpoint)
 *     GET  /log/proof/consistency?old&new     RFC 9162 §2.1.4 consistency proof
 *     GET  /log/proof/inclusion?index&size    RFC 9162 §2.1.3 inclusion proof (the dashboard's log explorer)
 *     GET  /log/tile/entries/<N>[.p/<W>]      C2SP tlog-tiles entry bundle
 *     POST /witness/add-checkpoint            C2SP tlog-witness: 200 cosignature lines, 409 `<size>\n`
 *     POST /fed/v1/bundle                     push: core bundle bytes; 200 ingest result, 409 `<size>\n`
 *                                             (or a witnessed push: add-checkpoint + bundle; 200 adds the cosignature)
 *     GET  /log/tile/<L>/<N>[.p/<W>]          C2SP tlog-tiles hash tile (prefix proofs, gossip.ts)
 *     GET  /fed/v1/witness/<P>                gossip: the checkpoint of P's log the peer last cosigned
 *     GET  /fed/v1/forks                      gossip: the fork proofs the peer holds
 *     GET  /fed/v1/mirror/<P>/entries         recovery: P's entries the peer mirrors (rollback.ts)
 *
 * No retries here: one call is one request with a timeout
 * (AbortSignal.timeout); the {@link Federator} retries with backoff.
 * Requests go out with undici's `request` over its keep-alive Agent, not
 * with `fetch`: the same HTTP/1.1 for a quarter of the client's CPU time per
 * request (no WHATWG streams), which a FLASH round trip of two pushes feels. Every
 * failure is a {@link PeerError} with a stable code, so the scheduler can
 * count and report it without parsing messages. Responses are size-capped
 * before they are parsed; nothing a peer answers is trusted until core
 * verifies it (checkpoints against the accord's key, proofs against roots).
 */
import {
  type NoteSignature,
  MAX_CHECKPOINT_BYTES,
  MAX_WITNESS_RESPONSE_BYTES,
  REQUEST_SIGNATURE_HEADER,
  TLOG_SIZE_CONTENT_TYPE,
  decodeUtf8,
  encodeUtf8,
  formatEntryBundlePath,
  formatTilePath,
  MAX_FORK_PROOF_BYTES,
  isParleyError,
  parseAddCheckpointResponse,
  parseBase64,
  parseDecimal,
  parseEntryBundle,
} from '@parley/core';
import { request as undiciRequest } from 'undici';
import type { ParleyNode } from '../service.js';
import { TAIL_PUSH_CONTENT_TYPE, WITNESSED_PUSH_CONTENT_TYPE, formatWitnessedPush } from './witnessedPush.js';

/** Default time for one request, connection to last byte. */
export const DEFAULT_PEER_TIMEOUT_MS = 5_000;
/** Largest JSON answer read (proofs, ingest results). */
const MAX_JSON_BYTES = 1024 * 1024;
/** A peer's chain file (every accord version and activation entry). */
const MAX_CHAIN_BYTES = 8 * 1024 * 1024;
/** Largest fork-proof list read (a few proofs per party; each at most 256 KiB). */
const MAX_FORK_LIST_BYTES = 16 * MAX_FORK_PROOF_BYTES;
/** Largest mirror page read: 256 entries of at most 64 KiB, base64 in JSON. */
const MAX_MIRROR_BYTES = 24 * 1024 * 1024;
/** Most notes in one page of a witness's cosignature history (GET /fed/v1/witness/<party>/cosignatures). */
export const MAX_COSIGNATURE_PAGE = 100;
/** Largest cosignature-history page read: that many notes, JSON-escaped (a newline is two bytes). */
const MAX_COSIGNATURE_PAGE_BYTES = MAX_COSIGNATURE_PAGE * 2 * (MAX_CHECKPOINT_BYTES + 16);
/** Largest entry bundle read: 256 entries of at most 64 KiB + 2 (tlog-tiles uint16 lengths). */
const MAX_ENTRY_BUNDLE_BYTES = 256 * (65_535 + 2);

export type PeerErrorCode =
  /** Connection refused, reset, DNS: the peer could not be reached. */
  | 'PEER_UNREACHABLE'
  /** No complete answer within the timeout. */
  | 'PEER_TIMEOUT'
  /** The peer answered an error status (its problem code, if any, is kept). */
  | 'PEER_REFUSED'
  /** The answer did not parse, or was too large. */
  | 'PEER_RESPONSE_MALFORMED';

/** A failed request to a peer. Tests and the scheduler key on `code`, never the message. */
export class PeerError extends Error {
  readonly code: PeerErrorCode;
  readonly party: string;
  /** HTTP status for PEER_REFUSED. */
  readonly status: number | undefined;
  /** The `code` member of the peer's RFC 9457 problem, when it sent one. */
  readonly problemCode: string | undefined;
  constructor(code: PeerErrorCode, party: string, message: string, o: { status?: number; problemCode?: string; cause?: unknown } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'PeerError';
    this.code = code;
    this.party = party;
    this.status = o.status;
    this.problemCode = o.problemCode;
  }
}

export interface PeerOptions {
  /** Base URL of the peer's node (default: the accord's `urls[0]` for the party). */
  readonly url?: string;
  /** Per-request timeout in ms (default {@link DEFAULT_PEER_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** A fetch to send requests with instead of undici's `request` (tests wrap one to drop or delay requests). */
  readonly fetch?: typeof fetch;
}

/** A tlog-witness answer: cosigned, or the size the witness holds. */
export type AddCheckpointResult = { readonly status: 200; readonly cosignatures: NoteSignature[] } | { readonly status: 409; readonly size: number };

/** A peer's answer to GET /fed/v1/timestamps (unverified). */
export interface PeerTimestampSet {
  readonly party: string;
  readonly treeSize: number;
  /** The note the tokens stamp (the log's own signed checkpoint). */
  readonly checkpoint: string;
  readonly timestamps: readonly { readonly authority: string; readonly token: Uint8Array }[];
}

/** The receiving node's answer to a pushed bundle (http/federation.ts). */
export interface PushResult {
  readonly from: string;
  readonly checkpointSize: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly receipts: readonly { readonly index: number; readonly leafHash: string }[];
}
export type PushBundleResult = ({ readonly status: 200 } & PushResult) | { readonly status: 409; readonly size: number };
/**
 * The answer to a witnessed push: the push result with the peer's
 * cosignature line(s) (unverified) and, when asked for, its push back to us
 * (a witnessed push body, unverified: federation/push.ts replyPush); or its witness's size.
 */
export type WitnessedPushResult = ({ readonly status: 200; readonly cosignatures: NoteSignature[]; readonly reply?: Uint8Array } & PushResult) | { readonly status: 409; readonly size: number };

/** Request header of a witnessed push whose sender takes the peer's push back on the answer. */
export const PUSH_REPLY_HEADER = 'parley-push-reply';

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: Uint8Array;
}

export class PeerClient {
  readonly party: string;
  /** Says where a pull read from (link health; a static mirror is a MirrorClient). */
  readonly kind = 'node' as const;
  readonly url: string;
  readonly #node: ParleyNode;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch | undefined;
  #witnessedPush = true;
  #tailPush = true;

  /**
   * @param node our node: signs every request with its log key.
   * @param party the peer's party id (another party of the accord).
   * @throws RangeError for our own party, a party not in the accord, or no URL.
   */
  constructor(node: ParleyNode, party: string, o: PeerOptions = {}) {
    const member = node.accord.party(party);
    if (!member || party === node.party) throw new RangeError(`${party} is not another party of the accord`);
    const url = o.url ?? member.party.urls[0];
    if (url === undefined) throw new RangeError(`the accord names no URL for ${party}`);
    this.party = party;
    this.url = url.replace(/\/+$/, '');
    this.#node = node;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
    this.#fetch = o.fetch;
  }

  /** False once the peer answered a witnessed push with 415 (a node of an earlier version). */
  get witnessedPush(): boolean {
    return this.#witnessedPush;
  }

  /**
   * False once the peer answered a tail push ({@link TAIL_PUSH_CONTENT_TYPE})
   * with 415: a node of an earlier version, which takes only the entries
   * addressed to it (and plain witnessed pushes).
   */
  get tailPush(): boolean {
    return this.#tailPush && this.#witnessedPush;
  }

  /** GET /log/checkpoint: the peer's latest signed checkpoint note (unverified); undefined while its log is empty (404). */
  async checkpoint(): Promise<Uint8Array | undefined> {
    const a = await this.#request('GET', '/log/checkpoint', undefined, MAX_CHECKPOINT_BYTES);
    if (a.status === 404) return undefined;
    return this.#ok(a).body;
  }

  /** GET /log/proof/consistency: the proof hashes (unverified). */
  async consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    const a = this.#ok(await this.#request('GET', `/log/proof/consistency?old=${oldSize}&new=${newSize}`, undefined, MAX_JSON_BYTES));
    return this.#parse('consistency proof', () => {
      const v = JSON.parse(decodeUtf8(a.body)) as { proof?: unknown };
      if (!Array.isArray(v.proof) || v.proof.length > 63 || !v.proof.every((p) => typeof p === 'string')) throw new TypeError('want {proof: [base64 …]}');
      return (v.proof as string[]).map((p) => parseBase64(p, 'proof'));
    });
  }

  /** GET /log/proof/inclusion: RFC 9162 §2.1.3 inclusion proof of entry `index` in the tree of `size` (unverified). */
  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    const a = this.#ok(await this.#request('GET', `/log/proof/inclusion?index=${index}&size=${size}`, undefined, MAX_JSON_BYTES));
    return this.#parse('inclusion proof', () => {
      const v = JSON.parse(decodeUtf8(a.body)) as { proof?: unknown };
      if (!Array.isArray(v.proof) || v.proof.length > 63 || !v.proof.every((p) => typeof p === 'string')) throw new TypeError('want {proof: [base64 …]}');
      return (v.proof as string[]).map((p) => parseBase64(p, 'proof'));
    });
  }

  /** GET entry bundle `index` of `width` entries (C2SP tlog-tiles): the entries' bytes (unverified). */
  async entryBundle(index: number, width: number): Promise<Uint8Array[]> {
    const a = this.#ok(await this.#request('GET', `/log/${formatEntryBundlePath(index, width)}`, undefined, MAX_ENTRY_BUNDLE_BYTES));
    return this.#parse('entry bundle', () => parseEntryBundle(a.body, width));
  }

  /** GET hash tile (level, index, width) (C2SP tlog-tiles): the tile bytes (unverified); undefined when not served (404). */
  async tile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const a = await this.#request('GET', `/log/${formatTilePath({ level, index, width })}`, undefined, width * 32);
    if (a.status === 404) return undefined;
    return this.#ok(a).body;
  }

  /**
   * GET /fed/v1/witness/<party>: the checkpoint note of `party`'s log the
   * peer's witness last cosigned (unverified); undefined when it holds none (404).
   */
  async witnessed(party: string): Promise<Uint8Array | undefined> {
    const a = await this.#request('GET', `/fed/v1/witness/${encodeURIComponent(party)}`, undefined, MAX_CHECKPOINT_BYTES);
    if (a.status === 404) return undefined;
    return this.#ok(a).body;
  }

  /**
   * GET /fed/v1/witness/<party>/cosignatures?after&limit (issue 14): the
   * peer's witness's signed cosignature history of `party`'s log, sizes
   * above `after` in increasing order, at most `limit` notes (unverified:
   * the caller opens each). `next` is the size to ask after for the next
   * page, absent on the last. Undefined when the peer serves no history
   * (404: an older node, or none held).
   */
  async cosignatureHistory(party: string, after: number, limit: number): Promise<{ notes: Uint8Array[]; next?: number } | undefined> {
    const a = await this.#request('GET', `/fed/v1/witness/${encodeURIComponent(party)}/cosignatures?after=${after}&limit=${limit}`, undefined, MAX_COSIGNATURE_PAGE_BYTES);
    if (a.status === 404) return undefined;
    this.#ok(a);
    return this.#parse('cosignature history', () => {
      const v = JSON.parse(decodeUtf8(a.body)) as { cosignatures?: unknown; next?: unknown };
      const list = v.cosignatures;
      if (!Array.isArray(list) || list.length > limit || !list.every((n) => typeof n === 'string')) throw new TypeError('want {cosignatures: [note …], next?}');
      if (v.next !== undefined && (typeof v.next !== 'number' || !Number.isSafeInteger(v.next) || v.next <= after)) throw new TypeError('want next > after');
      return { notes: (list as string[]).map((n) => encodeUtf8(n)), ...(v.next !== undefined ? { next: v.next } : {}) };
    });
  }

  /**
   * GET /fed/v1/mirror/<party>/entries?from&to (federation/mirror.ts): the
   * entries of `party`'s log the peer mirrors, [from, …) contiguously, at
   * most to − from (unverified).
   */
  async mirrored(party: string, from: number, to: number): Promise<Uint8Array[]> {
    const a = this.#ok(await this.#request('GET', `/fed/v1/mirror/${encodeURIComponent(party)}/entries?from=${from}&to=${to}`, undefined, MAX_MIRROR_BYTES));
    return this.#parse('mirrored entries', () => {
      const v = JSON.parse(decodeUtf8(a.body)) as { from?: unknown; entries?: unknown };
      if (v.from !== from || !Array.isArray(v.entries) || v.entries.length > to - from || !v.entries.every((e) => typeof e === 'string')) throw new TypeError('want {from, entries: [base64 …]}');
      return (v.entries as string[]).map((e) => parseBase64(e, 'entry'));
    });
  }

  /** GET /fed/v1/forks: the fork proofs the peer holds, as text (unverified). */
  async forkProofs(): Promise<string[]> {
    const a = this.#ok(await this.#request('GET', '/fed/v1/forks', undefined, MAX_FORK_LIST_BYTES));
    return this.#parse('fork proof list', () => {
      const v = JSON.parse(decodeUtf8(a.body)) as { proofs?: unknown };
      if (!Array.isArray(v.proofs) || !v.proofs.every((p) => typeof p === 'string')) throw new TypeError('want {proofs: [text …]}');
      return v.proofs as string[];
    });
  }

  /**
   * GET /fed/v1/timestamps/<party>[?size=N] (issue 12): the RFC 3161 tokens the
   * peer holds for a checkpoint of `party`'s log — of size N, else the latest
   * it holds — with the exact note they stamp (unverified: tsa/peers.ts
   * verifies); undefined when it holds none (404).
   */
  async timestamps(party: string, size?: number): Promise<PeerTimestampSet | undefined> {
    const a = await this.#request('GET', `/fed/v1/timestamps/${encodeURIComponent(party)}${size !== undefined ? `?size=${size}` : ''}`, undefined, MAX_JSON_BYTES);
    if (a.status === 404) return undefined;
    this.#ok(a);
    return this.#parse('time-stamp tokens', () => {
      const v = JSON.parse(decodeUtf8(a.body)) as Record<string, unknown>;
      const list = v['timestamps'];
      if (v['party'] !== party || typeof v['treeSize'] !== 'number' || !Number.isSafeInteger(v['treeSize']) || typeof v['checkpoint'] !== 'string' || !Array.isArray(list) || list.length > 16) {
        throw new TypeError('want {party, treeSize, checkpoint, timestamps: [{authority, token}]}');
      }
      const timestamps = list.map((t: unknown) => {
        const o = t as Record<string, unknown> | null;
        if (typeof o !== 'object' || o === null || typeof o['authority'] !== 'string' || typeof o['token'] !== 'string') throw new TypeError('want {authority, token}');
        return { authority: o['authority'], token: parseBase64(o['token'], 'token') };
      });
      return { party, treeSize: v['treeSize'], checkpoint: v['checkpoint'], timestamps };
    });
  }

  /**
   * GET /v1/accord/chain: the peer's chain file (GOV.md §2), unverified —
   * the caller verifies it (core verifyChainFile through node.adoptChain).
   */
  async chainFile(): Promise<Uint8Array> {
    return this.#ok(await this.#request('GET', '/v1/accord/chain', undefined, MAX_CHAIN_BYTES)).body;
  }

  /** POST /witness/add-checkpoint (C2SP tlog-witness). */
  async addCheckpoint(body: Uint8Array): Promise<AddCheckpointResult> {
    const a = await this.#request('POST', '/witness/add-checkpoint', body, MAX_WITNESS_RESPONSE_BYTES, 'text/plain');
    if (a.status === 409 && a.type.startsWith(TLOG_SIZE_CONTENT_TYPE)) return { status: 409, size: this.#size(a) };
    this.#ok(a);
    return { status: 200, cosignatures: this.#parse('cosignature', () => parseAddCheckpointResponse(a.body)) };
  }

  /** POST /fed/v1/bundle: pushes a bundle of our entries (core bundle bytes). */
  async pushBundle(bundle: Uint8Array): Promise<PushBundleResult> {
    const a = await this.#request('POST', '/fed/v1/bundle', bundle, MAX_JSON_BYTES, 'application/octet-stream');
    if (a.status === 409 && a.type.startsWith(TLOG_SIZE_CONTENT_TYPE)) return { status: 409, size: this.#size(a) };
    this.#ok(a);
    return { status: 200, ...this.#parse('push result', () => JSON.parse(decodeUtf8(a.body)) as PushResult) };
  }

  /**
   * POST /fed/v1/bundle as a witnessed push (witnessedPush.ts): our
   * add-checkpoint request and the bundle of entries proven against that
   * checkpoint, in one request. A refusal of the witness is a PEER_REFUSED
   * with the witness's status and problem code.
   * @param tail the bundle carries our whole log tail (entries not
   *   addressed to the peer too): sent as {@link TAIL_PUSH_CONTENT_TYPE}.
   * @returns undefined when the peer does not take witnessed pushes (415):
   *   nothing was stored, and {@link witnessedPush} is false from then on
   *   (for a tail push: {@link tailPush} is false; push again without the tail).
   */
  async pushWitnessed(witnessRequest: Uint8Array, bundle: Uint8Array, takeReply = false, tail = false): Promise<WitnessedPushResult | undefined> {
    const body = formatWitnessedPush({ witness: witnessRequest, bundle });
    const a = await this.#request('POST', '/fed/v1/bundle', body, MAX_JSON_BYTES, tail ? TAIL_PUSH_CONTENT_TYPE : WITNESSED_PUSH_CONTENT_TYPE, takeReply ? { [PUSH_REPLY_HEADER]: '1' } : undefined);
    if (a.status === 415) {
      // A node of an earlier version: it takes the two requests (or, for a tail push, only what is addressed to it).
      if (tail) this.#tailPush = false;
      else this.#witnessedPush = false;
      return undefined;
    }
    if (a.status === 409 && a.type.startsWith(TLOG_SIZE_CONTENT_TYPE)) return { status: 409, size: this.#size(a) };
    this.#ok(a);
    return {
      status: 200,
      ...this.#parse('witnessed push result', () => {
        const { reply, ...r } = JSON.parse(decodeUtf8(a.body)) as PushResult & { cosignatures?: unknown; reply?: unknown };
        if (typeof r.cosignatures !== 'string') throw new TypeError('want cosignatures');
        if (reply !== undefined && typeof reply !== 'string') throw new TypeError('want the reply as base64');
        return { ...r, cosignatures: parseAddCheckpointResponse(r.cosignatures), ...(reply !== undefined ? { reply: parseBase64(reply, 'reply') } : {}) };
      }),
    };
  }

  #size(a: Answer): number {
    return this.#parse('tree size', () => parseDecimal(decodeUtf8(a.body).replace(/\n$/, ''), 'size'));
  }

  #parse<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!isParleyError(e) && !(e instanceof SyntaxError) && !(e instanceof TypeError)) throw e;
      throw new PeerError('PEER_RESPONSE_MALFORMED', this.party, `${this.party}: malformed ${what}`, { cause: e });
    }
  }

  #ok(a: Answer): Answer {
    if (a.status === 200) return a;
    let problemCode: string | undefined;
    if (a.type.startsWith('application/problem+json')) {
      try {
        const c = (JSON.parse(decodeUtf8(a.body)) as { code?: unknown }).code;
        if (typeof c === 'string') problemCode = c;
      } catch {
        // An unreadable problem is still a refusal with its status.
      }
    }
    throw new PeerError('PEER_REFUSED', this.party, `${this.party} answered ${a.status}${problemCode ? ` ${problemCode}` : ''}`, { status: a.status, ...(problemCode ? { problemCode } : {}) });
  }

  async #request(method: string, path: string, body: Uint8Array | undefined, maxBytes: number, type?: string, extra?: Record<string, string>): Promise<Answer> {
    const url = new URL(`${this.url}${path}`);
    // The signature covers the request target exactly as it goes on the wire.
    const target = `${url.pathname}${url.search}`;
    // A body also gets its Content-Digest (RFC 9530): the recipient checks the signature before reading it.
    const headers: Record<string, string> = body ? this.#node.signRequestHeaders({ to: this.party, method, path: target, body }) : { [REQUEST_SIGNATURE_HEADER]: this.#node.signRequest({ to: this.party, method, path: target }) };
    if (type !== undefined) headers['content-type'] = type;
    if (extra !== undefined) Object.assign(headers, extra);
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await (this.#fetch ? this.#viaFetch(this.#fetch, url, method, headers, signal, body, maxBytes) : this.#viaUndici(url, method, headers, signal, body, maxBytes));
    } catch (e) {
      if (e instanceof PeerError) throw e;
      const name = (e as { name?: unknown }).name;
      if (signal.aborted || name === 'TimeoutError' || name === 'AbortError') throw new PeerError('PEER_TIMEOUT', this.party, `${this.party}: no answer within ${this.#timeoutMs} ms`, { cause: e });
      throw new PeerError('PEER_UNREACHABLE', this.party, `${this.party}: ${method} ${target} failed`, { cause: e });
    }
  }

  /** An answer beyond `maxBytes` (its declared length, when it declared one). */
  #tooLarge(maxBytes: number, declared?: number): PeerError {
    return new PeerError('PEER_RESPONSE_MALFORMED', this.party, declared !== undefined ? `${this.party}: answer of ${declared} bytes exceeds ${maxBytes}` : `${this.party}: answer exceeds ${maxBytes} bytes`);
  }

  async #viaUndici(url: URL, method: string, headers: Record<string, string>, signal: AbortSignal, body: Uint8Array | undefined, maxBytes: number): Promise<Answer> {
    const res = await undiciRequest(url, { method: method as 'GET' | 'POST', headers, signal, ...(body ? { body } : {}) });
    const header = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h) ?? '';
    const declared = Number(header(res.headers['content-length']) || '0');
    if (declared > maxBytes) {
      res.body.destroy();
      throw this.#tooLarge(maxBytes, declared);
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) {
        res.body.destroy();
        throw this.#tooLarge(maxBytes);
      }
      chunks.push(chunk);
    }
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
    return { status: res.statusCode, type: header(res.headers['content-type']).toLowerCase(), body: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }

  async #viaFetch(f: typeof fetch, url: URL, method: string, headers: Record<string, string>, signal: AbortSignal, body: Uint8Array | undefined, maxBytes: number): Promise<Answer> {
    const res = await f(url, { method, headers, signal, ...(body ? { body } : {}) });
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw this.#tooLarge(maxBytes, declared);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > maxBytes) throw this.#tooLarge(maxBytes);
    return { status: res.status, type: (res.headers.get('content-type') ?? '').toLowerCase(), body: bytes };
  }
}

/**
 * One client per other party of the accord.
 * @param urls base URL overrides by party (tests: the ports the servers got).
 */
export function peersOf(node: ParleyNode, o: { urls?: Readonly<Record<string, string>>; timeoutMs?: number; fetch?: typeof fetch } = {}): PeerClient[] {
  return node.counterparts.map(
    (p) =>
      new PeerClient(node, p, {
        ...(o.urls?.[p] !== undefined ? { url: o.urls[p] } : {}),
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.fetch !== undefined ? { fetch: o.fetch } : {}),
      }),
  );
}
