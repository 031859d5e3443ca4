import { PageHeader } from '../../components/ui'

export default function RegisterPage() {
  return <PageHeader title="Create your account" />
}
