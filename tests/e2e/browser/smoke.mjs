// Proves the harness: the built app loads from `learnflow serve`, a deep link survives a reload, a
// screenshot is written, and signing in through the form brings the live link up.
import { anonymousContext, assertNoTokenReadable, BASE_URL, DEMO, fillByLabel, log, newPage, PASSWORD, scenario, screenshot, waitLiveOpen } from './lib.mjs'

await scenario('smoke', async (browser) => {
  const page = await newPage(await anonymousContext(browser))
  await page.goto(BASE_URL + '/')
  await page.getByRole('link', { name: 'LearnFlow' }).first().waitFor()
  await screenshot(page, 'smoke-home')

  const deep = await page.goto(BASE_URL + '/courses/1')
  if (deep?.status() !== 200) throw new Error(`deep link answered ${deep?.status()}`)

  await page.goto(BASE_URL + '/login')
  await fillByLabel(page, { Email: DEMO.learner, Password: PASSWORD })
  await page.getByRole('button', { name: 'Sign in' }).click()
  await waitLiveOpen(page)
  log(`signed in as ${DEMO.learner}, live link open at ${page.url()}`)
  await assertNoTokenReadable(page)
  await page.reload()
  await waitLiveOpen(page)
  log('live link open again after a reload (access token from the HttpOnly refresh cookie)')

  // A second tab opened at the same moment refreshes too; the tabs take turns (a Web Lock), so neither
  // presents a cookie the other has just rotated (which the server would treat as a stolen token).
  const [second, third] = [await newPage(page.context()), await newPage(page.context())]
  await Promise.all([second.goto(BASE_URL + '/dashboard'), third.goto(BASE_URL + '/dashboard'), page.reload()])
  await Promise.all([waitLiveOpen(second), waitLiveOpen(third), waitLiveOpen(page)])
  log('three tabs restored the session at once; all live')

  // Signing out clears the cookie: a reload stays signed out.
  await Promise.all([
    page.waitForResponse((response) => response.url().endsWith('/api/auth/logout')),
    page.getByRole('button', { name: /sign out/i }).first().click(),
  ])
  await page.waitForURL((url) => url.pathname === '/')
  await page.goto(BASE_URL + '/dashboard')
  await page.getByRole('button', { name: 'Sign in' }).waitFor()
  if ((await page.context().cookies(BASE_URL + '/api/auth/refresh')).some((cookie) => cookie.name === 'lf_refresh' && cookie.value)) {
    throw new Error('the refresh cookie survived signing out')
  }
  log('signed out: cookie cleared, the next load asks to sign in')
})
