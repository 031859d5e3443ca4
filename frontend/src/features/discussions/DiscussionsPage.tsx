import { PageHeader } from '../../components/ui'

export default function DiscussionsPage() {
  return <PageHeader title="Discussions" />
}
