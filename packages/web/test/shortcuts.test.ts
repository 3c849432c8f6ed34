/**
 * The keyboard shortcut machine (src/shortcuts.ts): keys act only when the
 * officer is not typing, "g" waits for its letter (and no longer than
 * G_TIMEOUT_MS), Enter on a link or button is left to it, and j/k stop at
 * the ends of the list.
 */
import { describe, expect, it } from 'vitest';
import { G_TIMEOUT_MS, GO_TARGETS, SHORTCUT_HELP, type KeyState, type TargetInfo, isTypingTarget, moveSelection, step } from '../src/shortcuts.js';

const BODY: TargetInfo = { tagName: 'BODY' };
const LINK: TargetInfo = { tagName: 'A' };

/** Keys pressed one after another (`at` ms apart) from a fresh state; the actions taken. */
function press(keys: readonly string[], target: TargetInfo = BODY, at = 100): (string | undefined)[] {
  let state: KeyState = {};
  return keys.map((key, i) => {
    const s = step(state, { key }, target, i * at);
    state = s.state;
    return s.action === undefined ? undefined : s.action.kind === 'go' ? `go ${s.action.to}` : s.action.kind;
  });
}

describe('keyboard shortcuts', () => {
  it('read single keys outside text fields', () => {
    expect(press(['?', '/', 'j', 'k', 'o', 'a', 'Enter'])).toEqual(['help', 'search', 'next', 'prev', 'open', 'ack', 'open']);
    expect(step({}, { key: 'x' }, BODY, 0)).toEqual({ state: {}, consumed: false });
  });

  it('never fire while the officer types in a field, a text area, a select or editable text', () => {
    const typing: TargetInfo[] = [
      { tagName: 'INPUT', type: 'text' },
      { tagName: 'input', type: 'search' },
      { tagName: 'INPUT' }, // no type = text
      { tagName: 'TEXTAREA' },
      { tagName: 'SELECT' },
      { tagName: 'DIV', isContentEditable: true },
      { tagName: 'DIV', role: 'textbox' },
    ];
    for (const t of typing) {
      expect(isTypingTarget(t)).toBe(true);
      for (const key of ['?', '/', 'g', 'j', 'k', 'o', 'a', 'Enter']) expect(step({}, { key }, t, 0).consumed).toBe(false);
      // Not even the second half of a "g" pressed before focus moved into the field.
      expect(step({ gAt: 0 }, { key: 'o' }, t, 10).action).toBeUndefined();
    }
    for (const t of [{ tagName: 'INPUT', type: 'checkbox' }, { tagName: 'BUTTON' }, LINK, BODY, null]) expect(isTypingTarget(t)).toBe(false);
  });

  it('leave keys with Ctrl, Alt or Meta to the browser', () => {
    for (const mod of [{ ctrlKey: true }, { altKey: true }, { metaKey: true }]) expect(step({}, { key: 'k', ...mod }, BODY, 0).consumed).toBe(false);
  });

  it('go to each page with g then its letter', () => {
    expect(GO_TARGETS.map((g) => g.key)).toEqual(['i', 'o', 'c', 'n', 'l', 'e', 'p', 'v']);
    for (const g of GO_TARGETS) expect(press(['g', g.key])).toEqual([undefined, `go ${g.to}`]);
    expect(press(['g', 'o'])).toEqual([undefined, 'go /outbox']); // not "open"
    expect(step({}, { key: 'g' }, BODY, 0)).toEqual({ state: { gAt: 0 }, consumed: true });
  });

  it('forget a "g" after its timeout, and read an unknown second key on its own', () => {
    expect(press(['g', 'o'], BODY, G_TIMEOUT_MS + 1)).toEqual([undefined, 'open']);
    expect(press(['g', 'j'])).toEqual([undefined, 'next']);
    expect(press(['g', 'x', 'o'])).toEqual([undefined, undefined, 'open']);
    // Shift on its way to a letter keeps the "g".
    expect(press(['g', 'Shift', 'i'])).toEqual([undefined, undefined, 'go /']);
  });

  it('leave Enter to a focused link or button', () => {
    expect(step({}, { key: 'Enter' }, LINK, 0).consumed).toBe(false);
    expect(step({}, { key: 'Enter' }, { tagName: 'BUTTON' }, 0).consumed).toBe(false);
    expect(step({}, { key: 'Enter' }, { tagName: 'DIV', role: 'button' }, 0).consumed).toBe(false);
    expect(step({}, { key: 'Enter' }, { tagName: 'LI' }, 0).action).toEqual({ kind: 'open' });
    // Other shortcuts still work on a focused link (the inbox focuses rows' links).
    expect(step({}, { key: 'j' }, LINK, 0).action).toEqual({ kind: 'next' });
  });

  it('move the selection without wrapping, starting at the first row', () => {
    expect(moveSelection(-1, 5, 1)).toBe(0);
    expect(moveSelection(-1, 5, -1)).toBe(0);
    expect(moveSelection(0, 5, 1)).toBe(1);
    expect(moveSelection(4, 5, 1)).toBe(4);
    expect(moveSelection(0, 5, -1)).toBe(0);
    expect(moveSelection(7, 5, -1)).toBe(4); // the list shrank under the selection
    expect(moveSelection(-1, 0, 1)).toBe(-1);
  });

  it('lists every shortcut in the help, each page once', () => {
    const keys = SHORTCUT_HELP.flatMap((r) => r.keys.map((k) => k.join(' ')));
    expect(keys).toEqual(expect.arrayContaining(['?', '/', 'j', 'k', 'Enter', 'o', 'a', ...GO_TARGETS.map((g) => `g ${g.key}`)]));
    expect(new Set(keys).size).toBe(keys.length);
  });
});
