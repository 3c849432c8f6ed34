/**
 * Routes. Everything but /login needs a session; the shell (`Layout`) wraps
 * every logged-in page.
 *
 *     /login  /  /outbox  /entries/:party/:index  /compose
 *     /incidents  /incidents/:id  /links  /logs  /logs/:party  /logs/:party/:index  (/log… kept for in-app links only)
 *     /compliance  /accord
 */
import { Navigate, Outlet, Route, Routes, useLocation } from 'react-router';
import { useTranslation } from 'react-i18next';
import { Layout } from './components/layout.js';
import { PageHeader } from './components/feedback.js';
import { AccordPage } from './pages/accord/index.js';
import { CompliancePage } from './pages/compliance/index.js';
import { ComposePage } from './pages/compose/index.js';
import { EntryPage } from './pages/entry/index.js';
import { ExplorerPage } from './pages/explorer/index.js';
import { InboxPage, OutboxPage } from './pages/inbox/index.js';
import { IncidentPage, IncidentsPage } from './pages/incidents/index.js';
import { LinksPage } from './pages/links/index.js';
import { LoginPage } from './pages/login/index.js';
import { useSession } from './session.js';

function RequireSession() {
  const { session } = useSession();
  const location = useLocation();
  if (session === undefined) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return (
    <Layout>
      <Outlet />
    </Layout>
  );
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
        <Route path="log" element={<ExplorerPage />} />
        <Route path="log/:party" element={<ExplorerPage />} />
        <Route path="log/:party/:index" element={<ExplorerPage />} />
        {/* /log/… belongs to the node's public log (server API_PREFIXES): a reload there is a 404, so the explorer lives at /logs. */}
        <Route path="logs" element={<ExplorerPage />} />
        <Route path="logs/:party" element={<ExplorerPage />} />
        <Route path="logs/:party/:index" element={<ExplorerPage />} />
        <Route path="compliance" element={<CompliancePage />} />
        <Route path="accord" element={<AccordPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
