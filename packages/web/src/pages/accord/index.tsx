import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/feedback.js';

export function AccordPage() {
  const { t } = useTranslation('accord');
  return <PageHeader title={t('title')} />;
}
