/**
 * Failed-login throttling (issue 9, "Login: throttle and lock out per name
 * and per address"). Each officer name and each client address has a count
 * of recent failures; once a key has `free` failures, every further one
 * locks it for `baseLockMs`, doubling up to `maxLockMs`. A locked key is
 * refused BEFORE the password is checked — 429 LOGIN_THROTTLED with
 * Retry-After (RFC 6585 §4) — so guessing costs the guesser time and the
 * node no scrypt run. A key with no failure for `forgetMs` starts afresh.
 *
 *   name     5 free failures: someone guessing one officer's password
 *   address  20 free failures: one machine guessing many names (several
 *            officers may share an address, behind NAT or a reverse proxy)
 *
 * A successful login clears its name's count, not its address's (an
 * attacker with an account of its own must not reset its address by logging
 * in between guesses). Locking a name is a denial of service its owner can
 * suffer; the doubling starts at 30 s and is capped at 15 min so an officer
 * is never locked out for long, and an admin can set a new password.
 * State is in memory, bounded to {@link MAX_KEYS} keys (oldest dropped).
 */
export interface ThrottleOptions {
  /** Failures per name before it locks (default 5). */
  readonly nameFailures?: number;
  /** Failures per address before it locks (default 20). */
  readonly addressFailures?: number;
  /** First lock (default 30 000 ms); each further failure doubles it. */
  readonly baseLockMs?: number;
  /** Longest lock (default 15 min). */
  readonly maxLockMs?: number;
  /** A key with no failure for this long is forgotten (default 15 min). */
  readonly forgetMs?: number;
}

interface KeyState {
  failures: number;
  last: number;
  lockedUntil: number;
}

export const MAX_KEYS = 10_000;

export class LoginThrottle {
  readonly #o: Required<ThrottleOptions>;
  readonly #keys = new Map<string, KeyState>();

  constructor(o: ThrottleOptions = {}) {
    this.#o = { nameFailures: 5, addressFailures: 20, baseLockMs: 30_000, maxLockMs: 15 * 60_000, forgetMs: 15 * 60_000, ...o };
  }

  /** Milliseconds until `name` from `address` may try again (0: now). */
  wait(name: string, address: string, now = Date.now()): number {
    return Math.max(this.#waitOf(`name ${name}`, now), this.#waitOf(`address ${address}`, now));
  }

  /** Records a failed login (or a wrong current password). */
  failed(name: string, address: string, now = Date.now()): void {
    this.#fail(`name ${name}`, this.#o.nameFailures, now);
    this.#fail(`address ${address}`, this.#o.addressFailures, now);
  }

  /** Records a successful login: the name starts afresh. */
  succeeded(name: string): void {
    this.#keys.delete(`name ${name}`);
  }

  #waitOf(key: string, now: number): number {
    const s = this.#keys.get(key);
    return s === undefined ? 0 : Math.max(0, s.lockedUntil - now);
  }

  #fail(key: string, free: number, now: number): void {
    let s = this.#keys.get(key);
    if (s !== undefined && now - s.last > this.#o.forgetMs && s.lockedUntil <= now) s = undefined;
    s ??= { failures: 0, last: now, lockedUntil: 0 };
    s.failures++;
    s.last = now;
    if (s.failures >= free) s.lockedUntil = now + Math.min(this.#o.maxLockMs, this.#o.baseLockMs * 2 ** Math.min(30, s.failures - free));
    this.#keys.delete(key); // re-insert: the map stays in order of last failure
    this.#keys.set(key, s);
    while (this.#keys.size > MAX_KEYS) this.#keys.delete(this.#keys.keys().next().value as string);
  }
}
