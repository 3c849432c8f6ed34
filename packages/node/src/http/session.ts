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
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LogStore, Role } from '@parley/store';
import { newToken, tokenHash, verifyPassword } from '../auth.js';
import { HttpError } from './problem.js';

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

  constructor(store: LogStore) {
    this.#store = store;
  }

  /**
   * Verifies a password and opens a session.
   * @throws HttpError `UNAUTHENTICATED` — the same for an unknown name, a disabled officer and a wrong password.
   */
  async login(name: string, password: string, now = new Date()): Promise<{ token: string; officer: { name: string; role: Role }; expires: string }> {
    const officer = await this.#store.officer(name);
    // Always one scrypt run, so an unknown name answers as slowly as a wrong password.
    const ok = await verifyPassword(password, officer?.passwordHash ?? DUMMY_HASH);
    if (!officer || officer.disabled || !ok) throw UNAUTHENTICATED('name or password is wrong');
    const { token, tokenHash } = newToken();
    const expires = new Date(now.getTime() + SESSION_TTL_MS).toISOString();
    await this.#store.putSession({ tokenHash, officer: officer.name, created: now.toISOString(), expires });
    return { token, officer: { name: officer.name, role: officer.role }, expires };
  }

  async logout(p: Principal): Promise<void> {
    await this.#store.deleteSession(p.tokenHash);
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
