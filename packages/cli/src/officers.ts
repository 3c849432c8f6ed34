/** Officers written straight to the store (no running node needed). */
import { type MigrationStep, type Role, SqliteStore } from '@parley/store';
import { UsageError } from './exit.js';
import { paths } from './datadir.js';

export { ROLES, checkOfficerName } from './officer-name.js';

/**
 * Opens the data directory's store: for writing (creating it if needed) by a
 * caller that holds the directory's lock (lock.ts), or `readonly`.
 */
export function openStore(dir: string, o: { readonly?: boolean; onMigrate?: ((s: MigrationStep) => void) | undefined } = {}): SqliteStore {
  return SqliteStore.open(paths(dir).store, o.readonly ? { readonly: true } : o.onMigrate ? { onMigrate: o.onMigrate } : {});
}

/**
 * Adds (or with `replace`, resets) an officer.
 * @throws UsageError when the name is taken and `replace` is not set.
 */
export async function addOfficer(dir: string, o: { name: string; role: Role; password: string; replace?: boolean; onMigrate?: ((s: MigrationStep) => void) | undefined }): Promise<void> {
  const { hashPassword } = await import('@parley/node'); // the node's password hashing; slow to load, so only here
  const store = openStore(dir, { onMigrate: o.onMigrate });
  try {
    const existing = await store.officer(o.name);
    if (existing && !o.replace) throw new UsageError(`officer "${o.name}" already exists (role ${existing.role}); pass --replace to set a new role and password`);
    await store.putOfficer({
      name: o.name,
      role: o.role,
      passwordHash: await hashPassword(o.password),
      created: existing?.created ?? new Date().toISOString(),
      disabled: false,
    });
  } finally {
    await store.close();
  }
}
