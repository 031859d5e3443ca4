import { PageHeader } from '../../components/ui'

export default function CatalogPage() {
  return <PageHeader title="Course catalogue" />
}
