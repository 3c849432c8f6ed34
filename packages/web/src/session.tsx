/**
 * The logged-in officer: token, name, role and expiry, kept in
 * sessionStorage (per tab, gone when the tab closes) and handed to `api.ts`.
 *
 *     const { officer, canSeeBodies, login, logout } = useSession();
 *
 * `canAct` is false for auditors: they see metadata and commitments, never
 * sealed bodies, and the UI hides acknowledge and compose for them (the node
 * enforces the same rule; the UI only avoids offering what would be refused).
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { api, setToken, setUnauthorizedHandler } from './api.js';
import type { LoginResponse, Officer } from './types.js';

const KEY = 'parley.session';

export interface Session {
  readonly token: string;
  readonly officer: Officer;
  readonly expires: string;
}

export interface SessionContextValue {
  readonly session: Session | undefined;
  readonly officer: Officer | undefined;
  /** Officers and admins may acknowledge and compose; auditors may not. */
  readonly canAct: boolean;
  login(name: string, password: string): Promise<void>;
  logout(): void;
}

const SessionContext = createContext<SessionContextValue | undefined>(undefined);

function load(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return undefined;
    const s = JSON.parse(raw) as Session;
    if (Date.parse(s.expires) <= Date.now()) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(() => {
    const s = load();
    setToken(s?.token);
    return s;
  });
  const navigate = useNavigate();

  const logout = useCallback(() => {
    const token = session?.token;
    sessionStorage.removeItem(KEY);
    setToken(undefined);
    setSession(undefined);
    if (token !== undefined) void fetch('/v1/sessions/current', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
    navigate('/login');
  }, [navigate, session?.token]);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      sessionStorage.removeItem(KEY);
      setToken(undefined);
      setSession(undefined);
      navigate('/login', { state: { expired: true } });
    });
    return () => setUnauthorizedHandler(undefined);
  }, [navigate]);

  const login = useCallback(async (name: string, password: string) => {
    const r = await api<LoginResponse>('/v1/sessions', { body: { name, password }, anonymous: true });
    const s: Session = { token: r.token, officer: r.officer, expires: r.expires };
    sessionStorage.setItem(KEY, JSON.stringify(s));
    setToken(s.token);
    setSession(s);
  }, []);

  const value = useMemo<SessionContextValue>(
    () => ({ session, officer: session?.officer, canAct: session !== undefined && session.officer.role !== 'auditor', login, logout }),
    [session, login, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const v = useContext(SessionContext);
  if (v === undefined) throw new Error('useSession outside <SessionProvider>');
  return v;
}
