/**
 * The alert banner on every page (issue 9): a FLASH arriving, a link going
 * down and a fork are announced here whatever page is open — a banner line
 * each (role=alert, with a link to what it is about and a dismiss button),
 * the count in the tab title, and, when the officer turned them on (kept per
 * browser, alerts.ts), a tone and a desktop notification. Links already down
 * (or forked) when the page opens are announced too (GET /v1/links).
 */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api.js';
import { type Alert, type AlertPrefs, alertOf, alertTitle, applyAlert, loadPrefs, savePrefs } from '../alerts.js';
import { isResync } from '../live.js';
import { useEvents } from '../events.js';

interface LinksAnswer {
  readonly links: readonly { party: string; state: string; reason?: string }[];
}

/** A short two-tone beep (Web Audio; no file to fetch). */
function beep(): void {
  try {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.frequency.setValueAtTime(880, ctx.currentTime);
    o.frequency.setValueAtTime(660, ctx.currentTime + 0.18);
    g.gain.setValueAtTime(0.2, ctx.currentTime);
    o.connect(g).connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.36);
    o.onended = () => void ctx.close();
  } catch {
    // no audio device: the banner still shows
  }
}

export function AlertSettings({ prefs, onChange }: { prefs: AlertPrefs; onChange: (p: AlertPrefs) => void }) {
  const { t } = useTranslation();
  const desktop = async (on: boolean) => {
    if (on && typeof Notification !== 'undefined' && Notification.permission !== 'granted') {
      const p = await Notification.requestPermission().catch(() => 'denied' as const);
      if (p !== 'granted') return onChange({ ...prefs, desktop: false });
    }
    onChange({ ...prefs, desktop: on });
  };
  return (
    <fieldset className="alert-settings" data-testid="alert-settings">
      <legend className="visually-hidden">{t('alerts.settings')}</legend>
      <label>
        <input type="checkbox" checked={prefs.sound} onChange={(e) => onChange({ ...prefs, sound: e.target.checked })} data-testid="alert-sound" /> {t('alerts.sound')}
      </label>
      <label>
        <input type="checkbox" checked={prefs.desktop} onChange={(e) => void desktop(e.target.checked)} data-testid="alert-desktop" /> {t('alerts.desktop')}
      </label>
    </fieldset>
  );
}

/** The shared alert state: the open alerts, the preference, and dismissing. */
export function useAlerts() {
  const { t } = useTranslation();
  const [alerts, setAlerts] = useState<readonly Alert[]>([]);
  const [prefs, setPrefsState] = useState<AlertPrefs>(() => loadPrefs());
  const dismissed = useRef(new Set<string>());
  const prefsRef = useRef(prefs);
  prefsRef.current = prefs;
  const text = (a: Alert) => t(`alerts.${a.kind}`, { party: a.party, index: a.index });

  const raise = (a: Alert, loud: boolean) => {
    if (dismissed.current.has(a.key)) return;
    setAlerts((l) => applyAlert(l, { add: a }));
    if (!loud) return;
    if (prefsRef.current.sound) beep();
    if (prefsRef.current.desktop && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      try {
        new Notification(t('appName'), { body: text(a), tag: a.key, requireInteraction: a.kind !== 'link-down' });
      } catch {
        // some browsers only notify from a service worker: the banner still shows
      }
    }
  };

  const syncLinks = async () => {
    const r = await api<LinksAnswer>('/v1/links').catch(() => undefined);
    if (r === undefined) return;
    for (const l of r.links) {
      if (l.reason === 'fork') raise({ key: `fork/${l.party}`, kind: 'fork', party: l.party }, false);
      if (l.state === 'down') raise({ key: `link-down/${l.party}`, kind: 'link-down', party: l.party }, false);
      else setAlerts((list) => applyAlert(list, { linkUp: l.party }));
    }
  };
  useEffect(() => {
    void syncLinks();
  }, []);
  useEvents((e) => {
    if (isResync(e)) return void syncLinks();
    const c = alertOf(e);
    if (c === undefined) return;
    if ('linkUp' in c) {
      dismissed.current.delete(`link-down/${c.linkUp}`);
      setAlerts((l) => applyAlert(l, c));
    } else if ('clear' in c) setAlerts((l) => applyAlert(l, c));
    else raise(c.add, true);
  });

  const dismiss = (key: string) => {
    dismissed.current.add(key);
    setAlerts((l) => l.filter((a) => a.key !== key));
  };
  const setPrefs = (p: AlertPrefs) => {
    savePrefs(p);
    setPrefsState(p);
  };
  return { alerts, prefs, setPrefs, dismiss, text };
}

/** Keeps the tab title saying how many alerts are open, whatever the page sets it to. */
function useAlertTitle(open: number): void {
  useEffect(() => {
    const apply = () => {
      const want = alertTitle(document.title, open);
      if (document.title !== want) document.title = want;
    };
    apply();
    const el = document.querySelector('title');
    if (el === null) return undefined;
    const obs = new MutationObserver(apply);
    obs.observe(el, { childList: true, characterData: true, subtree: true });
    return () => {
      obs.disconnect();
      document.title = alertTitle(document.title, 0);
    };
  }, [open]);
}

export function AlertBanner({ state }: { state: ReturnType<typeof useAlerts> }) {
  const { t } = useTranslation();
  const { alerts, dismiss, text } = state;
  useAlertTitle(alerts.length);
  if (alerts.length === 0) return null;
  return (
    <div className="alert-banner" role="alert" data-testid="alert-banner">
      <ul>
        {alerts.map((a) => (
          <li key={a.key} className={`alert alert-${a.kind}`} data-testid="alert" data-kind={a.kind} data-party={a.party}>
            <span aria-hidden="true">{a.kind === 'flash' ? '⚡ ' : '⚠ '}</span>
            <strong>{text(a)}</strong>{' '}
            {a.kind === 'flash' && a.index !== undefined ? (
              <Link to={`/entries/${encodeURIComponent(a.party)}/${a.index}`}>{t('alerts.open')}</Link>
            ) : (
              <Link to="/links">{t('alerts.links')}</Link>
            )}{' '}
            <button type="button" className="btn btn-quiet btn-small" onClick={() => dismiss(a.key)} aria-label={t('alerts.dismissOne', { what: text(a) })}>
              {t('alerts.dismiss')}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
