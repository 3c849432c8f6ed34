/**
 * Live updates: one server-sent-event stream per tab, GET /v1/events, read
 * with fetch (EventSource cannot send the Authorization header), shared by
 * every component that calls {@link useEvents}. The stream reconnects with
 * exponential backoff (1 s doubling to 30 s, with jitter) and resumes with
 * `Last-Event-ID`. After a reconnect, subscribers get a synthetic
 * `{ event: 'reconnected' }` so they can refetch whatever they may have missed.
 *
 *     useEvents((e) => { if (e.event === 'entry') reload(); });
 *     const status = useEventStatus(); // 'connecting' | 'live' | 'down'
 *
 * Parsing follows the HTML Living Standard §9.2.6 "Interpreting an event
 * stream": lines split on CRLF, LF or CR; `data` lines joined with LF; an
 * empty line dispatches; a line starting with ':' is a comment (keep-alive).
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { authHeaders, getToken, notifyUnauthorized } from './api.js';

export interface ServerEvent {
  /** The SSE `event` field ('message' when absent), or 'reconnected'. */
  readonly event: string;
  /** `data` parsed as JSON when it is JSON, else the raw string. */
  readonly data: unknown;
  readonly id?: string;
}

export type EventStatus = 'idle' | 'connecting' | 'live' | 'down';

type Handler = (e: ServerEvent) => void;

const handlers = new Set<Handler>();
const statusListeners = new Set<() => void>();
let status: EventStatus = 'idle';
let controller: AbortController | undefined;
let lastId: string | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let attempt = 0;
let everConnected = false;

function setStatus(s: EventStatus): void {
  if (s === status) return;
  status = s;
  for (const l of statusListeners) l();
}

function dispatch(e: ServerEvent): void {
  for (const h of [...handlers]) {
    try {
      h(e);
    } catch (err) {
      console.error('event handler failed', err);
    }
  }
}

/** Feed decoded text; returns the unconsumed tail. Exported for tests. */
export function parseSse(buffer: string, emit: (e: ServerEvent) => void, state: { event: string; data: string[]; id?: string }): string {
  const lines = buffer.split(/\r\n|\n|\r/);
  const tail = lines.pop() ?? '';
  for (const line of lines) {
    if (line === '') {
      if (state.data.length > 0) {
        const raw = state.data.join('\n');
        let data: unknown = raw;
        try {
          data = JSON.parse(raw);
        } catch {
          // not JSON: keep the text
        }
        emit(state.id === undefined ? { event: state.event, data } : { event: state.event, data, id: state.id });
      }
      state.event = 'message';
      state.data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') state.event = value;
    else if (field === 'data') state.data.push(value);
    else if (field === 'id' && !value.includes('\0')) state.id = value;
  }
  return tail;
}

async function connect(): Promise<void> {
  if (getToken() === undefined || handlers.size === 0) return;
  controller?.abort();
  const ctl = new AbortController();
  controller = ctl;
  setStatus('connecting');
  try {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
    if (lastId !== undefined) headers['last-event-id'] = lastId;
    const res = await fetch('/v1/events', { headers, signal: ctl.signal, cache: 'no-store' });
    if (res.status === 401) {
      setStatus('idle');
      notifyUnauthorized();
      return;
    }
    if (!res.ok || res.body === null) throw new Error(`events: HTTP ${res.status}`);
    setStatus('live');
    attempt = 0;
    if (everConnected) dispatch({ event: 'reconnected', data: null });
    everConnected = true;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const state: { event: string; data: string[]; id?: string } = { event: 'message', data: [] };
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = parseSse(buffer + value, (e) => {
        if (e.id !== undefined) lastId = e.id;
        dispatch(e);
      }, state);
    }
    throw new Error('events: stream ended');
  } catch {
    if (ctl.signal.aborted) return;
    setStatus('down');
    everConnected = true;
    const delay = Math.min(30_000, 1000 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt = Math.min(attempt + 1, 6);
    retryTimer = setTimeout(() => void connect(), delay);
  }
}

function stop(): void {
  controller?.abort();
  controller = undefined;
  if (retryTimer !== undefined) clearTimeout(retryTimer);
  retryTimer = undefined;
  setStatus('idle');
}

/** Subscribe for the lifetime of the component; the latest `handler` is always the one called. */
export function useEvents(handler: Handler): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const h: Handler = (e) => ref.current(e);
    handlers.add(h);
    if (handlers.size === 1 || status === 'idle') void connect();
    return () => {
      handlers.delete(h);
      if (handlers.size === 0) stop();
    };
  }, []);
}

/** Restart the stream (after login, when the token changed). */
export function restartEvents(): void {
  stop();
  lastId = undefined;
  everConnected = false;
  attempt = 0;
  void connect();
}

export function useEventStatus(): EventStatus {
  return useSyncExternalStore(
    (l) => {
      statusListeners.add(l);
      return () => statusListeners.delete(l);
    },
    () => status,
  );
}
