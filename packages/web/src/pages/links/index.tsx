/** Link health per party. (Placeholder — owned by Web-B.) */
import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/feedback.js';

export function LinksPage() {
  const { t } = useTranslation('links');
  return <PageHeader title={t('title')} />;
}
