/**
 * Paper. A page that shows marked entries declares its marking
 * (`usePrintMarking`); printed, every sheet then carries that marking at its
 * top and its bottom, as FIRST TLP 2.0 asks ("TLP:AMBER", in the colour of
 * its level on black, at least 12 pt). The print stylesheet (styles.css,
 * "print") leaves navigation, buttons and alerts out.
 *
 *     usePrintMarking(v.entry.marking);                                  // an entry
 *     usePrintMarking(mostRestrictive(timeline.map((v) => v.entry.marking)));  // an incident, a list
 *
 * How the marking reaches every sheet: two `position: fixed` lines, which
 * Chromium and Firefox repeat on each printed page, and a layout table
 * around the page (`PrintFrame`) whose header and footer rows, repeated on
 * each page too, keep the text clear of those lines. On screen the lines are
 * hidden and the table is `display: contents`, so it changes nothing.
 */
import { MARKINGS, type Marking } from '@parley/core';
import { type ReactNode, createContext, useContext, useEffect, useState } from 'react';

/**
 * The most restrictive of `markings` (TLP:RED > TLP:AMBER+STRICT >
 * TLP:AMBER > TLP:GREEN > TLP:CLEAR, the order of core's MARKINGS), or
 * undefined when there is none: what a printout holding all of them must be
 * marked.
 */
export function mostRestrictive(markings: Iterable<Marking>): Marking | undefined {
  let rank = -1;
  for (const m of markings) rank = Math.max(rank, MARKINGS.indexOf(m));
  return rank < 0 ? undefined : MARKINGS[rank];
}

/** The CSS class of a marking's colours (shared with the badges): TLP:AMBER+STRICT → tlp-amber-strict. */
export function markingClass(m: Marking): string {
  return `tlp-${m.replace('TLP:', '').replace('+', '-').toLowerCase()}`;
}

const SetMarking = createContext<(m: Marking | undefined) => void>(() => undefined);

/** Declares the marking of what this page shows, for as long as it is shown (undefined: unmarked). */
export function usePrintMarking(m: Marking | undefined): void {
  const set = useContext(SetMarking);
  useEffect(() => {
    set(m);
    return () => set(undefined);
  }, [m, set]);
}

function MarkingLine({ m, at }: { m: Marking; at: 'top' | 'bottom' }) {
  return (
    <div className={`print-marking print-marking-${at} ${markingClass(m)}`} data-marking={m}>
      {m}
    </div>
  );
}

/**
 * Wraps the page: the markings its pages declare, printed on every sheet,
 * and `source` (who printed it from which node, and when) printed above it.
 */
export function PrintFrame({ source, children }: { source?: ReactNode; children: ReactNode }) {
  const [marking, setMarking] = useState<Marking | undefined>(undefined);
  return (
    <SetMarking.Provider value={setMarking}>
      {marking !== undefined ? <MarkingLine m={marking} at="top" /> : null}
      <table className={`print-frame${marking !== undefined ? ' print-marked' : ''}`} role="presentation">
        <thead aria-hidden="true">
          <tr>
            <td>
              <div className="print-space" />
            </td>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>
              {source !== undefined ? <p className="print-only print-source">{source}</p> : null}
              {children}
            </td>
          </tr>
        </tbody>
        <tfoot aria-hidden="true">
          <tr>
            <td>
              <div className="print-space" />
            </td>
          </tr>
        </tfoot>
      </table>
      {marking !== undefined ? <MarkingLine m={marking} at="bottom" /> : null}
    </SetMarking.Provider>
  );
}
