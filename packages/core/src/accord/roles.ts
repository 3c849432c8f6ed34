/**
 * Officers' roles by accord: which officer roles may take which channel-wide
 * actions (issue 11: "what an amendment can change: … officers' roles").
 *
 * Officers are node-local accounts (each party's node keeps its own, with a
 * role: `admin`, `officer` or `auditor`); who they are is not the other
 * parties' business and stays out of the accord. What the parties agree on is
 * what each ROLE may do on the channel, and every node enforces that for its
 * own officers. The optional accord member:
 *
 *     "roles": {"flash": [role], "report": [role], "amend": [role]}
 *
 *     flash   send a FLASH message (a report forced to FLASH by a red line is a
 *             duty, not a choice: `report` governs it)
 *     report  send an incident report
 *     amend   propose and approve accord amendments (and key rotation/recovery)
 *
 *     role    "admin" | "officer"; each list non-empty, sorted, without repeats
 *
 * Auditors are read-only everywhere, so they cannot be granted an action.
 * Absent (every accord before this member, version 1 included) = today's
 * behaviour, {@link DEFAULT_ROLES}: FLASH and reports by admins and officers,
 * amendments by admins only. An amendment changes it like any other member,
 * and {@link accordDiff} then lists each changed action against the defaults.
 *
 * @example permits(node.accord.accord, 'officer', 'flash') // false when roles.flash = ["admin"]
 */
import { fail } from '../errors.js';
import { arr, obj, sortedUnique } from '../shape.js';

/** The channel-wide actions an accord assigns to officer roles. */
export const ROLE_ACTIONS = ['amend', 'flash', 'report'] as const;
export type RoleAction = (typeof ROLE_ACTIONS)[number];

/** The officer roles an accord may grant an action to (auditors only read). */
export const GRANTABLE_ROLES = ['admin', 'officer'] as const;
export type GrantableRole = (typeof GRANTABLE_ROLES)[number];

/** The accord's `roles` member. */
export type AccordRoles = { readonly [A in RoleAction]: readonly GrantableRole[] };

/** What an accord without `roles` means: the behaviour before the member existed. */
export const DEFAULT_ROLES: AccordRoles = { amend: ['admin'], flash: ['admin', 'officer'], report: ['admin', 'officer'] };

/**
 * Checks a `roles` member strictly: the three actions, each a non-empty
 * sorted list of distinct grantable roles.
 * @throws ParseError `ACCORD_MALFORMED`.
 */
export function parseRoles(v: unknown, path = 'accord.roles'): AccordRoles {
  const o = obj(v, 'ACCORD_MALFORMED', path, ROLE_ACTIONS);
  const list = (a: RoleAction): GrantableRole[] => {
    const roles = arr(
      o[a],
      'ACCORD_MALFORMED',
      `${path}.${a}`,
      GRANTABLE_ROLES.length,
      (x, p) => {
        if (typeof x !== 'string' || !(GRANTABLE_ROLES as readonly string[]).includes(x)) fail('ACCORD_MALFORMED', `${p}: want one of ${GRANTABLE_ROLES.join(', ')} (auditors only read)`);
        return x as GrantableRole;
      },
      1,
    );
    sortedUnique(roles, 'ACCORD_MALFORMED', `${path}.${a}`);
    return roles;
  };
  return { amend: list('amend'), flash: list('flash'), report: list('report') };
}

/** The roles an accord assigns: its `roles` member, else {@link DEFAULT_ROLES}. */
export function rolesOf(accord: { readonly roles?: AccordRoles }): AccordRoles {
  return accord.roles ?? DEFAULT_ROLES;
}

/**
 * True when the accord lets an officer of `role` take `action`.
 * @example permits(accord, 'auditor', 'report') // false, whatever the accord says
 */
export function permits(accord: { readonly roles?: AccordRoles }, role: string, action: RoleAction): boolean {
  return (rolesOf(accord)[action] as readonly string[]).includes(role);
}
