import { PageHeader } from '../../components/ui'

export default function ReportsPage() {
  return <PageHeader title="Reports" />
}
