// Scenario d: an admin on /admin/analytics sees the live figures move when another user connects and
// then sends lesson heartbeats, without a reload.
import {
  assertNoReload,
  BASE_URL,
  courseWithLearners,
  DEMO,
  interact,
  log,
  login,
  markDocument,
  openLive,
  scenario,
  screenshot,
  signedInContext,
  waitForIncrease,
} from './lib.mjs'

await scenario('analytics', async (browser) => {
  const adminPage = await openLive(await signedInContext(browser, await login(DEMO.admin)), '/admin/analytics')
  const online = adminPage.getByTestId('analytics-users-online')
  const heartbeats = adminPage.getByTestId('analytics-heartbeats-per-minute')
  await online.waitFor()
  await heartbeats.waitFor()
  await markDocument(adminPage)

  const {
    course,
    learners: [learner],
  } = await courseWithLearners(['Ana', 'Lytics'])

  // Start watching before the learner connects, so the lowest value seen is from before.
  const onlineRise = waitForIncrease('users online to rise', online, { timeout: 30_000 })
  const learnerPage = await openLive(await signedInContext(browser, learner.tokens), `/courses/${course.id}/learn/${course.lessons[0].id}`)
  const [fromOnline, toOnline] = await onlineRise
  log(`users online ${fromOnline} → ${toOnline} after a learner connected`)

  await learnerPage.getByTestId('lesson-time-spent').waitFor()
  const [fromBeats, toBeats] = await waitForIncrease('heartbeats per minute to rise', heartbeats, {
    timeout: 50_000,
    during: () => interact(learnerPage),
  })
  log(`heartbeats per minute ${fromBeats} → ${toBeats} while the learner studies`)
  await assertNoReload(adminPage)
  await screenshot(adminPage, 'analytics-live')
  log(`admin page ${adminPage.url().replace(BASE_URL, '')} updated in place`)
})
