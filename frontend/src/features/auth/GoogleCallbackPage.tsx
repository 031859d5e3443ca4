import { PageHeader } from '../../components/ui'

export default function GoogleCallbackPage() {
  return <PageHeader title="Signing in with Google" />
}
