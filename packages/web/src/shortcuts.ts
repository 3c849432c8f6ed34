/**
 * Keyboard shortcuts, as GitHub and Gmail have them: single keys that act
 * only when the officer is not typing, and "g" then a letter to go to a page.
 * Pure: the key → action step is a small state machine over plain event
 * fields, so it is unit-tested without a browser (test/shortcuts.test.ts);
 * `components/shortcuts.tsx` wires it to the document.
 *
 *     ?          the list of shortcuts (Escape closes it)
 *     /          focus the page's search or filter field
 *     g i … g v  go to inbox, outbox, compose, incidents, links, explorer, compliance, evaluations
 *     j / k      inbox: next / previous entry
 *     Enter, o   inbox: open the selected entry
 *     a          inbox: acknowledge the selected entry (a dialog for the reply)
 *
 * Never while typing: a key pressed in a text field, text area, select or
 * editable element is the officer's text, not a command (Escape excepted,
 * which the fields themselves handle). Keys with Ctrl, Alt or Meta are the
 * browser's. "g" waits {@link G_TIMEOUT_MS} for its letter.
 */

export type ShortcutAction =
  | { readonly kind: 'help' }
  | { readonly kind: 'search' }
  | { readonly kind: 'go'; readonly to: string }
  | { readonly kind: 'next' }
  | { readonly kind: 'prev' }
  | { readonly kind: 'open' }
  | { readonly kind: 'ack' };

/** The pages "g" leads to: the letter, the path, the navigation label's key. */
export const GO_TARGETS: readonly { readonly key: string; readonly to: string; readonly label: string }[] = [
  { key: 'i', to: '/', label: 'common:nav.inbox' },
  { key: 'o', to: '/outbox', label: 'common:nav.outbox' },
  { key: 'c', to: '/compose', label: 'common:nav.compose' },
  { key: 'n', to: '/incidents', label: 'common:nav.incidents' },
  { key: 'l', to: '/links', label: 'common:nav.links' },
  { key: 'e', to: '/logs', label: 'common:nav.log' },
  { key: 'p', to: '/compliance', label: 'common:nav.compliance' },
  { key: 'v', to: '/evaluations', label: 'common:nav.evaluations' },
];

/** The help overlay's rows: the keys as shown, the words' key (shortcuts namespace) and, for "go", the page's label key. */
export const SHORTCUT_HELP: readonly { readonly section: 'global' | 'inbox'; readonly keys: readonly (readonly string[])[]; readonly what: string; readonly page?: string }[] = [
  { section: 'global', keys: [['?']], what: 'help' },
  { section: 'global', keys: [['/']], what: 'search' },
  ...GO_TARGETS.map((g) => ({ section: 'global' as const, keys: [['g', g.key]], what: 'goTo', page: g.label })),
  { section: 'inbox', keys: [['j']], what: 'next' },
  { section: 'inbox', keys: [['k']], what: 'prev' },
  { section: 'inbox', keys: [['Enter'], ['o']], what: 'open' },
  { section: 'inbox', keys: [['a']], what: 'ack' },
  { section: 'inbox', keys: [['Esc']], what: 'escape' },
];

export const G_TIMEOUT_MS = 1500;

/** The fields of a KeyboardEvent the step reads. */
export interface KeyInput {
  readonly key: string;
  readonly ctrlKey?: boolean;
  readonly altKey?: boolean;
  readonly metaKey?: boolean;
}

/** The fields of an event target the guards read (an Element, or a test's plain object). */
export interface TargetInfo {
  readonly tagName?: string;
  readonly type?: string;
  readonly isContentEditable?: boolean;
  readonly role?: string | null;
}

/** Input types that take no text: a shortcut pressed on a checkbox is still a shortcut. */
const NON_TEXT_INPUTS = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'image', 'file', 'color', 'range']);

/** Whether a key pressed at `t` is the officer typing (a text field, text area, select, editable element or textbox). */
export function isTypingTarget(t: TargetInfo | null | undefined): boolean {
  if (t === null || t === undefined) return false;
  if (t.isContentEditable === true) return true;
  const tag = (t.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !NON_TEXT_INPUTS.has((t.type ?? 'text').toLowerCase());
  return t.role === 'textbox' || t.role === 'combobox' || t.role === 'searchbox';
}

/** Whether Enter at `t` already does something of its own (follows a link, presses a button). */
export function isActivatable(t: TargetInfo | null | undefined): boolean {
  const tag = (t?.tagName ?? '').toUpperCase();
  return tag === 'A' || tag === 'BUTTON' || tag === 'SUMMARY' || tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || t?.role === 'button' || t?.role === 'link';
}

export interface KeyState {
  /** When "g" was pressed, while its letter is awaited. */
  readonly gAt?: number | undefined;
}

export interface Step {
  readonly state: KeyState;
  /** What to do, when the key means something. */
  readonly action?: ShortcutAction;
  /** The key was a shortcut (or half of one): the page should not act on it too (preventDefault). */
  readonly consumed: boolean;
}

/**
 * One key press through the shortcut machine.
 * @param state what came before (a pending "g").
 * @param e the key and its modifiers.
 * @param target where focus was.
 * @param now milliseconds (for the "g" timeout).
 * @returns the next state, the action if any, and whether the key was used.
 * @example step({}, { key: 'g' }, body, 0) → { state: { gAt: 0 }, consumed: true }; then { key: 'o' } → go /outbox
 */
export function step(state: KeyState, e: KeyInput, target: TargetInfo | null | undefined, now: number): Step {
  if (e.ctrlKey === true || e.altKey === true || e.metaKey === true) return { state: {}, consumed: false };
  if (isTypingTarget(target)) return { state: {}, consumed: false };
  const pendingG = state.gAt !== undefined && now - state.gAt <= G_TIMEOUT_MS;
  if (pendingG) {
    const go = GO_TARGETS.find((g) => g.key === e.key);
    if (go !== undefined) return { state: {}, action: { kind: 'go', to: go.to }, consumed: true };
    if (e.key === 'Shift') return { state, consumed: false }; // a modifier on its way to a letter
    // Anything else cancels the "g" and is read on its own below.
  }
  switch (e.key) {
    case 'g':
      return { state: { gAt: now }, consumed: true };
    case '?':
      return { state: {}, action: { kind: 'help' }, consumed: true };
    case '/':
      return { state: {}, action: { kind: 'search' }, consumed: true };
    case 'j':
      return { state: {}, action: { kind: 'next' }, consumed: true };
    case 'k':
      return { state: {}, action: { kind: 'prev' }, consumed: true };
    case 'o':
      return { state: {}, action: { kind: 'open' }, consumed: true };
    case 'a':
      return { state: {}, action: { kind: 'ack' }, consumed: true };
    case 'Enter':
      // A focused link or button opens itself; Enter elsewhere opens the selection.
      return isActivatable(target) ? { state: {}, consumed: false } : { state: {}, action: { kind: 'open' }, consumed: true };
    default:
      return { state: {}, consumed: false };
  }
}

/**
 * The selection after `j`/`k` in a list of `length` rows: the first row when
 * nothing is selected yet (either key: the most urgent entry is first),
 * clamped at both ends (no wrap-around, as in Gmail).
 * @returns the new index, or -1 for an empty list.
 */
export function moveSelection(current: number, length: number, by: 1 | -1): number {
  if (length <= 0) return -1;
  if (current < 0) return 0;
  return Math.min(length - 1, Math.max(0, current + by));
}
