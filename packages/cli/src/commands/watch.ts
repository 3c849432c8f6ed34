/**
 * `parley watch`: the node's live events at a terminal, one line each, as
 * they happen — arrivals (FLASH rings the terminal bell), deadlines going
 * overdue, receipts and acknowledgements, link changes and forks.
 *
 * It reads GET /v1/events (Server-Sent Events, node http/events.ts) with the
 * officer's bearer token. When the stream breaks (the node restarted, the
 * network dropped, nothing — not even the 15 s keepalive — came for
 * {@link IDLE_MS}) it says so and reconnects with backoff, sending
 * `Last-Event-ID` so the node replays what was missed, or answers `reset`
 * when it cannot (a restarted node): then the line says that events may have
 * been missed. Ctrl-C (SIGINT) or SIGTERM ends it with exit status 0; a
 * refused session (expired, logged out) ends it with 2.
 *
 *     10:00:03Z  FLASH      arrived from US: US/7 hotline.message — Unusual model behaviour…
 *     10:00:09Z  ACK        CN acknowledged US/5: 收到
 *     10:05:00Z  OVERDUE    CN has not acknowledged US/4 (PRIORITY hotline.message)
 *     10:06:10Z  LINK       CN is down (heartbeat; last heard 10s ago)
 *
 * --json prints one JSON object per line (NDJSON): the node's event
 * `{time, id, event, data}` with `info` (what the line adds: first line,
 * reply, entry type, link reason), and `{time, event: "connected" |
 * "disconnected", …}` for the connection itself.
 */
import type { Command } from 'commander';
import { ACK_TYPES, UNKNOWN_TYPE_LABEL, entryTypeInfo, isKnownType } from '@parley/core/node';
import type { CheckpointEvent, DeadlineEvent, EntryEvent, EntryView, ForkEvent, LinkEvent, LinksResponse } from '@parley/node/api';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { type ClientOpts, NodeRefused, client, clientOptions, networkCause } from '../client.js';
import { ago } from '../human.js';
import { firstLine } from './inbox.js';
import { nodeHealth } from './status.js';

/** No byte for this long (three keepalives) means the stream is dead. */
const IDLE_MS = 45_000;
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 10_000;
/** Entries whose type and precedence are remembered (deadline events carry neither). */
const KNOWN_MAX = 4096;
/** Time allowed to each look-up that adds to a line (the entry's first line, a link's reason). */
const LOOKUP_MS = 5_000;

/** Officer traffic (core's entry-type registry: the types needing an acknowledgement). */
const OFFICER_TYPES: readonly string[] = ACK_TYPES;
/**
 * Arrivals printed without --all: officer traffic (messages, reports, and
 * the evaluation entries: commitments, deployment notices, reveals),
 * governance, and types this version does not know (printed as such, never
 * dropped); receipts and heartbeats are machine traffic (acks have their own line).
 */
export function isArrival(type: string): boolean {
  const t = entryTypeInfo(type);
  return t === undefined || t.ack || t.governance === true || (t.officer && type !== 'ack');
}

interface WatchOpts extends ClientOpts {
  bell?: boolean;
  all?: boolean;
  lastEventId?: string;
}

/** One event as the stream carries it (HTML §9.2.6: `event`, `data`, `id`). */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/**
 * An incremental `text/event-stream` parser (WHATWG HTML §9.2.6
 * "Interpreting an event stream"): lines end in CRLF, LF or CR; a line
 * starting with ':' is a comment (the node's keepalive); `field: value` with
 * one optional space after the colon; `data` lines join with LF; an empty
 * line dispatches the event (none when it has no data); `id` persists and
 * may not contain NUL. The web's twin is packages/web/src/events.ts.
 */
export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  /** A CR ended the last chunk: an LF starting the next one belongs to it. */
  #cr = false;

  /** Feeds decoded text; calls `emit` for each complete event. */
  feed(text: string, emit: (e: SseEvent) => void): void {
    let s = this.#buffer + text;
    if (this.#cr && s.startsWith('\n')) s = s.slice(1);
    this.#cr = false;
    const lines = s.split(/\r\n|\n|\r/);
    this.#buffer = lines.pop() ?? '';
    // "…\r" then "\n…": the split saw a line end at the CR already.
    if (this.#buffer === '' && s.endsWith('\r')) this.#cr = true;
    for (const line of lines) this.#line(line, emit);
  }

  #line(line: string, emit: (e: SseEvent) => void): void {
    if (line === '') {
      if (this.#data.length > 0) emit({ event: this.#event === '' ? 'message' : this.#event, data: this.#data.join('\n'), ...(this.#id !== undefined ? { id: this.#id } : {}) });
      this.#event = '';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}

/**
 * Reads one connection of the event stream until it ends.
 * @returns why it ended (the node closed it, or it went idle).
 * @throws NodeRefused for an error answer; the fetch's error when the node cannot be reached.
 */
async function readStream(url: string, token: string, lastId: string | undefined, signal: AbortSignal, onOpen: () => void, onEvent: (e: SseEvent) => void): Promise<string> {
  const ctl = new AbortController();
  const abort = () => ctl.abort();
  signal.addEventListener('abort', abort);
  let idle: ReturnType<typeof setTimeout> | undefined;
  let wentIdle = false;
  const arm = () => {
    if (idle !== undefined) clearTimeout(idle);
    idle = setTimeout(() => {
      wentIdle = true;
      ctl.abort();
    }, IDLE_MS);
  };
  try {
    arm();
    const res = await fetch(`${url}/v1/events`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, ...(lastId !== undefined ? { 'last-event-id': lastId } : {}) },
      signal: ctl.signal,
    });
    if (!res.ok || res.body === null) {
      const text = await res.text().catch(() => '');
      let p: { code?: string; detail?: string; title?: string } = {};
      try {
        p = JSON.parse(text) as typeof p;
      } catch {
        // not a problem document
      }
      const code = p.code ?? `HTTP_${res.status}`;
      const hint = res.status === 401 ? ' — log in again: parley login --name NAME' : '';
      throw new NodeRefused(res.status, code, `the node refused GET /v1/events: ${p.detail ?? p.title ?? res.statusText} (${code}, HTTP ${res.status})${hint}`);
    }
    onOpen();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      arm();
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }), onEvent);
    }
    return 'the node closed the stream';
  } catch (e) {
    if (wentIdle) return `nothing came for ${IDLE_MS / 1000}s`;
    throw e;
  } finally {
    if (idle !== undefined) clearTimeout(idle);
    signal.removeEventListener('abort', abort);
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const t = setTimeout(finish, ms);
    function finish() {
      clearTimeout(t);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish);
  });
}

type Client = ReturnType<typeof client>;

/** What the lines need to know beyond the event, looked up at the node. */
class Lookups {
  readonly #known = new Map<string, { type: string; precedence?: string }>();
  constructor(readonly c: Client) {}

  remember(party: string, index: number, type: string, precedence: string | undefined): void {
    this.#known.set(`${party}/${index}`, { type, ...(precedence !== undefined ? { precedence } : {}) });
    if (this.#known.size > KNOWN_MAX) this.#known.delete(this.#known.keys().next().value!);
  }

  /** The entry as this officer may read it, or undefined when the node does not say in time. */
  async entry(party: string, index: number): Promise<EntryView | undefined> {
    try {
      const v = (await withTimeout(this.c.get(`/v1/entries/${party}/${index}`))) as EntryView;
      this.remember(party, index, v.entry.type, v.entry.precedence);
      return v;
    } catch {
      return undefined;
    }
  }

  async kind(party: string, index: number): Promise<{ type: string; precedence?: string } | undefined> {
    const k = this.#known.get(`${party}/${index}`);
    if (k) return k;
    const v = await this.entry(party, index);
    return v && { type: v.entry.type, precedence: v.entry.precedence };
  }

  async link(party: string): Promise<LinksResponse['links'][number] | undefined> {
    try {
      return ((await withTimeout(this.c.get('/v1/links'))) as LinksResponse).links.find((l) => l.party === party);
    } catch {
      return undefined;
    }
  }
}

const withTimeout = <T>(p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<never>((_, fail) => setTimeout(() => fail(new Error('timeout')), LOOKUP_MS).unref())]);

/** A line to print: its tag (precedence or kind), its text, what --json adds, and whether it rings. */
interface Line {
  readonly tag: string;
  readonly text: string;
  readonly info?: Record<string, unknown>;
  readonly bell?: boolean;
}

/** An entry appended to our log (out) or received (in): arrivals and acknowledgements; the rest with --all. */
async function entryLine(d: EntryEvent, all: boolean, look: Lookups): Promise<Line | undefined> {
  look.remember(d.party, d.index, d.type, d.precedence);
  const ref = `${d.party}/${d.index}`;
  if (d.direction === 'in' && d.type === 'ack') {
    const v = await look.entry(d.party, d.index);
    const of = v ? v.entry.refs.map((r) => `${r.party}/${r.index}`).join(', ') : '?';
    const reply = (v?.body as { reply?: unknown } | undefined)?.reply;
    const text = `${d.party} acknowledged ${of}${typeof reply === 'string' ? `: ${oneLine(reply)}` : ''}${v?.sealed !== undefined ? ` [reply sealed: ${v.sealed}]` : ''}`;
    return { tag: 'ACK', text, info: { of: v?.entry.refs ?? [], ...(typeof reply === 'string' ? { reply } : {}) } };
  }
  if (d.direction === 'in' && (all || isArrival(d.type))) {
    const v = isArrival(d.type) ? await look.entry(d.party, d.index) : undefined;
    const first = v ? firstLine(v) : isKnownType(d.type) ? undefined : UNKNOWN_TYPE_LABEL.en;
    return { tag: d.precedence ?? 'ENTRY', text: `arrived from ${d.party}: ${ref} ${d.type}${first ? ` — ${first}` : ''}`, ...(first ? { info: { firstLine: first } } : {}), bell: d.precedence === 'FLASH' };
  }
  return all ? { tag: d.precedence ?? 'ENTRY', text: `${d.direction === 'out' ? 'we logged' : 'arrived'} ${ref} ${d.type}` } : undefined;
}

/**
 * A delivery changing state: for officer traffic, overdue, rejected, a
 * receipt of ours (their acknowledgements come as ACK arrivals) and our own
 * acknowledgements; everything with --all.
 */
async function deadlineLine(d: DeadlineEvent, us: string, all: boolean, look: Lookups): Promise<Line | undefined> {
  const k = await look.kind(d.party, d.index);
  const shown = all || (k !== undefined && OFFICER_TYPES.includes(k.type));
  const ref = `${d.party}/${d.index}`;
  const what = k ? ` (${k.precedence ? `${k.precedence} ` : ''}${k.type})` : '';
  const info = k ? { type: k.type, ...(k.precedence ? { precedence: k.precedence } : {}) } : {};
  const ours = d.recipient === us;
  if (!shown) return undefined;
  if (d.state === 'overdue-receipt' || d.state === 'overdue-ack') {
    const hint = ours && d.state === 'overdue-ack' ? ` — parley ack ${d.party} ${d.index}` : '';
    return { tag: 'OVERDUE', text: `${ours ? 'we have' : `${d.recipient} has`} not ${d.state === 'overdue-ack' ? 'acknowledged' : 'receipted'} ${ref}${what}${hint}`, info };
  }
  if (d.state === 'withdrawn') return { tag: 'WITHDRAWN', text: `${ref}${what} was withdrawn by ${d.party} (a retraction): no acknowledgement due`, info };
  if (d.state === 'rejected') return { tag: 'REJECTED', text: `${d.recipient} rejected ${ref}${what}: its body failed the recipient's check`, info };
  if (d.state === 'received' && !ours) return { tag: 'RECEIPT', text: `${d.recipient} received ${ref}${what}`, info };
  if (d.state === 'acknowledged' && ours) return { tag: 'ACKED', text: `we acknowledged ${ref}${what}`, info };
  return all ? { tag: 'DEADLINE', text: `${ref} to ${d.recipient}: ${d.state}${what}`, info } : undefined;
}

/** A link changing state, with the reason the node gives for it now. */
async function linkLine(d: LinkEvent, look: Lookups): Promise<Line> {
  const l = d.state === 'up' ? undefined : await look.link(d.party);
  const why = l ? ` (${[l.reason, l.lastHeardAt ? `last heard ${ago(l.lastHeardAt, Date.now())}` : 'never heard'].filter(Boolean).join('; ')})` : '';
  return { tag: 'LINK', text: `${d.party} is ${d.state}${why}`, info: l ? { ...(l.reason ? { reason: l.reason } : {}), ...(l.lastHeardAt ? { lastHeardAt: l.lastHeardAt } : {}) } : {} };
}

/**
 * Turns one event into a line, or undefined when it is not shown (without
 * --all: our own entries, machine traffic, checkpoints).
 */
async function lineOf(e: SseEvent, data: unknown, us: string, all: boolean, look: Lookups): Promise<Line | undefined> {
  switch (e.event) {
    case 'entry':
      return entryLine(data as EntryEvent, all, look);
    case 'deadline':
      return deadlineLine(data as DeadlineEvent, us, all, look);
    case 'link':
      return linkLine(data as LinkEvent, look);
    case 'fork':
      return { tag: 'FORK', text: `${(data as ForkEvent).party}'s log showed two histories: a fork proof is held and its log quarantined (GET /v1/forks; parley verify-fork checks it)`, bell: true };
    case 'reset':
      return { tag: 'RESET', text: 'events may have been missed (the node restarted, or this watch fell too far behind): parley status and parley inbox show where things stand' };
    case 'checkpoint': {
      const d = data as CheckpointEvent;
      return all ? { tag: 'CHECKPOINT', text: `${d.party === us ? 'our log' : `${d.party}'s log (we cosigned)`} at size ${d.size}` } : undefined;
    }
    default:
      return all ? { tag: e.event.toUpperCase(), text: e.data } : undefined;
  }
}

const oneLine = (s: string) => {
  const l = s.split('\n')[0] ?? '';
  return l.length > 72 ? `${l.slice(0, 71)}…` : l;
};

/** "10:00:03Z". */
const hms = (d: Date) => `${d.toISOString().slice(11, 19)}Z`;

export function registerWatch(program: Command): void {
  clientOptions(
    program
      .command('watch')
      .description('follow the node live: arrivals (FLASH rings the bell), deadlines going overdue, receipts, acknowledgements, link changes and forks, one line each; reconnects by itself; Ctrl-C stops')
      .option('--bell', 'ring the terminal bell on a FLASH arrival or a fork even when standard output is not a terminal')
      .option('--no-bell', 'never ring the bell')
      .option('--all', 'every event: our own entries, receipts and heartbeats, checkpoints and every delivery state')
      .option('--last-event-id <id>', 'resume after this event id (the "id" of a --json line): the node replays what followed, or says it cannot (reset)'),
  )
    .addHelpText(
      'after',
      `
Lines: the time (UTC), a tag — the precedence of an arrival (FLASH…ROUTINE),
ACK, RECEIPT, OVERDUE, REJECTED, ACKED (we acknowledged), LINK, FORK, RESET —
and what happened. Connection notices go to standard error. With --json, one
JSON object per line on standard output (NDJSON): node events as
{"time","id","event","data","info"}, and {"time","event":"connected"|"disconnected"}.

Exit status: 0 after Ctrl-C (SIGINT) or SIGTERM; 2 when the node refuses
the session (log in again); 3 when it cannot be reached at the start.

Examples:
  $ parley watch --data us
  $ parley watch --data us --json | jq -c 'select(.event == "deadline")'`,
    )
    .action(act(watch));
}

/** Prints lines and notices in the order of the events, however long a look-up takes. */
class Printer {
  #queue: Promise<void> = Promise.resolve();
  readonly #json: boolean;
  readonly #ring: boolean;

  constructor(readonly o: WatchOpts, readonly url: string, readonly us: string, readonly look: Lookups, readonly signal: AbortSignal) {
    this.#json = o.json === true;
    this.#ring = o.bell ?? process.stdout.isTTY === true;
  }

  notice(event: 'connected' | 'disconnected', human: string, extra: Record<string, unknown>): void {
    if (this.#json) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, url: this.url, ...extra })}\n`);
    else process.stderr.write(`${hms(new Date())}  ${human}\n`);
  }

  event(e: SseEvent): void {
    this.#queue = this.#queue.then(async () => {
      let data: unknown = e.data;
      try {
        data = JSON.parse(e.data);
      } catch {
        // not JSON: kept as text
      }
      const line = await lineOf(e, data, this.us, this.o.all === true, this.look);
      if (line === undefined || this.signal.aborted) return;
      const time = new Date();
      const bell = line.bell === true && this.#ring ? '\x07' : '';
      if (this.#json) {
        process.stdout.write(`${JSON.stringify({ time: time.toISOString(), ...(e.id !== undefined ? { id: e.id } : {}), event: e.event, data, ...(line.info ? { info: line.info } : {}) })}\n`);
        // The bell stays out of the JSON lines.
        if (bell) process.stderr.write(bell);
      } else process.stdout.write(`${bell}${hms(time)}  ${line.tag.padEnd(9)}  ${line.text}\n`);
    });
  }

  /** Resolves when every line queued so far is out. */
  drained(): Promise<void> {
    return this.#queue;
  }
}

/**
 * Reads the stream, reconnecting with backoff and `Last-Event-ID`, until `signal` aborts.
 * @throws UsageError when the first connection fails; NodeRefused when the node refuses the session.
 */
async function follow(c: Client, lastEventId: string | undefined, out: Printer, signal: AbortSignal): Promise<void> {
  let lastId = lastEventId;
  let connected = false;
  let attempt = 0;
  const opened = () => {
    attempt = 0;
    const resumed = connected;
    connected = true;
    const human = resumed ? `reconnected to ${c.url}${lastId !== undefined ? ` (resuming after event ${lastId})` : ''}` : `watching ${c.url} as ${out.us} (Ctrl-C to stop)`;
    out.notice('connected', human, { resumed, ...(lastId !== undefined ? { lastEventId: lastId } : {}) });
  };
  const onEvent = (e: SseEvent) => {
    if (e.id !== undefined) lastId = e.id;
    out.event(e);
  };
  while (!signal.aborted) {
    let why: string;
    try {
      why = await readStream(c.url, c.token, lastId, signal, opened, onEvent);
    } catch (e) {
      if (signal.aborted) break;
      // Refused (401: the session ended) or never reached: nothing to wait for.
      if (e instanceof NodeRefused && e.status < 500 && e.status !== 429) throw e;
      if (!connected) throw e instanceof NodeRefused ? e : new UsageError(`cannot reach the node at ${c.url} (${networkCause(e)}): is it running? start it with: parley serve`, 'NODE_UNREACHABLE');
      why = e instanceof NodeRefused ? e.message : `lost (${networkCause(e)})`;
    }
    if (signal.aborted) break;
    if (attempt === 0) out.notice('disconnected', `disconnected from ${c.url}: ${why}; reconnecting…`, { reason: why });
    await sleep(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt), signal);
    attempt = Math.min(attempt + 1, 10);
  }
}

async function watch(o: WatchOpts): Promise<number> {
  if (o.lastEventId !== undefined && !/^(0|[1-9][0-9]*)$/.test(o.lastEventId)) throw new UsageError(`--last-event-id "${o.lastEventId}" is not an event id (a decimal)`);
  const c = client(o);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { party: us } = await nodeHealth(c.url);
    const out = new Printer(o, c.url, us, new Lookups(c), stop.signal);
    await follow(c, o.lastEventId, out, stop.signal);
    await out.drained();
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return EXIT_OK;
}
