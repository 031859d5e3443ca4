// The learner's enrollments with progress, kept current by their `user:{id}` events.
import { loadOverview, type LearningOverview } from './api'
import { applyLearningEvent } from './events'
import { useChannel } from '../../lib/live'
import { useResource, type Resource } from '../../lib/useResource'

export function useLearning(userId: number | null): Resource<LearningOverview> {
  const resource = useResource((signal) => loadOverview(signal), [userId])
  useChannel(userId !== null ? `user:${userId}` : null, {
    onPublication(publication) {
      const current = resource.data
      if (!current) return
      // A course we do not list (enrolled elsewhere meanwhile): refetch rather than guess its details.
      if (applyLearningEvent(current, publication) === null) {
        resource.reload()
        return
      }
      resource.setData((latest) => (latest ? (applyLearningEvent(latest, publication) ?? latest) : latest))
    },
    onRecoveryFailed: resource.reload,
  })
  return resource
}
