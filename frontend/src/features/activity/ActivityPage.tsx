import { PageHeader } from '../../components/ui'

export default function ActivityPage() {
  return <PageHeader title="Live activity" />
}
