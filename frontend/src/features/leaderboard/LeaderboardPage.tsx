import { PageHeader } from '../../components/ui'

export default function LeaderboardPage() {
  return <PageHeader title="Leaderboard" />
}
