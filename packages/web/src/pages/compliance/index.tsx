/** Compliance: acknowledgement latency and deadline hit rates, incidents over time. (Placeholder — owned by Web-B.) */
import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/feedback.js';

export function CompliancePage() {
  const { t } = useTranslation('compliance');
  return <PageHeader title={t('title')} />;
}
