// Scenario a: a learner signs up in the UI, finds a demo course in the catalogue, enrolls and opens a
// lesson; in a second context the course's instructor, on /teach/activity, sees the learner appear with
// that lesson and a session time, and the learner's player shows the credited time.
import {
  anonymousContext,
  BASE_URL,
  DEMO,
  fillByLabel,
  instructorCourse,
  interact,
  log,
  login,
  newPage,
  openLive,
  PASSWORD,
  scenario,
  screenshot,
  signedInContext,
  textOf,
  uniqueEmail,
  untilPositive,
  untilPresent,
  waitLiveOpen,
} from './lib.mjs'

await scenario('activity', async (browser) => {
  const instructorTokens = await login(DEMO.instructor)
  const { course } = await instructorCourse(instructorTokens)
  const firstLesson = course.lessons[0]
  log(`course ${course.id} "${course.title}", first lesson "${firstLesson.title}"`)

  const teacher = await signedInContext(browser, instructorTokens)
  const activity = await openLive(teacher, `/teach/activity?course=${course.id}`)
  await activity.locator(`[data-testid="activity-course"][data-course-id="${course.id}"]`).waitFor()
  log('instructor watches the live activity')

  const first = 'Quinn'
  const last = `Learner${Date.now().toString(36).slice(-4)}`
  const learner = await newPage(await anonymousContext(browser))
  await learner.goto(BASE_URL + '/register')
  await fillByLabel(learner, { 'First name': first, 'Last name': last, Email: uniqueEmail('quinn'), Password: PASSWORD })
  await learner.getByRole('button', { name: 'Create account' }).click()
  await waitLiveOpen(learner)
  log(`signed up ${first} ${last}`)

  await learner.goto(BASE_URL + '/courses')
  await learner.getByLabel('Search courses').fill(course.title)
  const card = learner.locator(`[data-testid="course-card"][data-course-id="${course.id}"]`)
  await card.waitFor()
  await card.getByRole('link', { name: course.title }).click()
  await learner.waitForURL(`**/courses/${course.id}`)
  await learner.getByTestId('course-enroll').click()
  await learner.getByTestId('course-start-learning').click()
  await learner.waitForURL(`**/courses/${course.id}/learn/**`)
  await learner.getByTestId('lesson-time-spent').waitFor()
  log(`enrolled and opened ${learner.url()}`)

  const row = activity.locator('[data-testid="activity-learner"]', { hasText: `${first} ${last}` })
  // Heartbeats go every 15 s while the tab is visible and the learner interacted within the last minute.
  await untilPresent('the learner in the instructor\'s live activity', row, {
    timeout: 50_000,
    interval: 1_000,
    during: () => interact(learner),
  })
  const lessonShown = await textOf(row.getByTestId('activity-lesson'))
  if (lessonShown !== firstLesson.title) throw new Error(`activity shows lesson "${lessonShown}", expected "${firstLesson.title}"`)
  const seconds = await untilPositive('a session time on the activity row', row.getByTestId('activity-seconds'), {
    read: async (cell) => Number(await cell.getAttribute('data-seconds')),
    timeout: 15_000,
    during: () => interact(learner),
  })
  log(`instructor sees ${first} ${last} on "${lessonShown}" for ${seconds}s`)
  await screenshot(activity, 'activity-instructor-live')

  const credited = await untilPositive('credited time in the lesson player', learner.getByTestId('lesson-time-spent'), {
    timeout: 25_000,
    interval: 1_000,
    during: () => interact(learner),
  })
  log(`learner's player shows time on this lesson (${credited})`)
  await screenshot(learner, 'lesson-player')
})
