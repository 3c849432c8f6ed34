import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/feedback.js';

export function InboxPage() {
  const { t } = useTranslation('inbox');
  return <PageHeader title={t('inboxTitle')} />;
}

export function OutboxPage() {
  const { t } = useTranslation('inbox');
  return <PageHeader title={t('outboxTitle')} />;
}
