// Scenario b: a learner enrolled in the instructor's course and the instructor, each on the other's
// conversation (/messages/:partnerId): what one sends appears for the other live, without a reload, and
// the sender sees the read receipt.
import { assertNoReload, courseWithLearners, log, markDocument, openLive, scenario, screenshot, signedInContext, untilPresent } from './lib.mjs'

async function send(page, text) {
  await page.getByTestId('message-input').fill(text)
  await page.getByTestId('message-send').click()
}

async function waitForMessage(page, text, who) {
  const item = page.getByTestId('message-item').filter({ hasText: text })
  await untilPresent(`"${text}" to appear for ${who}`, item)
}

await scenario('messages', async (browser) => {
  const {
    instructorTokens,
    instructor,
    course,
    learners: [learner],
  } = await courseWithLearners(['Mira', 'Messenger'])
  log(`learner ${learner.user.id} enrolled in course ${course.id} of instructor ${instructor.id}`)

  const teacherPage = await openLive(await signedInContext(browser, instructorTokens), `/messages/${learner.user.id}`)
  const learnerPage = await openLive(await signedInContext(browser, learner.tokens), `/messages/${instructor.id}`)
  await teacherPage.getByTestId('message-input').waitFor()
  await learnerPage.getByTestId('message-input').waitFor()
  await markDocument(teacherPage)
  await markDocument(learnerPage)

  const question = `Question from the e2e learner ${Date.now()}`
  await send(learnerPage, question)
  await waitForMessage(learnerPage, question, 'its sender')
  await waitForMessage(teacherPage, question, 'the instructor')
  await assertNoReload(teacherPage)
  log('the learner\'s message appeared live for the instructor')
  // The instructor has the conversation open, so the learner gets the read receipt live too ("Seen" goes
  // under the newest message the partner read; this new learner has sent only that one).
  const seen = learnerPage.getByTestId('message-seen')
  await untilPresent('the read receipt on the learner\'s message', seen)
  log('the learner sees "Seen" on the message')

  const answer = `Answer from the instructor ${Date.now()}`
  await send(teacherPage, answer)
  await waitForMessage(learnerPage, answer, 'the learner')
  await assertNoReload(learnerPage)
  log('the instructor\'s answer appeared live for the learner')
  await screenshot(learnerPage, 'messages-learner')
  await screenshot(teacherPage, 'messages-instructor')
})
