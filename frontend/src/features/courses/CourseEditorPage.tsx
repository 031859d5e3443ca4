import { PageHeader } from '../../components/ui'

export default function CourseEditorPage() {
  return <PageHeader title="Edit course" />
}
