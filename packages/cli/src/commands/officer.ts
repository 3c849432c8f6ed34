/** `parley officer add | list`: the people who may log in to the node, straight in the store (works offline). */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Role } from '@parley/store';
import { EXIT_OK, act } from '../exit.js';
import { makeOut } from '../io.js';
import { DATA_FLAGS, DATA_HELP, dataDir, readConfig } from '../datadir.js';
import { getSecret } from '../secrets.js';
import { ROLES, addOfficer, checkOfficerName, openStore } from '../officers.js';
import { withDirLock } from '../lock.js';

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
        await withDirLock(dir, 'parley officer add', () => addOfficer(dir, { name, role: o.role, password, replace: o.replace === true }));
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
        const store = openStore(dir, { readonly: true });
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
}
