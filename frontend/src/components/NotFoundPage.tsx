import { PageHeader } from './ui'

export default function NotFoundPage() {
  return <PageHeader title="Page not found" />
}
