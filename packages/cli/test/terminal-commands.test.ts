/**
 * `parley outbox`, `parley status` and `parley watch` (issue 10, Terminal),
 * as real processes against three real nodes (US, CN, EU) on 127.0.0.1 with
 * federation (--poll 300) and 3 s heartbeats; the officers log in with
 * `parley login`, as at a terminal.
 *
 *   1. status on a healthy channel: exit 0, every witness's cosignature of
 *      US's log verified and fresh, every link up, nothing to attend to.
 *   2. Two watches of US run throughout (one human with --bell, one --json).
 *      CN sends US a FLASH: the human watch rings the bell on its line, the
 *      JSON one (no --bell, not a terminal) does not. US sends CN a FLASH,
 *      which CN acknowledges with a reply, and a PRIORITY message, left to go
 *      overdue (6 s). The outbox shows the receipt, the acknowledgement and
 *      the reply, and the overdue one (--overdue lists it alone); status
 *      exits 1 naming it; the watch printed the acknowledgement with its
 *      reply and the OVERDUE line.
 *   3. EU stops: status exits 1 naming the link to EU; the watch prints the
 *      link going down.
 *   4. US restarts: both watches say they lost the stream and reconnected
 *      (with Last-Event-ID; the new process answers `reset`), every --json
 *      line parses; Ctrl-C (SIGINT) ends each with exit 0. A node that cannot
 *      be reached makes status exit 2.
 *
 * Asserted by exit code and JSON fields; the human lines are asserted where
 * the lines are the feature (the bell, the tags, the reply).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from './helpers/channel.js';
import { type Node, PARTIES, dataOf, freePort, stop, threeParties } from './helpers/parties.js';
import { BIN } from './helpers/serve.js';

const h = threeParties({ parleyTimeout: 30_000, httpTimeout: 15_000 });
const { nodes, until } = h;

const start = (n: Node) => h.start(n, { flags: ['--poll', '300', '--no-web'], peers: [] });

/** A `parley watch` process and what it printed so far. */
interface Watch {
  child: ChildProcess;
  out: string;
  err: string;
  exited: Promise<number | null>;
}

const watches: Watch[] = [];

function watch(args: readonly string[]): Watch {
  const child = spawn(process.execPath, [BIN, 'watch', '--data', 'us', ...args], { cwd: h.dir(), env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const w: Watch = { child, out: '', err: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (w.out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (w.err += d));
  watches.push(w);
  return w;
}

/** Waits until `w`'s output (stdout, or stderr) matches `re`. */
const printed = (w: Watch, what: string, re: RegExp, stream: 'out' | 'err' = 'out', ms = 30_000) =>
  until(`watch to print ${what}`, ms, async () => (re.test(w[stream]) ? true : undefined)).catch((e: Error) => {
    throw new Error(`${e.message}\n--- watch stdout:\n${w.out}\n--- watch stderr:\n${w.err}`);
  });

const jsonLines = (w: Watch): { event: string; id?: string; data?: any; info?: any; resumed?: boolean }[] =>
  w.out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

interface Status {
  ok: boolean;
  party: string;
  log: { size: number; checkpoint?: { size: number } };
  witnesses: { party: string; size: number; cosignedAt?: string; stale: boolean }[];
  links: { party: string; state: string }[];
  forks: unknown[];
  continuity: { state: string };
  deadlines: { received: { open: number; overdue: number }; sent: { open: number; overdue: number } };
  attention: { kind: string; party?: string; detail: string }[];
}

async function status(args: readonly string[] = []): Promise<{ code: number | null; report?: Status; stdout: string; stderr: string }> {
  const r = await h.parleyAsync(['status', '--data', 'us', ...args]);
  return { ...r, ...(args.includes('--json') && r.stdout !== '' ? { report: JSON.parse(r.stdout) as Status } : {}) };
}

/** `parley … --json` without blocking this process (the watches' output is read meanwhile). */
async function json<T>(args: readonly string[]): Promise<T> {
  const r = await h.parleyAsync([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function send(n: Node, precedence: string, to: string, text: string): Promise<{ index: number }> {
  const r = await h.http(n, 'POST', '/v1/messages', { precedence, marking: 'TLP:AMBER', to: [to], text });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { index: r.body.index as number };
}

beforeAll(async () => {
  await h.found('parley-terminal-', 'terminal-test', ['--heartbeat', '3', '--receipt', '5', '--ack-flash', '300', '--ack-priority', '6']);
  await h.startAll(start);
  for (const p of PARTIES) await json(['login', '--data', dataOf(p), '--name', 'admin', '--password-file', 'admin.pw']);
  // Three inits (scrypt), three starts and three logins: minutes on a busy 2-core machine.
}, 240_000);

afterAll(async () => {
  for (const w of watches) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await h.teardown([]);
});

describe('parley outbox, status and watch against three real nodes', () => {
  let human: Watch;
  let nd: Watch;

  it('status: exit 0 on a healthy channel, with every witness cosignature verified and every link up', async () => {
    // Federation needs a few rounds after start: the first status may still see a link coming up.
    const r = await until('status to exit 0', 60_000, async () => {
      const s = await status(['--json']);
      return s.code === 0 ? s : undefined;
    });
    const s = r.report!;
    expect(s.ok).toBe(true);
    expect(s.party).toBe('US');
    expect(s.attention).toEqual([]);
    expect(s.continuity.state).toBe('confirmed');
    expect(s.log.checkpoint!.size).toBeGreaterThan(0);
    expect(s.witnesses.map((w) => w.party).sort()).toEqual(['CN', 'EU']);
    for (const w of s.witnesses) {
      expect(w.size).toBeGreaterThan(0);
      expect(w.stale).toBe(false);
      expect(Date.now() - Date.parse(w.cosignedAt!)).toBeLessThan(60_000);
    }
    expect(s.links.map((l) => [l.party, l.state]).sort()).toEqual([
      ['CN', 'up'],
      ['EU', 'up'],
    ]);
    expect(s.forks).toEqual([]);
    const text = await status();
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^US at http:\/\/127\.0\.0\.1:\d+: all well/);
  }, 90_000);

  it('outbox, status and watch: a FLASH arrives with the bell, an acknowledgement with its reply, and an overdue message', async () => {
    human = watch(['--bell']);
    nd = watch(['--json']);
    await printed(human, 'that it is watching', /watching http:\/\/127\.0\.0\.1:\d+ as US/, 'err');
    await printed(nd, 'the connected line', /"event":"connected"/);

    // Sending and acknowledging go over HTTP (their commands have their own tests): each CLI start costs seconds here.
    const flashIn = await send(nodes.CN, 'FLASH', 'US', 'Unusual model behaviour in deployment X; confirm receipt.');
    await printed(human, 'the FLASH arrival with the bell', new RegExp(`\\x07\\d\\d:\\d\\d:\\d\\dZ  FLASH +arrived from CN: CN/${flashIn.index} hotline\\.message — Unusual model behaviour`));

    const flash = await send(nodes.US, 'FLASH', 'CN', 'Call us on the hotline.');
    const priority = await send(nodes.US, 'PRIORITY', 'CN', 'Left unanswered.');
    await until('CN to hold the FLASH', 20_000, async () => ((await h.get(nodes.CN, '/v1/inbox?party=US&type=hotline.message')).items.some((i: { index: number }) => i.index === flash.index) ? true : undefined));
    const ack = await h.http(nodes.CN, 'POST', `/v1/entries/US/${flash.index}/ack`, { reply: '收到，正在处理' });
    expect(ack.status, JSON.stringify(ack.body)).toBe(201);

    // US's outbox: the FLASH received and acknowledged with the reply; the PRIORITY overdue for its acknowledgement.
    type Item = { index: number; deadlines?: { recipient: string; state: string; receipt?: { at: string }; ack?: { at: string; reply?: string; officer: string } }[] };
    const box = await until('the acknowledgement and the overdue message in the outbox', 30_000, async () => {
      const b = await json<{ items: Item[] }>(['outbox', '--data', 'us']);
      const f = b.items.find((i) => i.index === flash.index)?.deadlines?.[0];
      const p = b.items.find((i) => i.index === priority.index)?.deadlines?.[0];
      return f?.ack?.reply !== undefined && p?.state === 'overdue-ack' ? b : undefined;
    });
    const f = box.items.find((i) => i.index === flash.index)!.deadlines![0]!;
    expect(f).toMatchObject({ recipient: 'CN', state: 'acknowledged', ack: { reply: '收到，正在处理', officer: 'admin' } });
    expect(f.receipt?.at).toBeDefined();
    const p = box.items.find((i) => i.index === priority.index)!.deadlines![0]!;
    expect(p.receipt?.at).toBeDefined();
    expect(p.ack).toBeUndefined();
    // Newest first, officer traffic only (no heartbeats or receipts).
    expect(box.items.map((i) => i.index)).toEqual([priority.index, flash.index]);

    // The rest only reads: run the commands side by side (each start costs seconds on a busy machine).
    const [table, overdue, pending, s, text] = await Promise.all([
      h.parleyAsync(['outbox', '--data', 'us']),
      json<{ items: Item[] }>(['outbox', '--data', 'us', '--overdue']),
      json<{ items: Item[] }>(['outbox', '--data', 'us', '--pending', '--to', 'CN']),
      status(['--json']),
      status(),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    const at = (ref: string) => lines.findIndex((l) => l.startsWith(`${ref} `));
    const fl = at(`US/${flash.index}`);
    const pl = at(`US/${priority.index}`);
    expect(lines[fl]).toMatch(/FLASH +hotline\.message .* CN +Call us on the hotline\./);
    expect(lines[fl + 1]).toMatch(/^ +CN +acknowledged(?: late \(\+[^)]+\))? +receipt \S+Z +ack \S+Z \(admin\) +reply: 收到，正在处理$/);
    expect(lines[pl + 1]).toMatch(/^ +CN +OVERDUE ack \(due \S+Z, .+ ago\) +receipt \S+Z$/);

    expect(overdue.items.map((i) => i.index)).toEqual([priority.index]);
    expect(pending.items.map((i) => i.index)).toEqual([priority.index]);

    // status: exit 1, and the reason names the overdue message.
    expect(s.code).toBe(1);
    expect(s.report!.ok).toBe(false);
    expect(s.report!.deadlines.sent.overdue).toBe(1);
    expect(s.report!.attention).toContainEqual(expect.objectContaining({ kind: 'overdue', party: 'CN' }));
    expect(s.report!.attention.find((a) => a.kind === 'overdue')!.detail).toContain(`US/${priority.index}`);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/NEEDS ATTENTION/);
    expect(text.stdout).toContain(`US/${priority.index} (ack)`);

    // The watch printed the acknowledgement with its reply, and the overdue deadline.
    await printed(human, 'the acknowledgement', new RegExp(`  ACK +CN acknowledged US/${flash.index}: 收到，正在处理`));
    await printed(human, 'the overdue line', new RegExp(`  OVERDUE +CN has not acknowledged US/${priority.index} \\(PRIORITY hotline\\.message\\)`));
    // Only the FLASH rang; the JSON watch (no --bell, not a terminal) rang nothing.
    expect(human.out.split('\x07').length - 1).toBe(1);
    expect(nd.out + nd.err).not.toContain('\x07');
    const events = jsonLines(nd);
    expect(events).toContainEqual(expect.objectContaining({ event: 'entry', data: expect.objectContaining({ party: 'CN', index: flashIn.index, precedence: 'FLASH', direction: 'in' }) }));
    expect(events).toContainEqual(expect.objectContaining({ event: 'deadline', data: { party: 'US', index: priority.index, recipient: 'CN', state: 'overdue-ack' } }));
  }, 180_000);

  it('status and watch: a stopped peer is a link down', async () => {
    await stop(nodes.EU);
    const s = await until('status to name the link to EU', 60_000, async () => {
      const r = await status(['--json']);
      return r.report?.attention.some((a) => a.kind === 'link' && a.party === 'EU') ? r : undefined;
    });
    expect(s.code).toBe(1);
    expect(s.report!.links.find((l) => l.party === 'EU')!.state).not.toBe('up');
    // Down for want of heartbeats or of a fresh cosigned checkpoint, whichever went stale first: under load EU's
    // last heartbeat can be heard before our witness cosigned a checkpoint holding it (then `checkpoint` comes first).
    await printed(human, 'the link to EU going down', /  LINK +EU is down \((heartbeat|checkpoint); last heard .+ ago\)/, 'out', 60_000);
    await printed(nd, 'the link event', /"event":"link","data":\{"party":"EU","state":"down"\}/, 'out', 30_000);
    const text = await status();
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/link to EU is (down|degraded)/);
  }, 150_000);

  it('watch: reconnects after the node restarts, saying so; exits 0 on Ctrl-C; status exits 2 when the node cannot be asked', async () => {
    const lastBefore = jsonLines(nd).filter((e) => e.id !== undefined).pop()!.id!;
    await stop(nodes.US);
    await printed(human, 'that the stream was lost', /disconnected from http:\/\/127\.0\.0\.1:\d+/, 'err');
    await start(nodes.US);
    await printed(human, 'that it reconnected', /reconnected to http:\/\/127\.0\.0\.1:\d+ \(resuming after event \d+\)/, 'err', 60_000);
    await printed(human, 'the reset line', /  RESET +events may have been missed/);
    await printed(nd, 'the reconnection', /"event":"connected".*"resumed":true/, 'out', 60_000);
    const events = jsonLines(nd);
    const again = events.find((e) => e.event === 'connected' && e.resumed === true)! as { lastEventId?: string };
    // Resumed after the last event it read (at or after the last one it printed: it reads checkpoints too).
    expect(BigInt(again.lastEventId!)).toBeGreaterThanOrEqual(BigInt(lastBefore));
    expect(events.some((e) => e.event === 'disconnected')).toBe(true);
    await printed(nd, 'the reset event', /"event":"reset"/);

    for (const w of [human, nd]) w.child.kill('SIGINT');
    expect(await human.exited).toBe(0);
    expect(await nd.exited).toBe(0);
    // Every line of the JSON watch is one JSON object.
    for (const line of nd.out.split('\n').filter((l) => l !== '')) expect(() => JSON.parse(line)).not.toThrow();

    const closed = await freePort();
    const gone = await h.parleyAsync(['status', '--url', `http://127.0.0.1:${closed}`, '--token', 'x']);
    expect(gone.code).toBe(3); // exit.ts: the node unavailable
    expect(gone.stderr).toMatch(/cannot reach the node/);
  }, 120_000);
});
