import { PageHeader } from '../../components/ui'

export default function AnalyticsPage() {
  return <PageHeader title="Live analytics" />
}
