/**
 * The CLI reads core's entry-type registry: `parley watch` prints arrivals of
 * officer traffic, governance and types it does not know (never dropping
 * those), and the first line of an entry (inbox, outbox, watch) names
 * governance entries in words and an unknown type as such.
 */
import { describe, expect, it } from 'vitest';
import { ENTRY_TYPES } from '@parley/core/node';
import { firstLine } from '../src/commands/inbox.js';
import { isArrival } from '../src/commands/watch.js';

const view = (type: string, body: unknown) => ({ body, entry: { type, precedence: 'ROUTINE', marking: 'TLP:CLEAR', time: '2026-01-01T00:00:00.000Z', to: ['CN'], from: { party: 'US', officer: 'node' }, refs: [{ party: 'CN', index: 4 }] } });

describe('entry types in the CLI', () => {
  it('watch: arrivals are officer traffic, governance and unknown types; not receipts, heartbeats or acks', () => {
    // Evaluation entries (issue 12) are officer traffic: a commitment, a deployment notice (acknowledged) and a reveal all arrive; so do retractions and incident links (issue 13).
    expect(ENTRY_TYPES.filter(isArrival)).toEqual(['hotline.message', 'incident.report', 'accord.amendment', 'accord.approval', 'accord.activation', 'evaluation.commitment', 'deployment.notice', 'evaluation.reveal', 'retraction', 'incident.link']);
    expect(isArrival('future.thing')).toBe(true);
    expect(isArrival('toString')).toBe(true);
  });

  it('first lines of governance entries and of an unknown type', () => {
    expect(firstLine(view('accord.amendment', { accord: { version: 2 }, signatures: [], rationale: 'rotate US key' }))).toBe('proposes accord version 2: rotate US key');
    expect(firstLine(view('accord.approval', { version: 2, digest: 'ab'.repeat(32), signatures: [] }))).toBe('approves accord version 2 (abababababab…)');
    expect(firstLine(view('accord.activation', { version: 3, digest: 'ab'.repeat(32) }))).toBe('adopts accord version 3 from this entry on');
    expect(firstLine(view('future.thing', { a: 1 }))).toBe('[Unknown type — needs a newer Parley] {"a":1}');
  });

  it('first lines of evaluation entries', () => {
    expect(firstLine(view('evaluation.commitment', { stage: 'report', domains: ['CBRN', 'cyber'], sdAlg: 'sha-256', sd: ['a', 'b', 'c'] }))).toBe('commits to an evaluation (CBRN, cyber): 3 digests, follows CN/4');
    expect(firstLine(view('deployment.notice', { model: { id: 'lab/m-1', digest: 'sha256:00' }, deployedAt: '2026-12-15T00:00:00Z' }))).toBe('deploys lab/m-1 at 2026-12-15T00:00:00Z, evaluated in CN/4');
    expect(firstLine(view('evaluation.reveal', { disclosures: ['x', 'y'] }))).toBe('reveals 2 claims of CN/4 (parley eval show)');
  });
});
