import { PageHeader } from '../../components/ui'

export default function LessonPlayerPage() {
  return <PageHeader title="Lesson" />
}
