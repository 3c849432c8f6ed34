/**
 * Sessions and roles at the HTTP boundary.
 *
 * An officer logs in with name and password (scrypt, auth.ts) and gets a
 * random bearer token valid for {@link SESSION_TTL_MS}; the store keeps only
 * the token's SHA-256. Every request under /v1 except the login carries
 * `Authorization: Bearer <token>`; the check runs in `onRequest`, before the
 * body is read, so an unauthenticated or forbidden request costs no parsing
 * and writes nothing.
 *
 * Roles: `officer` acts for the party (read and write); `auditor` reads only
 * (GET routes, and its own logout) and never sees sealed bodies; `admin` may
 * do everything, including creating officers and ingesting entries by hand.
 *
 * Failed logins do not say why: unknown name, disabled officer and wrong
 * password are the same 401, and each runs one scrypt verification (against
 * a dummy hash when there is no such officer) so their timing is alike.
 * Repeated failures per name and per address are throttled (throttle.ts):
 * 429 LOGIN_THROTTLED with Retry-After, before any password is checked.
 *
 * Admins disable and enable officers (a disabled officer's tokens stop
 * working at once: every request re-reads the officer, and its sessions are
 * deleted) and set passwords; every officer changes their own password with
 * the current one (a wrong one counts as a failed login). A new password
 * revokes the officer's other sessions.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LogStore, Role } from '@parley/store';
import { hashPassword, newToken, tokenHash, verifyPassword } from '../auth.js';
import { HttpError } from './problem.js';
import { LoginThrottle, type ThrottleOptions } from './throttle.js';

/** Session lifetime: one duty shift. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/** Who is calling, once authenticated. */
export interface Principal {
  readonly name: string;
  readonly role: Role;
  readonly tokenHash: string;
  readonly expires: string;
}

/**
 * A well-formed hash that no password matches (random salt and key, same
 * cost as hashPassword's): verifying against it costs what a real check costs.
 */
export const DUMMY_HASH = 'scrypt$32768$8$1$+uaStP4J9o5X75y1xrcSDg==$ZwIUA9SzOtfuRtWsE69RLdt3Wkp0PzPpmF9vltPqObo=';

const UNAUTHENTICATED = (detail: string) => new HttpError('UNAUTHENTICATED', detail, { 'www-authenticate': 'Bearer realm="parley"' });

export class Sessions {
  readonly #store: LogStore;
  readonly #principals = new WeakMap<FastifyRequest, Principal>();
  readonly #throttle: LoginThrottle;

  constructor(store: LogStore, throttle?: ThrottleOptions) {
    this.#store = store;
    this.#throttle = new LoginThrottle(throttle);
  }

  /** Refuses a name or address that failed too often (before any password check). */
  #checkThrottle(name: string, address: string): void {
    const ms = this.#throttle.wait(name, address);
    if (ms > 0) {
      const s = Math.ceil(ms / 1000);
      throw new HttpError('LOGIN_THROTTLED', `too many failed logins for ${name} or from this address: try again in ${s} s`, { 'retry-after': String(s) });
    }
  }

  /**
   * Verifies a password and opens a session.
   * @param address the client's address, for throttling (default: one shared key).
   * @throws HttpError `UNAUTHENTICATED` — the same for an unknown name, a disabled officer and a wrong password;
   *   `LOGIN_THROTTLED` (429, Retry-After) after too many failures for the name or the address.
   */
  async login(name: string, password: string, now = new Date(), address = 'unknown'): Promise<{ token: string; officer: { name: string; role: Role }; expires: string }> {
    this.#checkThrottle(name, address);
    const officer = await this.#store.officer(name);
    // Always one scrypt run, so an unknown name answers as slowly as a wrong password.
    const ok = await verifyPassword(password, officer?.passwordHash ?? DUMMY_HASH);
    if (!officer || officer.disabled || !ok) {
      this.#throttle.failed(name, address);
      throw UNAUTHENTICATED('name or password is wrong');
    }
    this.#throttle.succeeded(name);
    const { token, tokenHash } = newToken();
    const expires = new Date(now.getTime() + SESSION_TTL_MS).toISOString();
    await this.#store.putSession({ tokenHash, officer: officer.name, created: now.toISOString(), expires });
    return { token, officer: { name: officer.name, role: officer.role }, expires };
  }

  async logout(p: Principal): Promise<void> {
    await this.#store.deleteSession(p.tokenHash);
  }

  /**
   * Changes the caller's own password, given the current one (throttled as a login).
   * @returns how many other sessions of the officer were revoked.
   * @throws HttpError `PASSWORD_WRONG` (403), `LOGIN_THROTTLED` (429).
   */
  async changePassword(p: Principal, current: string, next: string, address = 'unknown'): Promise<number> {
    this.#checkThrottle(p.name, address);
    const officer = await this.#store.officer(p.name);
    if (!officer || !(await verifyPassword(current, officer.passwordHash))) {
      this.#throttle.failed(p.name, address);
      throw new HttpError('PASSWORD_WRONG', 'the current password is wrong');
    }
    await this.#store.putOfficer({ ...officer, passwordHash: await hashPassword(next) });
    return this.#store.deleteOfficerSessions(p.name, p.tokenHash);
  }

  /**
   * Sets another officer's password (admin), or disables / enables them.
   * Disabling or a new password revokes every session the officer holds.
   * @returns the officer's new state and how many sessions were revoked.
   * @throws HttpError `NOT_FOUND` (no such officer), `FORBIDDEN` (an admin disabling themselves).
   */
  async administer(by: Principal, name: string, change: { disabled?: boolean; password?: string }): Promise<{ name: string; role: Role; disabled: boolean; sessionsRevoked: number }> {
    const officer = await this.#store.officer(name);
    if (!officer) throw new HttpError('NOT_FOUND', `no officer ${name}`);
    if (change.disabled === true && name === by.name) throw new HttpError('FORBIDDEN', 'an admin cannot disable their own account (another admin can)');
    const next = {
      ...officer,
      ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
      ...(change.password !== undefined ? { passwordHash: await hashPassword(change.password) } : {}),
    };
    await this.#store.putOfficer(next);
    const revoke = change.disabled === true || change.password !== undefined;
    const sessionsRevoked = revoke ? await this.#store.deleteOfficerSessions(name) : 0;
    return { name, role: officer.role, disabled: next.disabled, sessionsRevoked };
  }

  /**
   * An `onRequest` hook that admits `roles` only.
   * @throws HttpError `UNAUTHENTICATED` (no, malformed, unknown or expired token; officer gone or disabled), `FORBIDDEN` (role).
   */
  require(roles: readonly Role[]): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
    return async (req) => {
      const p = await this.#authenticate(req.headers.authorization);
      if (!roles.includes(p.role)) throw new HttpError('FORBIDDEN', `${req.method} ${req.routeOptions.url ?? req.url} is not allowed for role ${p.role}`);
      this.#principals.set(req, p);
    };
  }

  /** The principal an auth hook admitted; a route without the hook asking for it is our bug. */
  principal(req: FastifyRequest): Principal {
    const p = this.#principals.get(req);
    if (!p) throw new Error('internal: route has no authentication hook');
    return p;
  }

  async #authenticate(header: string | undefined): Promise<Principal> {
    if (header === undefined) throw UNAUTHENTICATED('send Authorization: Bearer <token>');
    const m = /^Bearer ([A-Za-z0-9_-]{43})$/.exec(header);
    if (!m) throw UNAUTHENTICATED('malformed Authorization header');
    const hash = tokenHash(m[1]!);
    const s = await this.#store.session(hash);
    if (!s) throw UNAUTHENTICATED('unknown or revoked token');
    if (!(Date.parse(s.expires) > Date.now())) {
      await this.#store.deleteSession(hash);
      throw UNAUTHENTICATED('session expired');
    }
    const officer = await this.#store.officer(s.officer);
    if (!officer || officer.disabled) throw UNAUTHENTICATED('officer is disabled');
    return { name: officer.name, role: officer.role, tokenHash: hash, expires: s.expires };
  }
}
