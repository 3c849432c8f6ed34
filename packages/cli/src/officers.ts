/** Officers written straight to the store (no running node needed). */
import { type LogStore, type MigrationStep, type Role, openStore as openStoreSpec } from '@parley/store';
import { UsageError } from './exit.js';
import { storeSpec } from './datadir.js';

export { ROLES, checkOfficerName } from './officer-name.js';

/**
 * Opens the data directory's store — the SQLite file, or the PostgreSQL
 * database config.json names (issue 14; `spec` overrides, for init before
 * config.json exists): for writing (creating it if needed) by a caller that
 * holds the directory's lock (lock.ts), or `readonly`.
 */
export function openStore(dir: string, o: { readonly?: boolean; onMigrate?: ((s: MigrationStep) => void) | undefined; spec?: string } = {}): Promise<LogStore> {
  return openStoreSpec(o.spec ?? storeSpec(dir), o.readonly ? { readonly: true } : o.onMigrate ? { onMigrate: o.onMigrate, max: 2 } : { max: 2 });
}

/**
 * Adds (or with `replace`, resets) an officer.
 * @throws UsageError when the name is taken and `replace` is not set.
 */
export async function addOfficer(dir: string, o: { name: string; role: Role; password: string; replace?: boolean; onMigrate?: ((s: MigrationStep) => void) | undefined; spec?: string }): Promise<void> {
  const { hashPassword } = await import('@parley/node'); // the node's password hashing; slow to load, so only here
  const store = await openStore(dir, { onMigrate: o.onMigrate, ...(o.spec !== undefined ? { spec: o.spec } : {}) });
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
