/**
 * Time: what proves "committed before deployment" (EVAL.md §4).
 *
 * An entry provably existed by the time a checkpoint covering it (tree
 * size > its index) was vouched for by someone other than the log's owner:
 *
 *     provenBy(i) = min over checkpoints C with C.treeSize > i of
 *                     min( timestamps of verified cosignatures of C by OTHER parties' witnesses,
 *                          k-th smallest genTime over distinct authorities of C's verified
 *                          RFC 3161 tokens, when at least k = required authorities stamped C )
 *
 * The owner's own clock (the entry's `time`, its own cosignature) proves
 * nothing to others and is never used. With k-of-n time stamping the k-th
 * smallest time is the earliest moment k authorities agree the checkpoint
 * existed.
 *
 * The inputs are VERIFIED times (cosignatures checked against the accord's
 * witness keys, tokens checked by `@parley/core/tsa`): this module only
 * combines them, so it stays synchronous and free of certificate code.
 *
 * @example
 *   const p = provenBy(4, [{ treeSize: 5, cosignatures: [{ party: 'CN', timestamp: 1767225600 }] }], 'US');
 *   evaluationTimeline({ commitment: { entry, provenBy: p?.time }, notice: { entry: notice } }).days;
 */
import type { Localized } from '../taxonomy/types.js';
import type { SignedEntry } from '../entry/envelope.js';
import { type DeploymentNoticeBody, checkBody } from '../entry/bodies.js';

/** The verified times of one checkpoint of a log. */
export interface CheckpointTimes {
  readonly treeSize: number;
  /** Verified cosignatures: the cosigning party and the cosignature's POSIX seconds. */
  readonly cosignatures?: readonly { readonly party: string; readonly timestamp: number }[];
  /** Verified RFC 3161 token times, one per authority (duplicates of an authority count once). */
  readonly timestamps?: readonly { readonly authority: string; readonly genTime: Date }[];
  /** How many distinct authorities must have stamped it (the accord's `timestamping.required`); default 1. */
  readonly required?: number;
}

/** How an entry's existence was proven, and when. */
export interface ProvenTime {
  readonly time: Date;
  readonly how: 'cosignature' | 'timestamp';
  /** The checkpoint that proves it. */
  readonly treeSize: number;
  /** The cosigning party, or the authorities whose agreement fixed the time. */
  readonly by: readonly string[];
}

/** The k-th smallest genTime over distinct authorities (each authority's earliest), or undefined with fewer than k. */
export function timestampTime(timestamps: CheckpointTimes['timestamps'], required = 1): { time: Date; by: string[] } | undefined {
  const earliest = new Map<string, number>();
  for (const t of timestamps ?? []) {
    const ms = t.genTime.getTime();
    if (!Number.isFinite(ms)) continue;
    const prev = earliest.get(t.authority);
    if (prev === undefined || ms < prev) earliest.set(t.authority, ms);
  }
  const k = Math.max(1, required);
  const sorted = [...earliest].sort((a, b) => a[1] - b[1]);
  if (sorted.length < k) return undefined;
  return { time: new Date(sorted[k - 1]![1]), by: sorted.slice(0, k).map(([a]) => a) };
}

/**
 * The earliest trusted time at which entry `index` of `owner`'s log provably
 * existed (module doc), or undefined when no checkpoint covering it has a
 * trusted time.
 * @param checkpoints checkpoints of `owner`'s log with their verified times.
 * @param owner the log's party: its own cosignatures never count.
 */
export function provenBy(index: number, checkpoints: readonly CheckpointTimes[], owner: string): ProvenTime | undefined {
  let best: ProvenTime | undefined;
  const consider = (p: ProvenTime) => {
    if (best === undefined || p.time.getTime() < best.time.getTime()) best = p;
  };
  for (const c of checkpoints) {
    if (c.treeSize <= index) continue;
    for (const s of c.cosignatures ?? []) {
      if (s.party === owner || !Number.isSafeInteger(s.timestamp)) continue;
      consider({ time: new Date(s.timestamp * 1000), how: 'cosignature', treeSize: c.treeSize, by: [s.party] });
    }
    const t = timestampTime(c.timestamps, c.required);
    if (t) consider({ time: t.time, how: 'timestamp', treeSize: c.treeSize, by: t.by });
  }
  return best;
}

/** The timeline of one evaluation: was the commitment proven before the deployment? */
export interface EvaluationTimeline {
  /** True iff the commitment's proven time is strictly before the notice's `deployedAt`. */
  readonly committedBefore: boolean;
  /** deployedAt − provenBy, in whole seconds (negative: proven only after deployment); absent when unproven. */
  readonly marginSeconds?: number;
  /** floor(marginSeconds / 86400), at least 0. */
  readonly days: number;
  readonly deployedAt: string;
  readonly provenBy?: string;
  /** The one-line statement, every language ("committed N days before deployment"). */
  readonly statement: Localized;
}

/** What {@link evaluationTimeline} needs. */
export interface TimelineInput {
  readonly commitment: { readonly entry: SignedEntry; readonly provenBy?: Date | ProvenTime };
  /** The notice; `body` when it is sealed (the opened body), else its clear body is used. */
  readonly notice: { readonly entry: SignedEntry; readonly body?: unknown };
  readonly protocol?: { readonly entry: SignedEntry; readonly provenBy?: Date | ProvenTime };
}

const DAY = 86_400;

/**
 * The timeline of a commitment and its deployment notice.
 * @throws ParseError `ENTRY_MALFORMED` when the notice's body is not a deployment notice.
 */
export function evaluationTimeline(t: TimelineInput): EvaluationTimeline {
  const raw = t.notice.body ?? ('clear' in t.notice.entry.body ? t.notice.entry.body.clear : undefined);
  const notice: DeploymentNoticeBody = checkBody('deployment.notice', raw);
  const deployed = Date.parse(notice.deployedAt);
  const p = t.commitment.provenBy;
  const proven = p === undefined ? undefined : p instanceof Date ? p : p.time;
  if (proven === undefined) {
    return {
      committedBefore: false,
      days: 0,
      deployedAt: notice.deployedAt,
      statement: {
        en: 'Not proven: no checkpoint covering the commitment was cosigned by another party or time-stamped yet.',
        'zh-CN': '尚未证明：覆盖该承诺的检查点尚未获得其他方联署或时间戳。',
      },
    };
  }
  const margin = Math.floor((deployed - proven.getTime()) / 1000);
  const committedBefore = proven.getTime() < deployed;
  const days = committedBefore ? Math.floor(margin / DAY) : 0;
  const when = proven.toISOString();
  const statement: Localized = committedBefore
    ? days >= 1
      ? { en: `Committed ${days} day${days === 1 ? '' : 's'} before deployment (proven by ${when}).`, 'zh-CN': `在部署前 ${days} 天作出承诺（证明时间 ${when}）。` }
      : { en: `Committed ${formatShort(margin)} before deployment (proven by ${when}).`, 'zh-CN': `在部署前 ${formatShortZh(margin)}作出承诺（证明时间 ${when}）。` }
    : { en: `NOT committed before deployment: the commitment is proven only from ${when}, after the deployment at ${notice.deployedAt}.`, 'zh-CN': `并非在部署前作出承诺：该承诺最早只能证明于 ${when}，晚于部署时间 ${notice.deployedAt}。` };
  return { committedBefore, marginSeconds: margin, days, deployedAt: notice.deployedAt, provenBy: when, statement };
}

function formatShort(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min`;
  return `${s} s`;
}
function formatShortZh(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)} 小时 ${Math.floor((s % 3600) / 60)} 分钟`;
  if (s >= 60) return `${Math.floor(s / 60)} 分钟`;
  return `${s} 秒`;
}
