/** Officer names and roles: the rules alone, without the store (login and the HTTP commands use them). */
import { OFFICER } from '@parley/core/node';
import type { Role } from '@parley/store';
import { UsageError } from './exit.js';

export const ROLES: readonly Role[] = ['officer', 'auditor', 'admin'];

/** Checks an officer name as entries record it: ^[a-z0-9][a-z0-9._-]{0,63}$. */
export function checkOfficerName(name: string, flag: string): void {
  if (!OFFICER.test(name)) throw new UsageError(`${flag} "${name}" is not an officer name: lowercase letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit`);
}
