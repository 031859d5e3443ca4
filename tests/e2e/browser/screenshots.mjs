// Scenario e: screenshots of the main pages, each once its content (not a spinner) is on screen, for every
// role, plus dark-mode and phone-sized variants, under test-artifacts/screenshots/.
import { anonymousContext, BASE_URL, courseWithLearners, DEMO, log, login, newPage, rest, scenario, screenshot, signedInContext } from './lib.mjs'

/** `ready`: the data-testid, or a function giving the locator, that shows the page has its content. */
async function capture(page, path, ready, name) {
  await page.goto(BASE_URL + path)
  const locator = typeof ready === 'string' ? page.getByTestId(ready) : ready(page)
  await locator.first().waitFor({ timeout: 15_000 })
  // Charts and fonts settle after the data arrives; the live link keeps a socket open, so no networkidle.
  await page.waitForTimeout(400)
  await screenshot(page, name)
}

await scenario(
  'screenshots',
  async (browser) => {
    const {
      instructorTokens,
      instructor,
      course,
      learners: [learner],
    } = await courseWithLearners(['Sam', 'Shots'])
    await rest('POST', `/api/chats/${instructor.id}`, {
      token: learner.tokens.access_token,
      body: { content: 'Hello! Is the final project graded?' },
    })
    const lesson = course.lessons[0]

    const visitor = await newPage(await anonymousContext(browser))
    await capture(visitor, '/', 'course-card', 'home')
    await capture(visitor, '/courses', 'course-card', 'catalogue')
    const courseTitle = (page) => page.getByRole('heading', { name: course.title })
    await capture(visitor, `/courses/${course.id}`, courseTitle, 'course-page')

    const learnerPage = await newPage(await signedInContext(browser, learner.tokens))
    await capture(learnerPage, `/courses/${course.id}/learn/${lesson.id}`, 'lesson-time-spent', 'lesson-player')
    await capture(learnerPage, `/courses/${course.id}/discussions`, 'discussion-post', 'discussions')
    await capture(learnerPage, `/courses/${course.id}/leaderboard`, 'leaderboard-row', 'leaderboard')
    await capture(learnerPage, `/messages/${instructor.id}`, 'message-item', 'messages')
    await capture(learnerPage, '/my-learning', 'my-learning-course', 'my-learning')

    const teacherPage = await newPage(await signedInContext(browser, instructorTokens))
    await capture(teacherPage, '/teach', 'teaching-course', 'teaching')
    await capture(teacherPage, '/teach/activity', 'activity-course', 'activity')

    const adminTokens = await login(DEMO.admin)
    const adminPage = await newPage(await signedInContext(browser, adminTokens))
    await capture(adminPage, '/admin/analytics', 'analytics-users-online', 'analytics')
    await capture(adminPage, '/admin/users', 'users-row', 'users')
    await capture(adminPage, '/admin/reports', 'report-download', 'reports')
    await capture(adminPage, '/admin/audit', 'audit-row', 'audit')

    // A browser of its own signs in on its own: two browsers holding one refresh token would look like
    // a stolen token being reused, and the server would end that session.
    const dark = await newPage(await signedInContext(browser, await login(DEMO.admin), { theme: 'dark' }))
    await capture(dark, '/courses', 'course-card', 'dark-catalogue')
    await capture(dark, '/admin/analytics', 'analytics-users-online', 'dark-analytics')
    const isDark = await dark.evaluate(() => document.documentElement.classList.contains('dark'))
    if (!isDark) throw new Error('the dark theme was not applied')

    const phonePage = await newPage(await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }))
    await capture(phonePage, '/courses', 'course-card', 'phone-catalogue')
    log('every main page captured')
  },
  { timeoutMs: 120_000 },
)
