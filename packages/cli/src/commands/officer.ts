/**
 * `parley officer add | list | disable | enable | passwd` and `parley passwd`:
 * the people who may log in to the node.
 *
 *   add, list        straight in the store (add with the node stopped: it takes the data directory's lock)
 *   disable, enable  through the running node's API as an admin (its tokens stop working at once);
 *                    --offline: straight in the store, with the node stopped
 *   officer passwd   an admin sets another officer's password (API); their sessions end
 *   passwd           change your own password (API); your other sessions end
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Role } from '@parley/store';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { DATA_FLAGS, DATA_HELP, dataDir, readConfig, storeLabel, storeSpec } from '../datadir.js';
import { migrationProgress } from '../progress.js';
import { getSecret } from '../secrets.js';
import { ROLES, addOfficer, checkOfficerName, openStore } from '../officers.js';
import { withDirLock } from '../lock.js';
import { type ClientOpts, client, clientOptions } from '../client.js';

export function registerOfficer(program: Command): void {
  const officer = program.command('officer').description("manage the node's officers (add: written to the store directly, with the node stopped; list works while it runs)");
  officer
    .command('add')
    .description('add an officer with a role and a password')
    .argument('<name>', 'officer name as entries record it, e.g. alice')
    .addOption(new Option('--role <role>', 'officer: reads and writes; auditor: metadata only; admin: also ingest and officers').choices(ROLES).makeOptionMandatory())
    .option('--password-file <file>', 'file holding the password on its first line (else prompted)')
    .option('--replace', 'set a new role and password for an existing officer')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'print {"name","role"} as JSON')
    .addHelpText('after', '\nExample:\n  $ parley officer add bob --role officer --password-file bob.txt --data us')
    .action(
      act(async (name: string, o: { role: Role; passwordFile?: string; replace?: boolean; data?: string; json?: boolean }) => {
        checkOfficerName(name, 'officer name');
        const dir = dataDir(o.data);
        readConfig(dir); // a data directory, not a stray folder
        const password = await getSecret({ file: o.passwordFile, what: `password for ${name}`, flag: '--password-file', create: true });
        const onMigrate = await migrationProgress(o.json === true, storeLabel(storeSpec(dir)));
        await withDirLock(dir, 'parley officer add', () => addOfficer(dir, { name, role: o.role, password, replace: o.replace === true, onMigrate }));
        makeOut(o.json === true).result({ name, role: o.role }, [`Officer ${name} (${o.role}) can now log in: parley login --name ${name}`]);
        return EXIT_OK;
      }),
    );
  officer
    .command('list')
    .description('list officers and their roles')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'print {"officers": [{name, role, created, disabled}]}')
    .action(
      act(async (o: { data?: string; json?: boolean }) => {
        const dir = dataDir(o.data);
        readConfig(dir);
        const store = await openStore(dir, { readonly: true });
        try {
          const all = (await store.officers()).map(({ name, role, created, disabled }) => ({ name, role, created, disabled }));
          makeOut(o.json === true).result(
            { officers: all },
            all.length === 0 ? ['no officers: parley officer add NAME --role admin'] : all.map((x) => `${x.name.padEnd(20)} ${x.role.padEnd(8)} ${x.created}${x.disabled ? ' (disabled)' : ''}`),
          );
        } finally {
          await store.close();
        }
        return EXIT_OK;
      }),
    );
  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    clientOptions(
      officer
        .command(action)
        .description(disabled ? 'disable an officer: they cannot log in and their sessions end at once (admin, through the node)' : 'enable a disabled officer (admin, through the node)')
        .argument('<name>', 'officer name')
        .option('--offline', 'write the store directly instead (the node must be stopped: this takes the data directory\'s lock)'),
    )
      .addHelpText('after', `\nExample:\n  $ parley officer ${action} bob --data us`)
      .action(
        act(async (name: string, o: ClientOpts & { offline?: boolean }) => {
          checkOfficerName(name, 'officer name');
          const state = o.offline === true ? await setDisabledOffline(dataDir(o.data), name, disabled) : ((await client(o).post(`/v1/officers/${name}/${action}`, {})) as OfficerState);
          makeOut(o.json === true).result({ ...state }, [
            `Officer ${name} (${state.role}) is ${state.disabled ? 'disabled' : 'enabled'}${state.sessionsRevoked > 0 ? `; ${state.sessionsRevoked} session(s) ended` : ''}`,
          ]);
          return EXIT_OK;
        }),
      );
  }
  clientOptions(
    officer
      .command('passwd')
      .description("set another officer's password (admin, through the node); their sessions end")
      .argument('<name>', 'officer name')
      .option('--password-file <file>', 'file holding the new password on its first line (else prompted)'),
  ).action(
    act(async (name: string, o: ClientOpts & { passwordFile?: string }) => {
      checkOfficerName(name, 'officer name');
      const password = await getSecret({ file: o.passwordFile, what: `new password for ${name}`, flag: '--password-file', create: true });
      const state = (await client(o).post(`/v1/officers/${name}/password`, { password })) as OfficerState;
      makeOut(o.json === true).result({ ...state }, [`New password set for ${name}${state.sessionsRevoked > 0 ? `; ${state.sessionsRevoked} session(s) ended` : ''}`]);
      return EXIT_OK;
    }),
  );
}

interface OfficerState {
  name: string;
  role: string;
  disabled: boolean;
  sessionsRevoked: number;
}

/** `--offline`: the officer's disabled flag straight in the store, holding the data directory's lock. */
async function setDisabledOffline(dir: string, name: string, disabled: boolean): Promise<OfficerState> {
  readConfig(dir);
  return withDirLock(dir, `parley officer ${disabled ? 'disable' : 'enable'}`, async () => {
    const store = await openStore(dir);
    try {
      const o = await store.officer(name);
      if (!o) throw new UsageError(`no officer "${name}" in ${dir}`);
      await store.putOfficer({ ...o, disabled });
      const sessionsRevoked = disabled ? await store.deleteOfficerSessions(name) : 0;
      return { name, role: o.role, disabled, sessionsRevoked };
    } finally {
      await store.close();
    }
  });
}

/** `parley passwd`: change your own password on the node you are logged in to. */
export function registerPasswd(program: Command): void {
  clientOptions(
    program
      .command('passwd')
      .description('change your own password on the node (your other sessions end)')
      .option('--password-file <file>', 'file holding your current password on its first line (else prompted)')
      .option('--new-password-file <file>', 'file holding the new password on its first line (else prompted)'),
  )
    .addHelpText('after', '\nExample:\n  $ parley passwd --data us')
    .action(
      act(async (o: ClientOpts & { passwordFile?: string; newPasswordFile?: string }) => {
        const c = client(o);
        const current = await getSecret({ file: o.passwordFile, what: 'current password', flag: '--password-file' });
        const password = await getSecret({ file: o.newPasswordFile, what: 'new password', flag: '--new-password-file', create: true });
        const r = (await c.post('/v1/me/password', { current, password })) as { name: string; sessionsRevoked: number };
        makeOut(o.json === true).result({ ...r }, [`Password changed for ${r.name}${r.sessionsRevoked > 0 ? `; ${r.sessionsRevoked} other session(s) ended` : ''}`]);
        return EXIT_OK;
      }),
    );
}
