// Scenario c: two viewers of a course's discussions; one up-votes a post and the other sees its count
// change live, without a reload.
import {
  assertNoReload,
  courseWithLearners,
  log,
  markDocument,
  numberIn,
  openLive,
  rest,
  scenario,
  screenshot,
  signedInContext,
  textOf,
  until,
} from './lib.mjs'

await scenario('votes', async (browser) => {
  const {
    instructorTokens,
    course,
    learners: [author, voter],
  } = await courseWithLearners(['Vera', 'Poster'], ['Victor', 'Voter'])
  const content = `Which exercise should we start with? (e2e ${Date.now()})`
  const post = await rest('POST', `/api/courses/${course.id}/discussions`, {
    token: author.tokens.access_token,
    body: { content },
  })
  log(`post ${post.id} in course ${course.id}`)

  const path = `/courses/${course.id}/discussions`
  const watcher = await openLive(await signedInContext(browser, instructorTokens), path)
  const voting = await openLive(await signedInContext(browser, voter.tokens), path)
  const watched = watcher.getByTestId('discussion-post').filter({ hasText: content }).first()
  const mine = voting.getByTestId('discussion-post').filter({ hasText: content }).first()
  await watched.waitFor()
  await mine.waitFor()
  await markDocument(watcher)

  const before = numberIn(await textOf(watched.getByTestId('vote-count')))
  if (Number.isNaN(before)) throw new Error('vote-count shows no number')
  await mine.getByTestId('vote-up').click()
  await until(`the voter's own count to reach ${before + 1}`, async () => numberIn(await textOf(mine.getByTestId('vote-count'))) === before + 1, { timeout: 10_000 })
  await until(`the other viewer's count to reach ${before + 1}`, async () => numberIn(await textOf(watched.getByTestId('vote-count'))) === before + 1, { timeout: 15_000 })
  await assertNoReload(watcher)
  log(`vote count went ${before} → ${before + 1} live for the other viewer`)
  await screenshot(watcher, 'discussions')
})
