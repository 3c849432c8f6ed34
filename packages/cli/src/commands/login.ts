/** `parley login`: open a session on a node and keep its token in DIR/session.json (mode 0600). */
import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT_OK, act } from '../exit.js';
import { makeOut } from '../io.js';
import { type ClientOpts, type SavedSession, client, clientOptions, nodeUrl, request } from '../client.js';
import { dataDir, makeDataDir, paths, writeFileAtomic } from '../datadir.js';
import { getSecret } from '../secrets.js';
import { checkOfficerName } from '../officer-name.js';

interface LoginResponse {
  token: string;
  officer: { name: string; role: string };
  expires: string;
}

export function registerLogin(program: Command): void {
  clientOptions(
    program
      .command('login')
      .description('log in to a node as an officer; the token is saved in DIR/session.json for the other commands')
      .requiredOption('--name <name>', 'officer name')
      .option('--password-file <file>', 'file holding the password on its first line (else prompted)'),
  )
    .addHelpText('after', '\nExample:\n  $ parley login --name alice --url http://127.0.0.1:8443 --data us')
    .action(
      act(async (o: ClientOpts & { name: string; passwordFile?: string }) => {
        checkOfficerName(o.name, '--name');
        const url = nodeUrl(o);
        const password = await getSecret({ file: o.passwordFile, what: `password for ${o.name}`, flag: '--password-file' });
        const r = (await request('POST', url, '/v1/sessions', { body: { name: o.name, password } })) as LoginResponse;
        const dir = dataDir(o.data);
        makeDataDir(dir);
        const saved: SavedSession = { url, officer: r.officer.name, role: r.officer.role, token: r.token, expires: r.expires };
        writeFileAtomic(paths(dir).session, `${JSON.stringify(saved, null, 2)}\n`);
        makeOut(o.json === true).result({ url, officer: r.officer, expires: r.expires, session: paths(dir).session }, [
          `Logged in to ${url} as ${r.officer.name} (${r.officer.role}) until ${r.expires}`,
          `Session saved in ${paths(dir).session}`,
        ]);
        return EXIT_OK;
      }),
    );
}

export function registerLogout(program: Command): void {
  clientOptions(program.command('logout').description('end the session on the node and delete DIR/session.json')).action(
    act(async (o: ClientOpts) => {
      const c = client(o);
      await c.del('/v1/sessions/current');
      rmSync(paths(dataDir(o.data)).session, { force: true });
      makeOut(o.json === true).result({ url: c.url, loggedOut: true }, [`Logged out of ${c.url}`]);
      return EXIT_OK;
    }),
  );
}
