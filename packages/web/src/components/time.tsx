/**
 * Times and countdowns. `<Time iso>` shows a moment in the viewer's time zone
 * (in the UI language's format), naming the zone, with seconds in the full
 * form (or `seconds`), and the UTC ISO string on hover and in `dateTime`. `<Countdown dueAt>` ticks every second and becomes loud once
 * the deadline has passed — red, a warning icon and the word "overdue", so
 * the state never rests on colour alone.
 */
import { useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { ClockIcon } from './icons.js';

// One shared 1 Hz clock for every countdown on the page.
const tickListeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;
function subscribe(l: () => void): () => void {
  tickListeners.add(l);
  if (timer === undefined) {
    timer = setInterval(() => {
      now = Date.now();
      for (const f of tickListeners) f();
    }, 1000);
  }
  return () => {
    tickListeners.delete(l);
    if (tickListeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** Milliseconds since the epoch, re-rendering every second. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

export function formatTime(iso: string, lang: string, opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'medium' }): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(lang, opts).format(d);
}

/**
 * Format options of {@link Time}: every time says its zone (issue 9: a duty
 * officer compares times across parties in different zones); the full form
 * and `seconds` show seconds (deadlines are in seconds).
 */
export function timeOptions(short: boolean, seconds: boolean): Intl.DateTimeFormatOptions {
  return short
    ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}), timeZoneName: 'short' }
    : { dateStyle: 'medium', timeStyle: 'long' };
}

export function Time({ iso, short, seconds }: { iso: string; short?: boolean; seconds?: boolean }) {
  const { i18n } = useTranslation();
  const d = new Date(iso);
  const utc = Number.isNaN(d.getTime()) ? iso : d.toISOString();
  const opts = timeOptions(short === true, seconds === true);
  return (
    <time dateTime={utc} title={`${utc} (UTC)`}>
      {formatTime(iso, i18n.language, opts)}
    </time>
  );
}

/** "1 h 02 m", "4 m 05 s", "12 s"; whole hours or minutes (configured deadlines) as "30 m", "2 h". */
export function formatDuration(ms: number, lang: string): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const zh = lang === 'zh-CN';
  const u = zh ? { d: '天', h: '小时', m: '分', s: '秒' } : { d: 'd', h: 'h', m: 'm', s: 's' };
  const pad = (n: number) => String(n).padStart(2, '0');
  const sp = zh ? '' : ' ';
  if (d > 0) return h === 0 ? `${d}${sp}${u.d}` : `${d}${sp}${u.d} ${h}${sp}${u.h}`;
  if (h > 0) return Math.abs(ms) % 3_600_000 === 0 ? `${h}${sp}${u.h}` : `${h}${sp}${u.h} ${pad(m)}${sp}${u.m}`;
  if (m > 0) return Math.abs(ms) % 60_000 === 0 ? `${m}${sp}${u.m}` : `${m}${sp}${u.m} ${pad(sec)}${sp}${u.s}`;
  return `${sec}${sp}${u.s}`;
}

/**
 * A live countdown to `dueAt`. When `done` is set the deadline was met and it
 * shows that instead; `overdue` forces the overdue state (the node judged it so,
 * even if this browser's clock is slightly behind). `label` names what is due.
 */
export function Countdown({ dueAt, done, overdue: judged, label }: { dueAt: string; done?: boolean; overdue?: boolean; label?: string }) {
  const { t, i18n } = useTranslation();
  const current = useNow();
  const due = Date.parse(dueAt);
  const utc = Number.isNaN(due) ? dueAt : new Date(due).toISOString();
  if (done === true) {
    return (
      <span className="countdown countdown-done" title={`${utc} (UTC)`}>
        <span aria-hidden="true">✓ </span>
        {t('countdown.met')}
      </span>
    );
  }
  const left = due - current;
  const overdue = left <= 0 || judged === true;
  const soon = !overdue && left < 60_000;
  const text = overdue ? t('countdown.overdueBy', { d: formatDuration(left, i18n.language) }) : t('countdown.dueIn', { d: formatDuration(left, i18n.language) });
  return (
    <span
      className={`countdown ${overdue ? 'countdown-overdue' : soon ? 'countdown-soon' : ''}`}
      title={`${label !== undefined ? `${label}: ` : ''}${utc} (UTC)`}
      data-overdue={overdue ? 'true' : 'false'}
      role="timer"
      aria-live="off"
    >
      {overdue ? (
        <span aria-hidden="true" className="icon">
          ⚠{' '}
        </span>
      ) : (
        <span className="icon">
          <ClockIcon />{' '}
        </span>
      )}
      {text}
      {/* On paper a countdown is frozen at the moment of printing: the deadline itself says more. */}
      <span className="print-only"> ({formatTime(dueAt, i18n.language, timeOptions(true, true))})</span>
    </span>
  );
}
