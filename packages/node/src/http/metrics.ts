/**
 * Prometheus metrics (prom-client), one registry per server so two nodes in
 * one process (tests, the demo) do not mix their numbers.
 *
 *     parley_entries_appended_total{type}     entries this server appended
 *     parley_entries_ingested_total           new entries accepted from other parties
 *     parley_http_requests_total{method,route,status}
 *     parley_append_seconds                   submit → durable (group commit included)
 *     parley_tree_size                        own log size
 *     parley_checkpoint_age_seconds           now − time of the newest entry the latest checkpoint covers
 *     parley_forks_detected{party}            fork proofs held against a party's log; party="accord": accord forks (http/forks.ts)
 *     parley_log_forked{party}                1 while a party's log is quarantined (http/forks.ts)
 *     parley_index_skipped_entries{index}     entries an index skipped as bad (skipped.ts)
 *     parley_tsa_tokens_total{authority}      tokens of our checkpoints obtained, verified and stored (issue 12)
 *     parley_tsa_failures_total{authority,code}  stamping attempts that failed (TSA down, refused, bad token)
 *     parley_tsa_refused_total{party,code}    other parties' tokens a peer served that did not verify
 *     parley_mirror_tree_size{dir}            size of the checkpoint the static mirror holds (issue 14, mirror.ts)
 *     parley_mirror_lag_entries{dir}          own log size − that size
 *     parley_mirror_failures_total{dir}       publishing rounds that failed (disk full, …) and are retried
 *
 * The checkpoint age uses the newest entry's time because a checkpoint is
 * signed with every batch (store/writer.ts): the two differ by one commit.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { skippedEntries } from '../skipped.js';
import { tsaStats } from '../tsa/stats.js';
import { mirrorsOf } from '../mirror.js';

export class Metrics {
  readonly registry = new Registry();
  readonly appended: Counter<'type'>;
  readonly ingested: Counter;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly appendSeconds: Histogram;

  constructor(node: ParleyNode, store: LogStore) {
    const registers = [this.registry];
    this.appended = new Counter({ name: 'parley_entries_appended_total', help: 'Entries appended to the own log by this server, by type', labelNames: ['type'], registers });
    this.ingested = new Counter({ name: 'parley_entries_ingested_total', help: 'New entries accepted from other parties', registers });
    this.requests = new Counter({ name: 'parley_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers });
    this.appendSeconds = new Histogram({
      name: 'parley_append_seconds',
      help: 'Append latency, submit to durable',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    new Gauge({
      name: 'parley_tree_size',
      help: 'Size of the own log',
      registers,
      collect() {
        this.set(node.treeSize);
      },
    });
    new Gauge({
      name: 'parley_index_skipped_entries',
      help: 'Held entries an index (incidents, deadlines) skipped because they fail their check or do not open',
      labelNames: ['index'],
      registers,
      collect() {
        for (const index of ['incidents', 'deadlines'] as const) this.set({ index }, skippedEntries(node).count(index));
      },
    });
    // issue 12: the node's time-stamping counters (tsa/stats.ts), kept per node, read at scrape time.
    const stats = tsaStats(node);
    new Counter({
      name: 'parley_tsa_tokens_total',
      help: 'RFC 3161 tokens of own checkpoints obtained, verified and stored, by authority',
      labelNames: ['authority'],
      registers,
      collect() {
        this.reset();
        for (const [authority, n] of stats.stamped) this.inc({ authority }, n);
      },
    });
    new Counter({
      name: 'parley_tsa_failures_total',
      help: 'Time-stamping attempts that failed (authority unreachable, refused, or a token that does not verify), by authority and error code',
      labelNames: ['authority', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of stats.failures) {
          const [authority, code] = key.split(' ') as [string, string];
          this.inc({ authority, code }, n);
        }
      },
    });
    new Counter({
      name: 'parley_tsa_refused_total',
      help: 'Time-stamp tokens of other parties\u2019 checkpoints served by a peer that did not verify (not stored), by party and error code',
      labelNames: ['party', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of stats.refused) {
          const [party, code] = key.split(' ') as [string, string];
          this.inc({ party, code }, n);
        }
      },
    });
    // issue 14: the static mirrors of the log (none unless `serve --mirror-dir`).
    new Gauge({
      name: 'parley_mirror_tree_size',
      help: 'Tree size of the checkpoint the static mirror directory holds',
      labelNames: ['dir'],
      registers,
      collect() {
        this.reset();
        for (const m of mirrorsOf(node)) this.set({ dir: m.dir }, m.publishedSize);
      },
    });
    new Gauge({
      name: 'parley_mirror_lag_entries',
      help: 'Entries of the own log not yet in the static mirror',
      labelNames: ['dir'],
      registers,
      collect() {
        this.reset();
        for (const m of mirrorsOf(node)) this.set({ dir: m.dir }, Math.max(0, node.treeSize - m.publishedSize));
      },
    });
    new Counter({
      name: 'parley_mirror_failures_total',
      help: 'Static mirror publishing rounds that failed (and are retried)',
      labelNames: ['dir'],
      registers,
      collect() {
        this.reset();
        for (const m of mirrorsOf(node)) this.inc({ dir: m.dir }, m.failures);
      },
    });
    new Gauge({
      name: 'parley_checkpoint_age_seconds',
      help: 'Seconds since the newest entry covered by the latest checkpoint (0 for an empty log)',
      registers,
      async collect() {
        const size = node.treeSize;
        const newest = size > 0 ? await store.entry(size - 1) : undefined;
        this.set(newest ? Math.max(0, (Date.now() - Date.parse(newest.meta.time)) / 1000) : 0);
      },
    });
  }

  /** Runs one append, timing it and counting it by entry type. */
  async append<T extends { entry: { type: string } }>(run: () => Promise<T>): Promise<T> {
    const stop = this.appendSeconds.startTimer();
    const r = await run();
    stop();
    this.appended.inc({ type: r.entry.type });
    return r;
  }
}
