import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/feedback.js';

export function EntryPage() {
  const { t } = useTranslation('entry');
  return <PageHeader title={t('title')} />;
}
