/**
 * Helpers over EntryView shared by the hotline pages (and usable by others):
 * a one-line summary, the body's shape, precedence order, and the inbox
 * ordering rule.
 */
import { PRECEDENCES, type Precedence, isKnownType, needsAck as typeNeedsAck } from '@parley/core';
import type { Deadline, EntryView, HotlineMessageBody, IncidentReportBody } from './types.js';

/** FLASH = 0 … ROUTINE = 3 (core's PRECEDENCES order, most urgent first). */
export function precedenceRank(p: Precedence): number {
  const i = PRECEDENCES.indexOf(p);
  return i < 0 ? PRECEDENCES.length : i;
}

export function isHotlineMessage(v: EntryView): v is EntryView & { body: HotlineMessageBody } {
  return v.entry.type === 'hotline.message' && typeof v.body === 'object' && v.body !== null && typeof (v.body as { text?: unknown }).text === 'string';
}

export function isIncidentReport(v: EntryView): v is EntryView & { body: IncidentReportBody } {
  return v.entry.type === 'incident.report' && typeof v.body === 'object' && v.body !== null && typeof (v.body as { incident?: unknown }).incident === 'string';
}

/** The body's first line or the report's title, at most `max` characters; undefined when the body is not readable. */
export function summaryOf(v: EntryView, max = 140): string | undefined {
  let s: string | undefined;
  if (isHotlineMessage(v)) s = v.body.text;
  else if (isIncidentReport(v)) s = v.body.title;
  else if (v.entry.type === 'ack' && typeof (v.body as { reply?: unknown } | undefined)?.reply === 'string') s = (v.body as { reply: string }).reply;
  else if (v.entry.type === 'retraction' && typeof (v.body as { reason?: unknown } | undefined)?.reason === 'string') s = (v.body as { reason: string }).reason;
  else if (v.entry.type === 'deployment.notice' && typeof (v.body as { model?: { id?: unknown } } | undefined)?.model?.id === 'string') s = (v.body as { model: { id: string } }).model.id;
  if (s === undefined) return undefined;
  const first = s.split(/\r?\n/).find((x) => x.trim() !== '') ?? s;
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/** The deadline governing `recipient`'s answer to `v`. */
export function deadlineFor(v: EntryView, recipient: string | undefined): Deadline | undefined {
  if (v.deadlines === undefined) return undefined;
  return (recipient !== undefined ? v.deadlines.find((d) => d.recipient === recipient) : undefined) ?? v.deadlines[0];
}

/** Whether a received entry still needs our acknowledgement (its type needs one: core's entry-type registry; not withdrawn by its sender). */
export function needsAck(v: EntryView): boolean {
  return typeNeedsAck(v.entry.type) && v.state?.ack === undefined && v.retracted === undefined;
}

/** Whether officers acknowledge entries of this type (core's entry-type registry; never an unknown type). */
export function isAnswerable(type: string): boolean {
  return typeNeedsAck(type);
}

/**
 * An entry type's shown name: its label (locale `entryType.*`, kept equal to
 * core's registry labels by test/locales.test.ts), or "Unknown type — needs a
 * newer Parley" for a type this version does not know.
 */
export function typeName(t: (key: string) => string, type: string): string {
  return isKnownType(type) ? t(`entryType.${type}`) : t('entryType.unknown');
}

/**
 * Inbox order: entries awaiting acknowledgement first, by precedence (FLASH
 * first) then by deadline (soonest, i.e. most overdue, first); then the
 * acknowledged ones, newest first.
 */
export function compareInbox(us: string | undefined) {
  return (a: EntryView, b: EntryView): number => {
    const na = needsAck(a);
    const nb = needsAck(b);
    if (na !== nb) return na ? -1 : 1;
    if (na) {
      const p = precedenceRank(a.entry.precedence) - precedenceRank(b.entry.precedence);
      if (p !== 0) return p;
      const da = Date.parse(deadlineFor(a, us)?.dueAt ?? a.entry.time);
      const db = Date.parse(deadlineFor(b, us)?.dueAt ?? b.entry.time);
      if (da !== db) return da - db;
    }
    return Date.parse(b.entry.time) - Date.parse(a.entry.time);
  };
}

export function entryKey(v: { party: string; index: number }): string {
  return `${v.party}/${v.index}`;
}

/** How a recipient's delivery of a sent entry reads in the outbox (issue 9). */
export type DeliveryLabel = 'sent' | 'received' | 'received-late' | 'acknowledged' | 'acknowledged-late' | 'overdue-receipt' | 'overdue-ack' | 'withdrawn';

/**
 * The outbox's reading of one recipient's delivery, from that delivery's own
 * receipt and acknowledgement (the listing carries them per entry, never
 * matched against a window of recent deliveries): an answer in time is
 * `acknowledged`/`received`; an answer after its deadline is
 * `acknowledged-late` / `received-late` with `lateSeconds` (+N s) — its own
 * state, not "overdue"; only a missing answer past its deadline (by the
 * node's judgement, or by this clock) is `overdue-…`.
 * @param now milliseconds since the epoch.
 */
export function deliveryLabel(d: Deadline, now: number): { label: DeliveryLabel; lateSeconds?: number } {
  const lateBy = (at: string, due: string | undefined) => (due === undefined ? 0 : Math.max(1, Math.ceil((Date.parse(at) - Date.parse(due)) / 1000)));
  if (d.ack !== undefined) return d.ack.onTime ? { label: 'acknowledged' } : { label: 'acknowledged-late', lateSeconds: lateBy(d.ack.judgedAt, d.ackDueAt) };
  // Withdrawn by its sender (issue 13): no acknowledgement is due any more.
  if (d.state === 'withdrawn') return { label: 'withdrawn' };
  const passed = (due: string | undefined) => !d.settled && due !== undefined && Date.parse(due) < now;
  if (d.receipt === undefined) return d.overdue.includes('receipt') || passed(d.receiptDueAt ?? d.dueAt) ? { label: 'overdue-receipt' } : { label: 'sent' };
  if (d.overdue.includes('ack') || passed(d.ackDueAt)) return { label: 'overdue-ack' };
  return d.receipt.onTime ? { label: 'received' } : { label: 'received-late', lateSeconds: lateBy(d.receipt.judgedAt, d.receiptDueAt) };
}
