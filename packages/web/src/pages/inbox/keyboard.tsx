/**
 * The inbox by keyboard (keys in `shortcuts.ts`, wiring in
 * `components/shortcuts.tsx`): j/k select the next/previous row of the rows
 * shown — the row is marked (`aria-current`, an outline), its link takes focus
 * (a screen reader reads the entry's title) and a polite live region says
 * "Selected 2 of 7: FLASH · Hotline message · CN · awaiting acknowledgement";
 * Enter or o opens it; a opens the acknowledge dialog for it (focus comes back
 * to the row when the dialog closes). Focus moved onto a row by Tab or a click
 * selects it too. The selection follows the entry, not its position, through
 * live updates.
 */
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { AckDialog } from '../../components/ack-dialog.js';
import { usePageKeys } from '../../components/shortcuts.js';
import { deadlineFor, entryKey, needsAck, typeName } from '../../entries.js';
import { useSession } from '../../session.js';
import { moveSelection } from '../../shortcuts.js';
import type { EntryView } from '../../types.js';

/** Whether a received entry awaiting our answer is past its deadline (by the node's judgement or this clock). */
export function isOverdue(v: EntryView, us: string | undefined, now: number): boolean {
  const d = deadlineFor(v, us);
  return needsAck(v) && d !== undefined && (d.overdue.length > 0 || Date.parse(d.dueAt) <= now);
}

/** The row's link: what j/k focus (its name is the entry's title, read by a screen reader). */
function rowLink(key: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-testid=inbox-row][data-key="${CSS.escape(key)}"] .title a`);
}

/** The filter field: "/" focuses it, Escape leaves it for the list (shortcuts work again). */
export function FilterField({ value, onChange, onLeave }: { value: string; onChange: (s: string) => void; onLeave: () => void }) {
  const { t } = useTranslation('inbox');
  return (
    <div className="field inbox-filter" role="search">
      <label htmlFor="inbox-filter">{t('filter')}</label>
      <input
        id="inbox-filter"
        type="search"
        value={value}
        placeholder={t('filterPlaceholder')}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onLeave();
          }
        }}
        data-testid="inbox-filter"
      />
    </div>
  );
}

export interface InboxKeyboard {
  readonly selectedKey: string | undefined;
  setSelectedKey(key: string): void;
  /** What the live region says (selection, acknowledgement, why "a" did nothing). */
  readonly said: string;
  /** Focus back to the selected row (or the page) — Escape in the filter field. */
  backToList(): void;
  /** The acknowledge dialog, when open. */
  readonly dialog: ReactNode;
}

/**
 * Registers the inbox's list keys over `list` (the rows shown, in order).
 * @param reload re-reads the inbox after an acknowledgement.
 */
export function useInboxKeyboard(list: readonly EntryView[], us: string | undefined, reload: () => unknown): InboxKeyboard {
  const { t } = useTranslation('shortcuts');
  const { t: tc } = useTranslation();
  const { canAct } = useSession();
  const navigate = useNavigate();
  const [selectedKey, setSelectedKey] = useState<string | undefined>(undefined);
  const [acking, setAcking] = useState<EntryView | undefined>(undefined);
  const [said, setSaid] = useState('');
  const focusAfter = useRef<string | undefined>(undefined);
  const selIndex = selectedKey === undefined ? -1 : list.findIndex((v) => entryKey(v) === selectedKey);
  const selected = selIndex >= 0 ? list[selIndex] : undefined;

  // After j/k (or the dialog closing) the selected row's link takes focus, once it is rendered.
  useEffect(() => {
    const k = focusAfter.current;
    if (k === undefined) return;
    const a = rowLink(k);
    if (a === null) return;
    focusAfter.current = undefined;
    a.focus();
    a.closest('li')?.scrollIntoView({ block: 'nearest' });
  });

  const describe = (v: EntryView, pos: number) => {
    const state = !needsAck(v) ? t('selectedAcked') : isOverdue(v, us, Date.now()) ? t('selectedOverdue') : t('selectedAwaiting');
    const what = `${v.entry.precedence} · ${typeName(tc, v.entry.type)} · ${v.entry.from.party} · ${state}`;
    return t('selected', { pos, count: list.length, what });
  };
  const select = (i: number) => {
    const v = list[i];
    if (v === undefined) return;
    // Already selected (k at the top, j at the bottom): nothing re-renders, so focus it now rather than leave
    // a pending focus that a later render (a letter typed in the filter) would carry out.
    const now = entryKey(v) === selectedKey ? rowLink(entryKey(v)) : null;
    if (now !== null) now.focus();
    else focusAfter.current = entryKey(v);
    setSelectedKey(entryKey(v));
    setSaid(describe(v, i + 1));
  };
  usePageKeys({
    next: () => select(moveSelection(selIndex, list.length, 1)),
    prev: () => select(moveSelection(selIndex, list.length, -1)),
    open: () => {
      if (selected !== undefined) void navigate(`/entries/${encodeURIComponent(selected.party)}/${selected.index}`);
      else setSaid(t('nothingSelected'));
    },
    ack: () => {
      if (selected === undefined) setSaid(t('nothingSelected'));
      else if (!canAct) setSaid(t('cannotAck'));
      else if (!needsAck(selected)) setSaid(t('notAckable'));
      else setAcking(selected);
    },
  });

  const dialog =
    acking !== undefined ? (
      <AckDialog
        v={acking}
        onDone={() => {
          setSaid(t('acked', { entry: entryKey(acking) }));
          void reload();
        }}
        onClose={() => {
          focusAfter.current = entryKey(acking);
          setAcking(undefined);
        }}
      />
    ) : null;
  return {
    selectedKey,
    setSelectedKey,
    said,
    backToList: () => (selected !== undefined ? rowLink(entryKey(selected))?.focus() : document.getElementById('main')?.focus()),
    dialog,
  };
}
