import { PageHeader } from '../../components/ui'

export default function TeachingPage() {
  return <PageHeader title="My courses" />
}
