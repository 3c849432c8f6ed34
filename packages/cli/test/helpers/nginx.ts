/**
 * nginx (Debian package, /usr/sbin/nginx) serving a static mirror directory
 * on 127.0.0.1 for the tests and the bench, with its own configuration in a
 * temporary directory: foreground, one process as the current user (no
 * master, so it reads a 0700 test directory), pid, logs and temp paths in
 * that directory. The configuration is the one docs/operations.md ("Static
 * mirror") recommends, with the root and port filled in.
 *
 * Missing nginx is an error, never a skip: `apt-get install -y nginx`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = process.env['PARLEY_NGINX'] ?? '/usr/sbin/nginx';

/** The server block docs/operations.md shows, for a mirror at `root` on 127.0.0.1:`port`. */
export function mirrorServerBlock(root: string, port: number): string {
  return `
    server {
        listen 127.0.0.1:${port};
        root ${root};
        # .staging holds files being written: never serve dotfiles.
        location ~ /\\. { return 404; }
        # The checkpoint moves: revalidate every time (ETag / Last-Modified make that cheap).
        location = /checkpoint {
            default_type "text/plain; charset=utf-8";
            add_header Cache-Control "no-cache" always;
            add_header Access-Control-Allow-Origin "*" always;
        }
        # issue 12: the RFC 3161 tokens of the latest stamped checkpoint (JSON, as /log/timestamps); they move too.
        location = /timestamps {
            default_type application/json;
            add_header Cache-Control "no-cache" always;
            add_header Access-Control-Allow-Origin "*" always;
        }
        # Tiles and entry bundles never change once written (a partial one is final for its width).
        location /tile/ {
            default_type application/octet-stream;
            add_header Cache-Control "public, max-age=31536000, immutable" always;
            add_header Access-Control-Allow-Origin "*" always;
        }
        location / { return 404; }
    }`;
}

export interface Nginx {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
  errors(): string;
}

/** Starts nginx serving `root` on `port`; resolves once it answers. */
export async function startNginx(root: string, port: number): Promise<Nginx> {
  if (!existsSync(NGINX)) throw new Error(`nginx is not installed at ${NGINX}: apt-get install -y nginx (the static mirror tests need it)`);
  const dir = mkdtempSync(join(tmpdir(), 'parley-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types { }
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
${mirrorServerBlock(root, port)}
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const errors = () => `${stderr}${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${errors()}`);
    try {
      await fetch(`${url}/`).then((r) => r.arrayBuffer());
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not answer on ${url}: ${errors()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    child,
    errors,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
