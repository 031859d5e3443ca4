// Proves the harness: the built app loads from `learnflow serve`, a deep link survives a reload, a
// screenshot is written, and signing in through the form brings the live link up.
import { anonymousContext, BASE_URL, DEMO, fillByLabel, log, newPage, PASSWORD, scenario, screenshot, waitLiveOpen } from './lib.mjs'

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
  await page.reload()
  await waitLiveOpen(page)
  log('live link open again after a reload (tokens kept in localStorage)')
})
