import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/feedback.js';

export function ComposePage() {
  const { t } = useTranslation('compose');
  return <PageHeader title={t('title')} />;
}
