/**
 * FLASH round trip between two nodes on 127.0.0.1 (`BENCH_ONLY=flash node
 * bench/node.mjs`), beside the bare HTTP round trip measured in the same run.
 *
 * What a round trip is: US's API accepts a FLASH message (ParleyNode.sendMessage,
 * in process) → it is durable in US's log → US's federator pushes it to CN
 * (one witnessed push: add-checkpoint + bundle) → CN checks the request,
 * opens the bundle (signatures, proofs), cosigns, stores the message and its
 * receipt (durable) → CN's push back (its checkpoint and the receipt) rides
 * on the answer → US cosigns and ingests the receipt (ParleyNode.onIngest).
 * Ends when US durably holds CN's signed receipt for the message.
 *
 * Both nodes are full runtimes (server, federator, deadline watcher;
 * heartbeats off) on SQLite files with the writer thread, as `parley serve`
 * runs them; CN runs on a worker thread, so each party has its own event loop.
 *
 * How it is measured, so that the figure can be trusted on a loaded machine:
 *  - open loop: arrivals at a fixed rate (default 200/s), each scheduled at
 *    start + k/rate whatever happened to the earlier ones;
 *  - no coordinated omission: a latency runs from the INTENDED send time (a
 *    sender that falls behind shows up in the figure, it does not hide it);
 *  - enough samples for a p99: BENCH_FLASH_MESSAGES (default 3,000) measured
 *    FLASH messages, after a warm-up (2 s of each kind) that is discarded;
 *  - the limit is a bare HTTP round trip — a plain node:http server and its
 *    client, each on a thread of its own, the client calling with undici's
 *    `request` over a keep-alive Agent as the peers call each other, POSTs
 *    of the size of US's push of ONE message answered with the size of CN's
 *    answer to it (both read off the warm-up) — at the same rate, open loop
 *    too, in 1 s windows alternating with FLASH's in the same run (after its
 *    own 2 s warm-up);
 *  - the load average is printed before and after (2 cores shared with others
 *    is not an idle machine: compare ratios, not milliseconds).
 *
 * Where the time goes: the nodes publish step timestamps of every push on
 * the diagnostics channel `parley.delivery` (packages/node federation/trace.ts);
 * each measured message is matched with the push that carried it, and the
 * stages below are printed as p50/p99.
 */
import { Worker } from 'node:worker_threads';
import { subscribe } from 'node:diagnostics_channel';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { spread } from './limits.mjs';

const now = () => performance.timeOrigin + performance.now();

/**
 * @param o.accord the signed accord; o.us / o.cn parties ({ keys }); o.dir scratch directory
 * @param o.text the message text; o.rate messages per second (default 200); o.messages measured FLASH messages (default 3000)
 * @param o.pollMs the nodes' pull interval
 * @returns { flash, http, stages, loadBefore, loadAfter, sizes }
 */
export async function flashRoundTrip(o) {
  const rate = o.rate ?? 200;
  const messages = o.messages ?? 3000;
  const { startRuntime, ParleyNode } = await import('../../packages/node/dist/index.js');
  const { SqliteStore, withWriterThread } = await import('../../packages/store/dist/index.js');
  const net = await import('node:net');
  const freePort = () =>
    new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address();
        srv.close(() => resolve(port));
      });
    });
  const ports = { US: await freePort(), CN: await freePort() };
  const peerUrls = { US: `http://127.0.0.1:${ports.US}`, CN: `http://127.0.0.1:${ports.CN}` };
  const dist = (p) => new URL(`../../packages/${p}`, import.meta.url).href;
  const cnSrc = `
    const { parentPort, workerData: w } = require('node:worker_threads');
    const { subscribe } = require('node:diagnostics_channel');
    (async () => {
      await import(${JSON.stringify(dist('core/dist/node.js'))}); // node:crypto binding, as \`parley serve\` loads it
      const { ParleyNode, startRuntime } = await import(${JSON.stringify(dist('node/dist/index.js'))});
      const { SqliteStore, withWriterThread } = await import(${JSON.stringify(dist('store/dist/index.js'))});
      const steps = [];
      subscribe('parley.delivery', (s) => steps.push(s));
      const store = withWriterThread(SqliteStore.open(w.file), w.file);
      const node = await ParleyNode.open({ accord: w.accord, party: 'CN', keys: w.keys, store });
      const runtime = await startRuntime({ node, store, port: w.port, peerUrls: w.peerUrls, heartbeatMs: 0, federation: { pollMs: w.pollMs } });
      parentPort.postMessage({ ready: true });
      parentPort.on('message', async (m) => {
        if (m === 'steps') return parentPort.postMessage({ steps: steps.splice(0) });
        await runtime.stop();
        await node.close();
        await store.close();
        parentPort.postMessage({ stopped: true });
      });
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const cnWorker = new Worker(cnSrc, { eval: true, workerData: { file: join(o.dir, 'flash-CN.sqlite'), accord: o.accord, keys: o.cn.keys, port: ports.CN, peerUrls, pollMs: o.pollMs } });
  const ask = (m) =>
    new Promise((resolve, reject) => {
      cnWorker.once('message', resolve);
      cnWorker.once('error', reject);
      if (m !== undefined) cnWorker.postMessage(m);
    });
  await ask();
  const bare = await bareHttp();
  const usSteps = [];
  subscribe('parley.delivery', (s) => usSteps.push(s));
  const usFile = join(o.dir, 'flash-US.sqlite');
  const usStore = withWriterThread(SqliteStore.open(usFile), usFile);
  const usNode = await ParleyNode.open({ accord: o.accord, party: 'US', keys: o.us.keys, store: usStore });
  const usRuntime = await startRuntime({ node: usNode, store: usStore, port: ports.US, peerUrls, heartbeatMs: 0, federation: { pollMs: o.pollMs } });

  /** index of a sent message → its record; done when US holds CN's receipt. */
  const waiting = new Map();
  usNode.onIngest((entries) => {
    const t = now();
    for (const e of entries) {
      if (e.party !== 'CN' || e.meta.type !== 'receipt') continue;
      for (const ref of e.meta.refs) {
        const m = ref.party === 'US' ? waiting.get(ref.index) : undefined;
        if (m === undefined) continue;
        waiting.delete(ref.index);
        m.done = t;
        m.resolve();
      }
    }
  });
  /** One FLASH message intended at `at` (wall-clock ms). */
  const flashOnce = async (at) => {
    const m = { at, call: now() };
    const got = new Promise((r) => (m.resolve = r));
    // The index is known once the append resolves; the receipt cannot come before (it needs a push).
    const sent = await usNode.sendMessage('bench', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: o.text });
    m.durable = now();
    m.index = sent.index;
    waiting.set(sent.index, m);
    await got;
    return m;
  };
  /** Open loop over `times` (wall-clock ms, ascending): each call starts when due (a late timer starts all that are due). */
  const schedule = async (times, once) => {
    const out = [];
    let k = 0;
    while (k < times.length) {
      const t = now();
      while (k < times.length && times[k] <= t) out.push(once(times[k++]));
      if (k < times.length) await new Promise((r) => setTimeout(r, Math.max(0, times[k] - now())));
    }
    // A run that has not ended 60 s after the last arrival is cut there: what is unfinished counts
    // with its latency so far (a lower bound, and flagged), not left out.
    let timer;
    const cut = new Promise((r) => (timer = setTimeout(r, 60_000)));
    const settled = out.map((p, k) => p.then((r) => r, () => ({ at: times[k], done: now(), failed: true })));
    const all = await Promise.race([Promise.all(settled), cut.then(() => undefined)]);
    clearTimeout(timer);
    if (all !== undefined) return all;
    const stop = now();
    return Promise.all(times.map((at, k) => Promise.race([settled[k], Promise.resolve({ at, done: stop, unfinished: true })])));
  };
  const window = (start, n) => Array.from({ length: n }, (_, k) => start + (k * 1000) / rate);

  const loadBefore = loadavg();
  // Warm-up (discarded): connections, JIT, SQLite pages; and the sizes of a push of one message and its answer.
  await schedule(window(now() + 20, 2 * rate), flashOnce);
  const cnWarm = (await ask('steps')).steps;
  // A push of one message and its answer (pushes that fall behind carry more: that is FLASH's work, not HTTP's):
  // the push that carried fewest messages, its bytes divided by their number when none carried one.
  void cnWarm;
  const sends = usSteps.filter((s) => s.step === 'push.send' && s.log === 'US' && s.size > s.from);
  const fewest = sends.reduce((a, b) => (a === undefined || b.size - b.from < a.size - a.from ? b : a), undefined);
  const replyOf = fewest && usSteps.find((s) => s.step === 'push.answer' && s.size === fewest.size);
  const perMessage = fewest ? fewest.size - fewest.from : 1;
  const sizes = {
    push: fewest ? Math.round(fewest.bytes / perMessage) : 1024,
    // The answer is JSON: receipts, cosignature line and the reply in base64 (4/3 of its bytes) — about 300 B besides the reply.
    answer: replyOf && replyOf.bytes > 0 ? Math.round((replyOf.bytes * (4 / 3)) / perMessage + 300) : 1024,
    fromPushOf: perMessage,
  };
  usSteps.splice(0);
  // Measured: after 2 s of bare HTTP warm-up, alternating 1 s windows of `rate` arrivals, FLASH first.
  const windows = Math.ceil(messages / rate);
  const t0 = now() + 100;
  const flashTimes = [], httpTimes = [];
  for (let w = 0; w < windows; w++) {
    flashTimes.push(...window(t0 + 2000 + w * 2000, rate));
    httpTimes.push(...window(t0 + 3000 + w * 2000, rate));
  }
  const [flashRuns, httpAll] = await Promise.all([schedule(flashTimes, flashOnce), bare.run({ times: [...window(t0, 2 * rate), ...httpTimes], push: sizes.push, answer: sizes.answer })]);
  const http = httpAll.slice(2 * rate);
  const loadAfter = loadavg();
  const cnSteps = (await ask('steps')).steps;

  const flash = flashRuns.map((r) => r.done - r.at);
  const unfinished = flashRuns.filter((r) => r.unfinished || r.failed).length;
  // Did FLASH keep up with the rate? A backlog that grows shows as a p50 that grows window after window.
  const windowP50 = (w) => spread(flash.slice(w * rate, (w + 1) * rate)).p50;
  const drift = { first: windowP50(0), last: windowP50(windows - 1) };
  const stages = stagesOf(flashRuns, usSteps, cnSteps);

  await usRuntime.stop();
  await ask('stop');
  await cnWorker.terminate();
  await usNode.close();
  await usStore.close();
  await bare.close();
  return { flash: spread(flash), http: spread(http), unfinished, drift, stages, loadBefore, loadAfter, sizes, rate };
}

/**
 * Splits each message's round trip at the steps of the push that carried it
 * (the first US push whose checkpoint covers its index; each push on a link
 * proves against its own checkpoint size — two may be in flight, each of its
 * own size — so the receiver's steps of that push are the ones with the
 * same checkpoint size, and its unsized first steps the ones just before:
 * with two pushes in flight, those two stages may be paired with the other push's).
 */
function stagesOf(runs, usSteps, cnSteps) {
  const sends = usSteps.filter((s) => s.step === 'push.send' && s.log === 'US').sort((a, b) => a.t - b.t);
  const answers = new Map(usSteps.filter((s) => s.step === 'push.answer' && s.log === 'US').map((s) => [s.size, s.t]));
  const bySize = (step) => new Map(cnSteps.filter((s) => s.step === step && s.log === 'US').map((s) => [s.size, s.t]));
  const verified = bySize('push.verified');
  const durable = bySize('push.durable');
  const built = bySize('reply.built');
  // Unsized steps (received, authenticated): the last of each before the push was verified.
  const unsized = (step) => cnSteps.filter((s) => s.step === step).map((s) => s.t).sort((a, b) => a - b);
  const received = unsized('push.received');
  const authed = unsized('push.authenticated');
  const lastBefore = (ts, t) => {
    let lo = 0, hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? ts[lo - 1] : undefined;
  };
  const names = ['scheduled → call', 'call → durable in US log', 'durable → push sent', 'push sent → CN has the body', 'CN: request signature checked', 'CN: bundle opened (signatures, proofs)', 'CN: cosigned, stored, receipt durable (+nonce)', 'CN: reply built', 'CN answered → US has the answer', 'US: receipt ingested (durable)'];
  const cols = names.map(() => []);
  let matched = 0;
  for (const r of runs) {
    if (r.unfinished || r.failed || r.index === undefined) continue;
    const push = sends.find((s) => s.size > r.index && s.t >= r.durable - 1);
    if (push === undefined) continue;
    const v = verified.get(push.size), d = durable.get(push.size), b = built.get(push.size) ?? d, a = answers.get(push.size);
    if (v === undefined || d === undefined || a === undefined) continue;
    const rec = lastBefore(received, v), au = lastBefore(authed, v);
    if (rec === undefined || au === undefined || rec < push.t) continue;
    const marks = [r.at, r.call, r.durable, push.t, rec, au, v, d, b, a, r.done];
    for (let i = 0; i < names.length; i++) cols[i].push(marks[i + 1] - marks[i]);
    matched++;
  }
  return { matched, total: runs.length, stages: names.map((n, i) => ({ name: n, ...spread(cols[i]) })) };
}

/**
 * The limit: a plain node:http server and its client, each on a thread of
 * its own (the nodes' threads are busy with FLASH work; the machine's bare
 * round trip is not). The server answers as many bytes as the request asks
 * (x-answer-bytes); the client calls it with undici's `request` over a
 * keep-alive Agent, as the peers call each other, open loop at the times it
 * is given, and answers each latency from its intended time.
 */
async function bareHttp() {
  const undici = pathToFileURL(createRequire(import.meta.url).resolve('undici')).href;
  const server = new Worker(
    `const { parentPort } = require('node:worker_threads');
    const answers = new Map();
    const s = require('node:http').createServer((req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => {
        const n = Number(req.headers['x-answer-bytes'] ?? 0);
        let body = answers.get(n);
        if (body === undefined) answers.set(n, (body = Buffer.alloc(n, 0x61)));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
        res.end(body);
      });
    });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));
    parentPort.on('message', () => s.close(() => parentPort.close()));`,
    { eval: true },
  );
  const port = await new Promise((resolve, reject) => (server.once('message', resolve), server.once('error', reject)));
  const client = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
    const now = () => performance.timeOrigin + performance.now();
    (async () => {
      const { Agent, request } = await import(workerData.undici);
      const agent = new Agent({ keepAliveTimeout: 60000, connections: 64 });
      parentPort.on('message', async ({ times, push, answer }) => {
        const body = Buffer.alloc(push, 0x62);
        const headers = { 'content-type': 'application/octet-stream', 'x-answer-bytes': String(answer) };
        const once = async (at) => {
          const res = await request(workerData.url, { method: 'POST', dispatcher: agent, headers, body });
          await res.body.arrayBuffer();
          return now() - at;
        };
        const out = [];
        let k = 0;
        while (k < times.length) {
          const t = now();
          while (k < times.length && times[k] <= t) out.push(once(times[k++]));
          if (k < times.length) await new Promise((r) => setTimeout(r, Math.max(0, times[k] - now())));
        }
        parentPort.postMessage(await Promise.all(out));
      });
      parentPort.postMessage('ready');
    })();`,
    { eval: true, workerData: { undici, url: `http://127.0.0.1:${port}/echo` } },
  );
  await new Promise((resolve, reject) => (client.once('message', resolve), client.once('error', reject)));
  return {
    run: (o) => new Promise((resolve, reject) => (client.once('message', resolve), client.once('error', reject), client.postMessage(o))),
    close: async () => {
      await client.terminate();
      server.postMessage('close');
      await new Promise((r) => server.once('exit', r));
    },
  };
}
