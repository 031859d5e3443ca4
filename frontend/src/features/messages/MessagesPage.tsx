import { PageHeader } from '../../components/ui'

export default function MessagesPage() {
  return <PageHeader title="Messages" />
}
