/** Incidents: list with filters and search; an incident's timeline. (Placeholder — owned by Web-B.) */
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { PageHeader } from '../../components/feedback.js';

export function IncidentsPage() {
  const { t } = useTranslation('incidents');
  return <PageHeader title={t('title')} />;
}

export function IncidentPage() {
  const { t } = useTranslation('incidents');
  const { id } = useParams();
  return <PageHeader title={`${t('title')} · ${id ?? ''}`} />;
}
