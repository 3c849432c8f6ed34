/**
 * The CLI's writing commands resend with the SAME Idempotency-Key (issue 14):
 * a real `parley send` process talks over real HTTP on 127.0.0.1 to a
 * server standing for a party whose sequencer is failing over — it answers
 * the first try 503 SEQUENCER_UNAVAILABLE (Retry-After: 0), drops the
 * connection on the second without an answer (a sequencer killed after its
 * commit), and answers the third. The command succeeds, and the three tries
 * carry one key (an RFC 8941 string holding a UUID) and one body; a second
 * command run sends another key (one per user action). A server that
 * refuses connections is reported at once, not retried.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv } from './helpers/channel.js';

const BIN = fileURLToPath(new URL('../bin/parley.js', import.meta.url));

function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

const body = (req: IncomingMessage) => new Promise<string>((r) => {
  let b = '';
  req.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => r(b));
});

const SUBMITTED = {
  party: 'US',
  index: 7,
  leafHash: 'A'.repeat(43) + '=',
  treeSize: 8,
  entry: { v: 1, type: 'hotline.message', from: 'US', to: ['CN'], seq: 7, time: '2026-12-04T14:00:00Z', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { text: 'hello' } }, officer: 'alice', sig: 'x' },
};

describe('parley send resends with its Idempotency-Key', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it('through a 503 and a dropped connection, with one key and one body; a new command, a new key', async () => {
    const tries: { key: string | undefined; body: string }[] = [];
    server = createServer(async (req, res) => {
      const b = await body(req);
      tries.push({ key: req.headers['idempotency-key'] as string | undefined, body: b });
      const n = tries.length % 3;
      if (n === 1) {
        res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '0' }).end(JSON.stringify({ type: 'urn:parley:error:sequencer-unavailable', title: 'x', status: 503, detail: 'taking over', code: 'SEQUENCER_UNAVAILABLE' }));
      } else if (n === 2) {
        req.socket.destroy(); // no answer: the sequencer died after its commit
      } else {
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(SUBMITTED));
      }
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const r = await run(['send', '--url', url, '--token', 't'.repeat(43), '--precedence', 'ROUTINE', '--marking', 'TLP:CLEAR', '--json', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ index: 7 });
    expect(tries).toHaveLength(3);
    const key = tries[0]!.key!;
    expect(key).toMatch(/^"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"$/);
    for (const t of tries) {
      expect(t.key).toBe(key);
      expect(t.body).toBe(tries[0]!.body);
    }
    // Another user action: another key.
    const again = await run(['send', '--url', url, '--token', 't'.repeat(43), '--precedence', 'ROUTINE', '--marking', 'TLP:CLEAR', '--json', 'hello']);
    expect(again.code, again.stderr).toBe(0);
    expect(tries).toHaveLength(6);
    expect(tries[3]!.key).not.toBe(key);
    expect(new Set(tries.slice(3).map((t) => t.key)).size).toBe(1);
  }, 60_000);

  it('does not resend to a node that refuses connections, nor an answer that is not "not now"', async () => {
    const tries: number[] = [];
    server = createServer(async (req, res) => {
      await body(req);
      tries.push(1);
      res.writeHead(409, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'urn:parley:error:store-conflict', title: 'x', status: 409, detail: 'conflict', code: 'STORE_CONFLICT' }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const r = await run(['send', '--url', url, '--token', 't'.repeat(43), '--precedence', 'ROUTINE', '--marking', 'TLP:CLEAR', 'hello']);
    expect(r.code).not.toBe(0);
    expect(tries).toHaveLength(1);
    await new Promise<void>((res) => server!.close(() => res()));
    server = undefined;
    const refused = await run(['send', '--url', url, '--token', 't'.repeat(43), '--precedence', 'ROUTINE', '--marking', 'TLP:CLEAR', 'hello']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('cannot reach the node');
    expect(refused.ms).toBeLessThan(15_000);
  }, 60_000);
});
