import { PageHeader } from '../../components/ui'

export default function HomePage() {
  return <PageHeader title="LearnFlow" />
}
