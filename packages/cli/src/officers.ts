/** Officers written straight to the store (no running node needed). */
import { OFFICER } from '@parley/core/node';
import { type MigrationStep, type Role, SqliteStore } from '@parley/store';
import { hashPassword } from '@parley/node';
import { UsageError } from './exit.js';
import { paths } from './datadir.js';

export const ROLES: readonly Role[] = ['officer', 'auditor', 'admin'];

/** Checks an officer name as entries record it: ^[a-z0-9][a-z0-9._-]{0,63}$. */
export function checkOfficerName(name: string, flag: string): void {
  if (!OFFICER.test(name)) throw new UsageError(`${flag} "${name}" is not an officer name: lowercase letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit`);
}

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
