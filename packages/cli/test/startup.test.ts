/**
 * Start-up (issue 10): a command loads only what it needs. The CLI runs as a
 * real process under a loader hook that records every module it loads
 * (helpers/record-modules.mjs); `parley --help`, `parley inbox` and `parley
 * log verify-inclusion` must not load the node (fastify, zod), the store
 * (better-sqlite3), the prompts or the progress bars, and the commands that
 * talk to a node do so without fetch (undici). Timing is for `npm run
 * bench` (bench/startup.mjs); this checks the mechanism, which timing on a
 * shared machine could not.
 *
 * The stand-in table (manifest.ts) is checked against the modules: `parley
 * --help` from the table alone is the same text as with every command loaded,
 * and every command's own help is complete.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Help } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTree, formatHex, leafHash, proveInclusion } from '@parley/core/node';
import { buildProgram } from '../dist/main.js';
import { availableCommands } from '../dist/manifest.js';
import { BIN } from './helpers/serve.js';

const CLI = resolve(fileURLToPath(new URL('..', import.meta.url)));
const RECORDER = join(CLI, 'test/helpers/record-modules.mjs');

/** What a fast command must not load, by the path it loads from (workspace packages resolve to packages/…, installed ones to node_modules/@parley/…). */
const HEAVY: Record<string, RegExp> = {
  fastify: /\/node_modules\/fastify\//,
  zod: /\/node_modules\/zod\//,
  'better-sqlite3': /\/node_modules\/better-sqlite3\//,
  '@parley/node': /\/(packages|@parley)\/node\/dist\//,
  '@parley/store': /\/(packages|@parley)\/store\/dist\//,
  '@clack/prompts': /\/node_modules\/@clack\//,
  'cli-progress': /\/node_modules\/cli-progress\//,
};

let tmp = '';
let runs = 0;

interface Loaded {
  code: number | null;
  stdout: string;
  stderr: string;
  modules: string[];
}

/** Runs `node --import record-modules.mjs …args` and returns what it printed and every module it loaded. */
function recorded(args: readonly string[], o: { script?: string } = {}): Loaded {
  const file = join(tmp, `modules-${runs++}.txt`);
  writeFileSync(file, '');
  const r = spawnSync(process.execPath, ['--import', RECORDER, ...(o.script !== undefined ? ['--input-type=module', '-e', o.script] : [BIN]), ...args], {
    cwd: CLI,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PARLEY_MODULES_FILE: file, PARLEY_URL: '', PARLEY_TOKEN: '', PARLEY_DATA: '' },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules: readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') };
}

/** Runs the binary without blocking. */
function parleyAsync(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: CLI, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const heavyIn = (modules: readonly string[]) => Object.keys(HEAVY).filter((name) => modules.some((m) => HEAVY[name]!.test(m)));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', () => done()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((done) => s.close(() => done()));
  return port;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-startup-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('a command loads only what it needs', { timeout: 120_000 }, () => {
  it('the recorder sees the heavy packages when they are loaded (so their absence below means something)', () => {
    const node = recorded([], { script: "await import('@parley/node')" });
    expect(node.code, node.stderr).toBe(0);
    expect(heavyIn(node.modules)).toEqual(expect.arrayContaining(['fastify', 'zod', 'better-sqlite3', '@parley/node', '@parley/store']));
    // `parley backup` needs the store as soon as it is loaded.
    const backup = recorded(['backup', '--help']);
    expect(backup.code).toBe(0);
    expect(heavyIn(backup.modules)).toEqual(expect.arrayContaining(['better-sqlite3', '@parley/store']));
  });

  it('parley --help lists every command without loading any heavy package', () => {
    const r = recorded(['--help']);
    expect(r.code, r.stderr).toBe(0);
    for (const e of availableCommands()) expect(r.stdout).toContain(` ${e.name}`);
    expect(heavyIn(r.modules)).toEqual([]);
    // Not even core: the program's help needs the command table alone.
    expect(r.modules.filter((m) => /\/(packages|@parley)\/core\//.test(m) && !m.endsWith('/errors.js'))).toEqual([]);
  });

  it('parley inbox --help and parley inbox (run to the network) load neither the node nor the store', async () => {
    const help = recorded(['inbox', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('--limit');
    expect(heavyIn(help.modules)).toEqual([]);

    // The whole action: options parsed, request sent, the unreachable node reported (exit 3).
    const run = recorded(['inbox', '--url', `http://127.0.0.1:${await closedPort()}`, '--token', 't', '--json']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr + run.stdout).toContain('cannot reach the node');
    expect(heavyIn(run.modules)).toEqual([]);
    // node:http, not fetch: undici alone takes longer to load and to let the process exit than the whole request.
    expect(run.modules).toContain('node:http');
    expect(run.modules).not.toContain('node:internal/deps/undici/undici');

    const bad = recorded(['inbox', '--data', join(tmp, 'no-such-dir')]);
    expect(bad.code, bad.stderr).toBe(2);
    expect(heavyIn(bad.modules)).toEqual([]);
  });

  it('parley log verify-inclusion checks a real proof without loading the node or the store', () => {
    const tree = new MemoryTree();
    for (let i = 0; i < 300; i++) tree.appendData(new TextEncoder().encode(`entry ${i}`));
    const proof = join(tmp, 'proof');
    writeFileSync(proof, proveInclusion(300, 77, tree).map((h) => `${formatHex(h)}\n`).join(''));
    const leaf = formatHex(leafHash(new TextEncoder().encode('entry 77')));
    const args = ['log', 'verify-inclusion', '--leaf-hash', leaf, '--index', '77', '--size', '300', '--root', formatHex(tree.root()), '--proof', proof, '--json'];
    const r = recorded(args);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, index: 77, treeSize: 300 });
    expect(heavyIn(r.modules)).toEqual([]);
    expect(r.modules.some((m) => /\/(packages|@parley)\/core\/dist\/merkle\/proof\.js$/.test(m))).toBe(true);

    const help = recorded(['log', 'verify-inclusion', '--help']);
    expect(help.code).toBe(0);
    expect(heavyIn(help.modules)).toEqual([]);
  });

  it('the node command itself waits to load the node until it runs: serve --help and a refused start stay light', () => {
    const help = recorded(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--trust-local-log');
    expect(heavyIn(help.modules).filter((n) => n !== 'better-sqlite3' && n !== '@parley/store')).toEqual([]);
    const refused = recorded(['serve', '--data', join(tmp, 'no-such-dir')]);
    expect(refused.code).toBe(2);
    expect(heavyIn(refused.modules)).not.toContain('@parley/node');
  });
});

describe('the command table (manifest.ts) matches the commands', () => {
  it('every entry names, describes and shows its command as the loaded module does, and every command has an entry', async () => {
    const full = await buildProgram('all');
    const help = new Help();
    const entries = availableCommands();
    expect(full.commands.map((c) => c.name()).sort()).toEqual(entries.map((e) => e.name).sort());
    for (const e of entries) {
      const alone = new Command('parley');
      (await e.load())(alone);
      const c = alone.commands.find((x) => x.name() === e.name);
      expect(c, `${e.name}: its module does not register it`).toBeDefined();
      expect({ name: e.name, term: help.subcommandTerm(c!), summary: c!.description() }).toEqual({ name: e.name, term: e.term, summary: e.summary });
    }
  });

  it('parley --help from the table is the same text as with every command loaded', async () => {
    const lazy = await buildProgram([]);
    const full = await buildProgram('all');
    expect(lazy.helpInformation()).toBe(full.helpInformation());
  });

  it('every command and subcommand answers --help in full (exit 0, its own usage and options)', async () => {
    const full = await buildProgram('all');
    const paths: string[][] = [];
    const walk = (c: Command, path: string[]) => {
      for (const sub of c.commands) {
        paths.push([...path, sub.name()]);
        walk(sub, [...path, sub.name()]);
      }
    };
    walk(full, []);
    // A few at a time: each is a process of its own.
    let next = 0;
    const check = async () => {
      while (next < paths.length) {
        const path = paths[next++]!;
        let c: Command = full;
        for (const n of path) c = c.commands.find((x) => x.name() === n)!;
        const r = await parleyAsync([...path, '--help']);
        expect(r.code, `parley ${path.join(' ')} --help: ${r.stderr}`).toBe(0);
        expect(r.stdout).toContain(`Usage: parley ${path.join(' ')} `);
        const flat = (t: string) => t.replace(/\s+/g, ' ');
        expect(flat(r.stdout)).toContain(flat(c.description()));
        for (const o of c.options) expect(r.stdout, `parley ${path.join(' ')} --help lists ${o.flags}`).toContain(o.flags);
      }
    };
    await Promise.all([check(), check(), check(), check()]);
  }, 240_000);
});
