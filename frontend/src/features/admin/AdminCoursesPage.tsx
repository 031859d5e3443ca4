import { PageHeader } from '../../components/ui'

export default function AdminCoursesPage() {
  return <PageHeader title="All courses" />
}
