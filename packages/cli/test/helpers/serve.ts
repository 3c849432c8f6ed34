/** Runs `parley serve` as a real process for the CLI tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = join(resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..'), 'packages/cli/bin/parley.js');

export interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  /** What it printed on standard output (its --json line, or its error). */
  stdout: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts `parley serve --data DATA --port 0 --json` (plus `extra` flags) in
 * `cwd` and waits for the URL it prints; rejects if it exits first.
 */
export function serve(data: string, o: { cwd: string; env: NodeJS.ProcessEnv; extra?: readonly string[] }): Promise<Served> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--data', data, '--port', '0', '--json', ...(o.extra ?? [])], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) done({ child, url: (JSON.parse(line) as { url: string }).url, stderr: () => err, stdout: () => out, exited });
    });
    child.on('error', fail);
    void exited.then((code) => fail(new Error(`serve ${data} exited ${code}: ${err}`)));
  });
}
