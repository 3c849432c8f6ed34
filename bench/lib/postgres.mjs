/**
 * A private PostgreSQL server for a harness that kills it (`npm run soak`,
 * fault kill-postgres): its own cluster (initdb, trust auth) in a fresh
 * directory, on a free loopback port, so a kill -9 never touches the shared
 * server on 127.0.0.1:5432 that tests use. Started from the Debian packages'
 * binaries (/usr/lib/postgresql/<version>/bin); as root, the server runs as
 * the `postgres` user (it refuses to run as root).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './cluster.mjs';

/** The newest installed server's bin directory, or undefined. */
export function postgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres')) && existsSync(join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

function userIds(name) {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  return r.status === 0 && g.status === 0 ? { uid: Number(r.stdout), gid: Number(g.stdout) } : undefined;
}

/**
 * Why a private server cannot be run here, or undefined when it can.
 */
export function postgresUnavailable() {
  if (!postgresBin()) return 'no PostgreSQL server binaries under /usr/lib/postgresql (Debian package postgresql)';
  if (process.getuid?.() === 0 && !userIds('postgres')) return 'running as root without a postgres user to run the server as';
  return undefined;
}

/** A private cluster: start(), kill9(), stop(), url(db). */
export async function privatePostgres() {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'parley-soak-pg-'));
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  const ids = root ? userIds('postgres') : undefined;
  const as = (cmd, args) => (root ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args]);
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const [cmd, args] = as('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  // Not spawnSync: the caller founds the parties meanwhile (initdb takes seconds on a loaded machine).
  const init = await new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    for (const s of [child.stdout, child.stderr]) s.setEncoding('utf8').on('data', (d) => (out = (out + d).slice(-4000)));
    child.once('error', fail);
    child.once('close', (code) => (clearTimeout(t), done({ status: code, out })));
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.out}`);
  const port = await freePort();
  let child;

  const pid = () => {
    try {
      return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return undefined;
    }
  };

  async function ready(ms = 60_000) {
    const { default: pg } = await import('pg');
    const end = Date.now() + ms;
    for (;;) {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 });
      try {
        await c.connect();
        await c.query('SELECT 1');
        await c.end();
        return;
      } catch (e) {
        await c.end().catch(() => {});
        if (Date.now() > end) throw new Error(`the private PostgreSQL server on port ${port} did not come up: ${e.message}\n${log.slice(-1500)}`);
        await sleep(200);
      }
    }
  }

  let log = '';
  async function start() {
    // After a kill -9 the old backends notice the postmaster's death and exit; until then a new postmaster refuses the data directory.
    for (let attempt = 0; ; attempt++) {
      const [c2, a2] = as('postgres', ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=100']);
      child = spawn(c2, a2, { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.setEncoding('utf8').on('data', (d) => (log = (log + d).slice(-8000)));
      const exited = new Promise((r) => child.once('exit', r));
      const up = ready(30_000).then(() => true, () => false);
      const first = await Promise.race([up, exited.then(() => 'exited')]);
      if (first === true) return;
      if (attempt >= 10) throw new Error(`the private PostgreSQL server would not start: ${log.slice(-1500)}`);
      await sleep(500);
    }
  }

  async function createDatabase(name) {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  }

  /** SIGKILL of the postmaster (its backends die with it); resolves once it is gone. */
  async function kill9() {
    const p = pid();
    if (!p) throw new Error('no postmaster.pid: the server is not running');
    process.kill(p, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(p, 0);
      } catch {
        return p;
      }
      await sleep(50);
    }
    return p;
  }

  async function stop() {
    const p = pid();
    if (p) {
      try {
        process.kill(p, 'SIGQUIT'); // immediate shutdown
      } catch {}
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(p, 0);
        } catch {
          break;
        }
        await sleep(50);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }

  return { port, dir, start, createDatabase, kill9, stop, pid, log: () => log };
}
