/**
 * Routes. Everything but /login needs a session; the shell (`Layout`) wraps
 * every logged-in page.
 *
 *     /login  /  /outbox  /entries/:party/:index  /compose
 *     /incidents  /incidents/:id  /links  /logs  /logs/:party  /logs/:party/:index
 *     /compliance  /evaluations  /evaluations/:party/:index  /accord  /glossary
 *
 * Keyboard shortcuts (components/shortcuts.tsx) are on every logged-in page.
 *
 * The log explorer lives at /logs, not /log: /log/… is the node's public log
 * (C2SP tlog-tiles, packages/node/src/http/web.ts API_PREFIXES), so a reload
 * there would reach the API. An in-app /log… link is redirected.
 */
import { Suspense, lazy } from 'react';
import { Navigate, Outlet, Route, Routes, useLocation } from 'react-router';
import { useTranslation } from 'react-i18next';
import { Layout } from './components/layout.js';
import { Loading, PageHeader } from './components/feedback.js';
import { ContinuityBanner } from './components/continuity.js';
import { ShortcutsProvider } from './components/shortcuts.js';
import { AccordPage } from './pages/accord/index.js';
import { ComposePage } from './pages/compose/index.js';
import { EntryPage } from './pages/entry/index.js';
import { ExplorerPage } from './pages/explorer/index.js';
import { InboxPage, OutboxPage } from './pages/inbox/index.js';
import { IncidentPage, IncidentsPage } from './pages/incidents/index.js';
import { LinksPage } from './pages/links/index.js';
import { GlossaryPage } from './pages/glossary/index.js';
import { EvaluationPage, EvaluationsPage } from './pages/evaluations/index.js';
import { LoginPage } from './pages/login/index.js';
import { useSession } from './session.js';

// The charts (recharts) are most of the app's weight and only Compliance uses
// them: that page loads on first visit, so the inbox opens without them.
const CompliancePage = lazy(() => import('./pages/compliance/index.js').then((m) => ({ default: m.CompliancePage })));

function RequireSession() {
  const { session } = useSession();
  const location = useLocation();
  if (session === undefined) return <Navigate to="/login" replace state={{ from: location.pathname + location.search + location.hash }} />;
  return (
    <ShortcutsProvider>
      <Layout>
        <ContinuityBanner />
        <Outlet />
      </Layout>
    </ShortcutsProvider>
  );
}

function LegacyLogRedirect() {
  const location = useLocation();
  return <Navigate to={location.pathname.replace(/^\/log(?=\/|$)/, '/logs') + location.search} replace />;
}

function NotFound() {
  const { t } = useTranslation();
  return <PageHeader title={t('notFound')} />;
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<RequireSession />}>
        <Route index element={<InboxPage />} />
        <Route path="outbox" element={<OutboxPage />} />
        <Route path="entries/:party/:index" element={<EntryPage />} />
        <Route path="compose" element={<ComposePage />} />
        <Route path="incidents" element={<IncidentsPage />} />
        <Route path="incidents/:id" element={<IncidentPage />} />
        <Route path="links" element={<LinksPage />} />
        <Route path="log/*" element={<LegacyLogRedirect />} />
        <Route path="logs" element={<ExplorerPage />} />
        <Route path="logs/:party" element={<ExplorerPage />} />
        <Route path="logs/:party/:index" element={<ExplorerPage />} />
        <Route
          path="compliance"
          element={
            <Suspense fallback={<Loading />}>
              <CompliancePage />
            </Suspense>
          }
        />
        <Route path="evaluations" element={<EvaluationsPage />} />
        <Route path="evaluations/:party/:index" element={<EvaluationPage />} />
        <Route path="accord" element={<AccordPage />} />
        <Route path="glossary" element={<GlossaryPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
