import { PageHeader } from '../../components/ui'

export default function CoursePage() {
  return <PageHeader title="Course" />
}
