/**
 * The entry-type registry: the ONE list of entry types. The node (ingest,
 * submission, deadline tracking, OpenAPI), the CLI (send, watch, inbox,
 * outbox) and the dashboard (inbox filters, rendering) read it; no other
 * list of types exists.
 *
 *     type                ack  officer  governance  body (bodies.ts)
 *     hotline.message     yes  yes                  {text, lang?}
 *     incident.report     yes  yes                  {incident, kind, title, …}
 *     ack                      yes                  {reply?, lang?}            refs: what it answers
 *     receipt                                       {receivedAt, …}           refs: what was stored
 *     heartbeat                                     {treeSize}
 *     accord.amendment                  yes         {accord, signatures, rationale?, recovery?}
 *     accord.approval                   yes         {version, digest, signatures}  refs: the proposal
 *     accord.activation                 yes         {version, digest}
 *     evaluation.commitment     yes                 {stage, domains, sdAlg, sd}  CLEAR; refs: 0..1 (the protocol)
 *     deployment.notice   yes  yes                  {model, deployedAt, note?}  refs: exactly 1 (the commitment)
 *     evaluation.reveal         yes                 {disclosures}              refs: exactly 1 (the commitment)
 *     retraction                yes                 {action, reason, lang?}    refs: 1..2 (the withdrawn entry
 *                                                                              [, its replacement]), own log
 *     incident.link             yes                 {incidents, relation, …}  refs: 2..16 (a report of each
 *                                                                              of its 2..16 incidents)
 *
 * `ack`: a human acknowledgement is due (and tracked against the accord's
 * deadline); `officer`: an officer may submit it (the rest are written by the
 * node itself: machine traffic, or governance through the accord endpoints);
 * `governance`: it changes or answers a change of the accord, is TLP:CLEAR
 * (the envelope enforces it) and is answered by approvals, never by an ack.
 * `clear`: always TLP:CLEAR (the envelope enforces it; an evaluation
 * commitment is public so anyone holding the log can check it later);
 * `refs`: how many references the envelope must carry (min..max).
 *
 * **Unknown types.** The envelope's `type` is open syntax
 * ({@link ENTRY_TYPE_SYNTAX}: up to four dot-separated lowercase labels), so
 * a newer Parley can add a type without older peers refusing its logs. An
 * entry of a type this version does not know ({@link isKnownType} false) is
 * verified like any other — envelope, channel, addressing, signature, and a
 * sealed body must open for us — then stored and receipted like any other,
 * listed in the inbox as "Unknown type — needs a newer Parley", and never
 * tracked for an acknowledgement (nor acknowledgeable). It is never silently
 * skipped and never makes a whole bundle refused. Its body is not checked:
 * it cannot be. (An officer cannot SEND an unknown type: submission checks
 * the body, and an unknown type has no check.)
 *
 * @example
 *   ENTRY_REGISTRY['hotline.message'].ack            // true
 *   isKnownType('future.thing')                      // false: stored, receipted, shown as unknown
 *   ENTRY_REGISTRY['accord.activation'].check({ version: 2, digest: 'ab…' })
 */
import type { Localized } from '../taxonomy/taxonomy.js';
import { BODY_CHECKS, type EntryBodies, type KnownEntryType } from './bodies.js';

export type { KnownEntryType } from './bodies.js';

/** What Parley knows about one entry type. */
export interface EntryTypeInfo<B = unknown> {
  /**
   * The type's body check.
   * @param path where the body sits, for messages (default `body`).
   * @returns the body, typed.
   * @throws ParseError `ENTRY_MALFORMED` naming the offending member.
   */
  check(body: unknown, path?: string): B;
  /** A human acknowledgement is due (the deadline tracker tracks it; officers may ack it). */
  readonly ack: boolean;
  /** An officer may submit it. */
  readonly officer: boolean;
  /** It changes the accord or answers such a change (TLP:CLEAR, no ack). */
  readonly governance?: boolean;
  /** Always TLP:CLEAR (the envelope enforces it). */
  readonly clear?: boolean;
  /** The envelope's reference count, [min, max] (the envelope enforces it). */
  readonly refs?: readonly [number, number];
  /** Display name in every dashboard language. */
  readonly label: Localized;
}

interface Flags {
  ack: boolean;
  officer: boolean;
  governance?: boolean;
  clear?: boolean;
  refs?: readonly [number, number];
}

function info<T extends KnownEntryType>(type: T, flags: Flags, label: Localized): EntryTypeInfo<EntryBodies[T]> {
  const check = BODY_CHECKS[type] as (v: unknown, path: string) => EntryBodies[T];
  return { check: (body, path = 'body') => check(body, path), ...flags, label };
}

/** The registry (see the module doc). Key order is the display order. */
export const ENTRY_REGISTRY: { readonly [T in KnownEntryType]: EntryTypeInfo<EntryBodies[T]> } = {
  'hotline.message': info('hotline.message', { ack: true, officer: true }, { en: 'Hotline message', 'zh-CN': '热线消息' }),
  'incident.report': info('incident.report', { ack: true, officer: true }, { en: 'Incident report', 'zh-CN': '事件报告' }),
  ack: info('ack', { ack: false, officer: true }, { en: 'Acknowledgement', 'zh-CN': '确认' }),
  receipt: info('receipt', { ack: false, officer: false }, { en: 'Receipt', 'zh-CN': '回执' }),
  heartbeat: info('heartbeat', { ack: false, officer: false }, { en: 'Heartbeat', 'zh-CN': '心跳' }),
  'accord.amendment': info('accord.amendment', { ack: false, officer: false, governance: true }, { en: 'Accord amendment', 'zh-CN': '协定修订' }),
  'accord.approval': info('accord.approval', { ack: false, officer: false, governance: true }, { en: 'Accord approval', 'zh-CN': '协定修订批准' }),
  'accord.activation': info('accord.activation', { ack: false, officer: false, governance: true }, { en: 'Accord activation', 'zh-CN': '协定修订生效' }),
  'evaluation.commitment': info('evaluation.commitment', { ack: false, officer: true, clear: true, refs: [0, 1] }, { en: 'Evaluation commitment', 'zh-CN': '评估承诺' }),
  'deployment.notice': info('deployment.notice', { ack: true, officer: true, refs: [1, 1] }, { en: 'Deployment notice', 'zh-CN': '部署通知' }),
  'evaluation.reveal': info('evaluation.reveal', { ack: false, officer: true, refs: [1, 1] }, { en: 'Evaluation reveal', 'zh-CN': '评估披露' }),
  retraction: info('retraction', { ack: false, officer: true, refs: [1, 2] }, { en: 'Retraction', 'zh-CN': '撤回' }),
  'incident.link': info('incident.link', { ack: false, officer: true, refs: [2, 16] }, { en: 'Incident link', 'zh-CN': '事件关联' }),
};

/** Every known entry type, in the registry's order. */
export const ENTRY_TYPES = Object.keys(ENTRY_REGISTRY) as readonly KnownEntryType[];

/**
 * Entry types an officer may retract (issue 13): officer traffic, but
 * answers (`ack`) and retractions. One list for the node (which refuses
 * the others, RETRACTION_NOT_RETRACTABLE) and the dashboard (which offers
 * "Retract…" on these only).
 */
export const RETRACTABLE_TYPES: readonly KnownEntryType[] = ENTRY_TYPES.filter((t) => ENTRY_REGISTRY[t].officer && t !== 'ack' && t !== 'retraction');

/**
 * Whether an officer may retract an entry of type `t`.
 * @example isRetractable('incident.report') // true
 * @example isRetractable('ack') // false
 */
export function isRetractable(t: string): boolean {
  return (RETRACTABLE_TYPES as readonly string[]).includes(t);
}

/** Label of an entry of a type this version does not know. */
export const UNKNOWN_TYPE_LABEL: Localized = { en: 'Unknown type — needs a newer Parley', 'zh-CN': '未知类型——需要更新版本的 Parley' };

/** The syntax of an entry's `type` (open: any type name, known or not, of this form). */
export const ENTRY_TYPE_SYNTAX = /^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31}){0,3}$/;
/** Longest type name {@link ENTRY_TYPE_SYNTAX} allows. */
export const MAX_ENTRY_TYPE_LENGTH = 4 * 32 + 3;

/**
 * Whether this version of Parley knows entry type `t` (has a body check and
 * rules for it).
 * @example isKnownType('ack') // true
 * @example isKnownType('future.thing') // false
 */
export function isKnownType(t: string): t is KnownEntryType {
  return Object.prototype.hasOwnProperty.call(ENTRY_REGISTRY, t);
}

/** The registry's record for `t`, or undefined for an unknown type. */
export function entryTypeInfo(t: string): EntryTypeInfo | undefined {
  return isKnownType(t) ? (ENTRY_REGISTRY[t] as EntryTypeInfo) : undefined;
}

/** Known types whose entries need a human acknowledgement (registry `ack`). */
export const ACK_TYPES = ENTRY_TYPES.filter((t) => ENTRY_REGISTRY[t].ack);

/** Whether an entry of type `t` needs a human acknowledgement: false for every unknown type. */
export function needsAck(t: string): boolean {
  return entryTypeInfo(t)?.ack === true;
}

/** The display label of type `t` in `lang`: the registry's, or {@link UNKNOWN_TYPE_LABEL}. */
export function entryTypeLabel(t: string, lang: keyof Localized): string {
  return (entryTypeInfo(t)?.label ?? UNKNOWN_TYPE_LABEL)[lang];
}
