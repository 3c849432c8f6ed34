/**
 * The escalation webhook: what a node POSTs when a deadline passes, and how
 * the receiver checks it came from that party's node.
 *
 *     POST <configured URL>
 *     Content-Type: application/json
 *     Parley-Webhook-Id: overdue/ack/US/7/CN
 *     Parley-Webhook-Signature: party=US, sig=<base64 Ed25519 signature, 88 characters>
 *
 *     {"type":"parley.deadline.overdue","id":"overdue/ack/US/7/CN","accord":"<hex id>",
 *      "node":"US","party":"US","index":7,"recipient":"CN","direction":"sent",
 *      "kind":"ack","dueAt":"…","entry":{"from":"US","to":["CN"],"type":"hotline.message",
 *      "precedence":"FLASH","marking":"TLP:CLEAR","time":"…"}}
 *
 * Signature: Ed25519 (RFC 8032) with the node's LOG key (the one the accord
 * names for `party`) over
 *
 *     "parley/webhook/v1\n" || body bytes (exactly as sent)
 *
 * The context is distinct from every other Parley signature (entries,
 * accords, bundles, requests: "parley/<kind>/v1\n") and from checkpoint
 * notes (origins never start with "parley/") and cosignatures
 * ("cosignature/v1\n"), so a webhook signature is valid as nothing else.
 * core's request signature (federation/request.ts) was not reused: it binds
 * a recipient PARTY, and a webhook receiver is not a party.
 *
 * Delivery is at least once: `id` is stable for one overdue deadline (kind,
 * sender, index, recipient) within one accord; receivers deduplicate on
 * (accord, id). The body is the same bytes on every retry.
 */
import { type SignerKey, type VerifiedAccord, encodeUtf8, formatBase64, getCrypto, parseBase64 } from '@parley/core';
import type { DeadlineKind, DeliveryStatus } from './state.js';

export const WEBHOOK_CONTEXT = 'parley/webhook/v1\n';
export const WEBHOOK_SIGNATURE_HEADER = 'Parley-Webhook-Signature';
export const WEBHOOK_ID_HEADER = 'Parley-Webhook-Id';
export const WEBHOOK_EVENT = 'parley.deadline.overdue';

/** The JSON body of an overdue webhook. */
export interface OverdueEvent {
  readonly type: typeof WEBHOOK_EVENT;
  readonly id: string;
  readonly accord: string;
  /** The party whose node sends the webhook. */
  readonly node: string;
  /** The sender of the entry (whose log holds it). */
  readonly party: string;
  readonly index: number;
  /** The recipient whose answer is overdue. */
  readonly recipient: string;
  readonly direction: DeliveryStatus['direction'];
  readonly kind: DeadlineKind;
  readonly dueAt: string;
  readonly entry: {
    readonly from: string;
    readonly to: readonly string[];
    readonly type: string;
    readonly precedence: string;
    readonly marking: string;
    readonly time: string;
  };
}

/** The `type` of a fork webhook: the highest alarm. */
export const FORK_WEBHOOK_EVENT = 'parley.fork.detected';

/**
 * The JSON body of a fork webhook: one per fork proof, its id stable
 * (`fork/<party>/<SHA-256 prefix of the proof text>`), the proof itself in
 * `proof` (canonical text, for `parley verify-fork`).
 */
export interface ForkEvent {
  readonly type: typeof FORK_WEBHOOK_EVENT;
  readonly id: string;
  readonly accord: string;
  /** The party whose node sends the webhook. */
  readonly node: string;
  /** The party whose log forked. */
  readonly party: string;
  readonly kind: string;
  /** The two views: tree size and base64 root hash of each signed checkpoint; an accord fork (kind `accord`): each version and its digest. */
  readonly a: { readonly treeSize: number; readonly rootHash: string } | { readonly version: number; readonly digest: string };
  readonly b: { readonly treeSize: number; readonly rootHash: string } | { readonly version: number; readonly digest: string };
  readonly proof: string;
}

/** The prefix of every deadline escalation's id. */
export const OVERDUE_PREFIX = 'overdue/';

/** The stable id of one overdue deadline. */
export function overdueId(kind: DeadlineKind, s: Pick<DeliveryStatus, 'party' | 'index' | 'recipient'>): string {
  return `${OVERDUE_PREFIX}${kind}/${s.party}/${s.index}/${s.recipient}`;
}

/** The event for deadline `kind` of delivery `s`, reported by `node`. */
export function overdueEvent(accord: string, node: string, kind: DeadlineKind, s: DeliveryStatus): OverdueEvent {
  return {
    type: WEBHOOK_EVENT,
    id: overdueId(kind, s),
    accord,
    node,
    party: s.party,
    index: s.index,
    recipient: s.recipient,
    direction: s.direction,
    kind,
    dueAt: kind === 'ack' ? s.ackDueAt! : s.receiptDueAt,
    entry: { from: s.party, to: s.to, type: s.type, precedence: s.precedence, marking: s.marking, time: s.sentAt },
  };
}

function message(body: Uint8Array): Uint8Array {
  const ctx = encodeUtf8(WEBHOOK_CONTEXT);
  const out = new Uint8Array(ctx.length + body.length);
  out.set(ctx, 0);
  out.set(body, ctx.length);
  return out;
}

/**
 * The `Parley-Webhook-Signature` header value for `body`.
 * @param party our party id. @param key our log signing key.
 */
export function signWebhook(party: string, key: SignerKey, body: Uint8Array): string {
  return `party=${party}, sig=${formatBase64(getCrypto().ed25519Signer(key.seed)(message(body)))}`;
}

const HEADER = /^party=([A-Z][A-Z0-9-]{1,15}), sig=([A-Za-z0-9+/]{86}==)$/;

/**
 * Checks a webhook: the header parses, names a party of the accord, and its
 * signature over the exact body verifies under that party's log key.
 * @returns the sending party, or undefined when any check fails.
 */
export function verifyWebhook(accord: VerifiedAccord, header: string | undefined, body: Uint8Array): string | undefined {
  const m = header === undefined ? null : HEADER.exec(header);
  if (!m) return undefined;
  const member = accord.party(m[1]!);
  if (!member) return undefined;
  let sig: Uint8Array;
  try {
    sig = parseBase64(m[2]!);
  } catch {
    return undefined;
  }
  return sig.length === 64 && member.verify(message(body), sig) ? m[1] : undefined;
}
