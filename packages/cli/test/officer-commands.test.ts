/**
 * `parley officer disable | enable | passwd` and `parley passwd` against a
 * real `parley serve` process (issue 9): an admin disables an officer and
 * the officer's saved session stops working at once; enabling lets them log
 * in again; an officer changes their own password (the old one stops
 * working); `--offline` writes the store only while the node is stopped.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, foundChannel, parleyIn } from './helpers/channel.js';
import { type Served, serve } from './helpers/serve.js';

let tmp = '';
let node: Served;
const run = (args: readonly string[]) => parleyIn(tmp, args);
function json<T = Record<string, unknown>>(args: readonly string[]): T {
  const r = run([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  tmp = foundChannel('parley-officers-');
  writeFileSync(join(tmp, 'bob.pw'), 'bob-password-4567\n');
  writeFileSync(join(tmp, 'bob2.pw'), 'bob-new-password-890\n');
  json(['officer', 'add', 'bob', '--role', 'officer', '--password-file', 'bob.pw', '--data', 'us']);
  node = await serve('us', { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat', '--no-web'] });
  json(['login', '--name', 'alice', '--password-file', 'pw', '--url', node.url, '--data', 'us']);
  json(['login', '--name', 'bob', '--password-file', 'bob.pw', '--url', node.url, '--data', 'bob']);
}, 120_000);

afterAll(() => {
  if (node?.child.exitCode === null) node.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('parley officer disable / enable', () => {
  it('an admin disables an officer through the node: their session stops working; enable lets them back in', () => {
    expect(json(['inbox', '--data', 'bob'])).toHaveProperty('items');
    expect(json(['officer', 'disable', 'bob', '--data', 'us'])).toMatchObject({ name: 'bob', disabled: true, sessionsRevoked: 1 });
    const refused = run(['inbox', '--data', 'bob']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('UNAUTHENTICATED');
    expect(run(['login', '--name', 'bob', '--password-file', 'bob.pw', '--url', node.url, '--data', 'bob']).code).toBe(2);
    expect(json(['officer', 'enable', 'bob', '--data', 'us'])).toMatchObject({ name: 'bob', disabled: false });
    json(['login', '--name', 'bob', '--password-file', 'bob.pw', '--url', node.url, '--data', 'bob']);
    // An officer is not an admin.
    const notAdmin = run(['officer', 'disable', 'alice', '--data', 'bob']);
    expect(notAdmin.code).toBe(2);
    expect(notAdmin.stderr).toContain('FORBIDDEN');
  }, 60_000);

  it('--offline is refused while the node runs (the data directory is locked)', () => {
    const r = run(['officer', 'disable', 'bob', '--offline', '--data', 'us']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DATA_DIR_LOCKED');
  });
});

describe('parley passwd', () => {
  it('changes your own password: the old one stops working, the new one logs in', () => {
    expect(json(['passwd', '--password-file', 'bob.pw', '--new-password-file', 'bob2.pw', '--data', 'bob'])).toMatchObject({ name: 'bob' });
    expect(run(['login', '--name', 'bob', '--password-file', 'bob.pw', '--url', node.url, '--data', 'bob']).code).toBe(2);
    json(['login', '--name', 'bob', '--password-file', 'bob2.pw', '--url', node.url, '--data', 'bob']);
    const wrong = run(['passwd', '--password-file', 'bob.pw', '--new-password-file', 'bob2.pw', '--data', 'bob']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('PASSWORD_WRONG');
  }, 60_000);

  it('an admin sets a forgotten password; with the node stopped, --offline disables straight in the store', async () => {
    const set = json<{ name: string; sessionsRevoked: number }>(['officer', 'passwd', 'bob', '--password-file', 'bob.pw', '--data', 'us']);
    expect(set.name).toBe('bob');
    expect(set.sessionsRevoked).toBeGreaterThanOrEqual(1);
    expect(run(['inbox', '--data', 'bob']).code).toBe(2); // bob's saved session ended
    json(['login', '--name', 'bob', '--password-file', 'bob.pw', '--url', node.url, '--data', 'bob']);
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    expect(json(['officer', 'disable', 'bob', '--offline', '--data', 'us'])).toMatchObject({ name: 'bob', disabled: true, sessionsRevoked: 1 });
    const list = json<{ officers: { name: string; disabled: boolean }[] }>(['officer', 'list', '--data', 'us']);
    expect(list.officers.find((o) => o.name === 'bob')?.disabled).toBe(true);
  }, 60_000);
});
