/** Log explorer: browse a party's log, verify inclusion in the browser. (Placeholder — owned by Web-B.) */
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { PageHeader } from '../../components/feedback.js';

export function ExplorerPage() {
  const { t } = useTranslation('explorer');
  const { party, index } = useParams();
  return <PageHeader title={[t('title'), party, index].filter((x) => x !== undefined).join(' · ')} />;
}
