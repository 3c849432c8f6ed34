/**
 * `parley watch`'s event-stream parser against WHATWG HTML §9.2.6
 * ("Interpreting an event stream"): the stream below is the spec's own
 * examples and the node's frames (node http/events.ts), fed whole and cut at
 * every byte — one TCP read may end anywhere, between a CR and its LF too.
 */
import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from '../src/commands/watch.js';

const STREAM =
  'retry: 3000\n\n' + // the node's first frame: no data, no event
  ': keepalive\n\n' + // a comment
  'id: 41\r\nevent: entry\r\ndata: {"party":"CN","index":7}\r\n\r\n' + // CRLF
  'id: 42\revent: link\rdata: {"party":"EU","state":"down"}\r\r' + // CR alone
  'data: YHOO\ndata: +2\ndata\ndata: 10\n\n' + // §9.2.6 example: lines joined with LF; `data` without a colon is empty
  'event:reset\ndata:{}\n\n' + // no space after the colon
  'event: nothing\n\n' + // no data: not dispatched
  'id: 4\u00003\ndata: kept id\n\n' + // an id with NUL is ignored
  'data: unfinished'; // no blank line yet: not dispatched

const EXPECTED: SseEvent[] = [
  { event: 'entry', data: '{"party":"CN","index":7}', id: '41' },
  { event: 'link', data: '{"party":"EU","state":"down"}', id: '42' },
  { event: 'message', data: 'YHOO\n+2\n\n10', id: '42' },
  { event: 'reset', data: '{}', id: '42' },
  { event: 'message', data: 'kept id', id: '42' },
];

function parse(chunks: readonly string[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) p.feed(c, (e) => out.push(e));
  return out;
}

describe('SseParser (HTML §9.2.6)', () => {
  it('dispatches events on blank lines with CRLF, LF or CR line ends', () => {
    expect(parse([STREAM])).toEqual(EXPECTED);
  });

  it('gives the same events however the stream is cut', () => {
    for (let i = 0; i <= STREAM.length; i++) expect(parse([STREAM.slice(0, i), STREAM.slice(i)]), `cut at ${i}`).toEqual(EXPECTED);
    expect(parse([...STREAM])).toEqual(EXPECTED);
  });
});
