/**
 * Keyboard shortcuts on every logged-in page (the machine is `shortcuts.ts`):
 * one document listener reads each key; "?" opens the list of shortcuts (a
 * modal dialog: Escape closes it and focus returns where it was), "/" focuses
 * the page's search field, "g" + letter goes to a page (focus moves to the
 * page's main region), and the list keys (j, k, Enter/o, a) go to the page
 * that registered them with {@link usePageKeys} — the inbox. A key no page
 * takes is left alone (Enter on the compose form stays the form's).
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { type KeyState, SHORTCUT_HELP, type TargetInfo, step } from '../shortcuts.js';
import { useSession } from '../session.js';

/** What a page does with the list keys. */
export interface PageKeys {
  next(): void;
  prev(): void;
  open(): void;
  ack(): void;
}

interface ShortcutsContext {
  register(keys: PageKeys | undefined): void;
  openHelp(): void;
}

const Ctx = createContext<ShortcutsContext>({ register: () => undefined, openHelp: () => undefined });

function targetInfo(t: EventTarget | null): TargetInfo | null {
  if (!(t instanceof HTMLElement)) return null;
  return { tagName: t.tagName, type: t instanceof HTMLInputElement ? t.type : undefined, isContentEditable: t.isContentEditable, role: t.getAttribute('role') } as TargetInfo;
}

/** The field "/" focuses: the page's search box, else its first filter field. */
function searchField(): HTMLInputElement | null {
  return document.querySelector<HTMLInputElement>('main input[type=search], main [role=search] input');
}

export function ShortcutsProvider({ children }: { children: ReactNode }) {
  const navigate = useNavigate();
  const { canAct } = useSession();
  const page = useRef<PageKeys | undefined>(undefined);
  const state = useRef<KeyState>({});
  const [help, setHelp] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing) return;
      // An open dialog (this help, the acknowledge dialog) has the keyboard to itself.
      if (document.querySelector('dialog[open]') !== null) return;
      const s = step(state.current, e, targetInfo(e.target), Date.now());
      state.current = s.state;
      if (!s.consumed) return;
      const a = s.action;
      if (a === undefined) {
        e.preventDefault(); // "g", waiting for its letter
        return;
      }
      switch (a.kind) {
        case 'help':
          setHelp(true);
          break;
        case 'search': {
          const f = searchField();
          if (f === null) return;
          f.focus();
          f.select();
          break;
        }
        case 'go':
          if (a.to === '/compose' && !canAct) return;
          void navigate(a.to);
          // The new page's main region takes focus: Tab and the screen reader start there.
          setTimeout(() => document.getElementById('main')?.focus(), 0);
          break;
        default: {
          const keys = page.current;
          if (keys === undefined) return;
          keys[a.kind]();
        }
      }
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [navigate, canAct]);
  const register = useCallback((keys: PageKeys | undefined) => {
    page.current = keys;
  }, []);
  const openHelp = useCallback(() => setHelp(true), []);
  return (
    <Ctx.Provider value={{ register, openHelp }}>
      {children}
      {help ? <ShortcutHelp onClose={() => setHelp(false)} /> : null}
    </Ctx.Provider>
  );
}

/** Registers a page's list keys while it is shown (the latest handlers are called). */
export function usePageKeys(keys: PageKeys): void {
  const { register } = useContext(Ctx);
  const latest = useRef(keys);
  latest.current = keys;
  useEffect(() => {
    register({ next: () => latest.current.next(), prev: () => latest.current.prev(), open: () => latest.current.open(), ack: () => latest.current.ack() });
    return () => register(undefined);
  }, [register]);
}

export function useShortcutHelp(): () => void {
  return useContext(Ctx).openHelp;
}

function Keys({ keys }: { keys: readonly (readonly string[])[] }) {
  const { t } = useTranslation('shortcuts');
  return (
    <>
      {keys.map((combo, i) => (
        <span key={i}>
          {i > 0 ? <span className="muted"> {t('or')} </span> : null}
          {combo.map((k, j) => (
            <span key={k}>
              {j > 0 ? <span className="muted"> {t('then')} </span> : null}
              <kbd>{k}</kbd>
            </span>
          ))}
        </span>
      ))}
    </>
  );
}

/** The "?" overlay: every shortcut, in the UI language. A native modal dialog (focus kept inside; Escape closes). */
export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation('shortcuts');
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const back = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const d = ref.current;
    if (d !== null && !d.open) d.showModal();
    return () => {
      if (back !== null && back.isConnected) back.focus();
    };
  }, []);
  const sections = ['global', 'inbox'] as const;
  return (
    <dialog ref={ref} className="shortcut-help" aria-labelledby="shortcut-help-title" data-testid="shortcut-help" onClose={onClose}>
      <div className="dialog-head">
        <h2 id="shortcut-help-title">{t('title')}</h2>
        <button type="button" className="btn btn-quiet" onClick={() => ref.current?.close()} autoFocus>
          {t('close')}
        </button>
      </div>
      <p className="muted small">{t('intro')}</p>
      {sections.map((s) => (
        <table key={s} className="data shortcut-table">
          <caption>{t(`section.${s}`)}</caption>
          <thead>
            <tr>
              <th scope="col">{t('key')}</th>
              <th scope="col">{t('action')}</th>
            </tr>
          </thead>
          <tbody>
            {SHORTCUT_HELP.filter((r) => r.section === s).map((r) => (
              <tr key={r.keys.flat().join(' ')}>
                <td>
                  <Keys keys={r.keys} />
                </td>
                <td>{r.page !== undefined ? t(r.what, { page: t(r.page) }) : t(r.what)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </dialog>
  );
}
