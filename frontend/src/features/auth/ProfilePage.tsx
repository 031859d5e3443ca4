import { PageHeader } from '../../components/ui'

export default function ProfilePage() {
  return <PageHeader title="Your profile" />
}
