import { PageHeader } from '../../components/ui'

export default function MyLearningPage() {
  return <PageHeader title="My learning" />
}
