// Google sign-in in the browser: the button appears because the server has Google configured (here a
// local stand-in of Google's OAuth endpoints), the consent redirect comes back to /auth/google/callback,
// and the app signs the new account in with its live link up.
import { anonymousContext, BASE_URL, log, newPage, scenario, waitLiveOpen } from './lib.mjs'

await scenario('google', async (browser) => {
  const page = await newPage(await anonymousContext(browser))
  await page.goto(BASE_URL + '/login')
  await page.getByRole('button', { name: 'Continue with Google' }).click()
  await page.waitForURL((url) => url.pathname === '/dashboard', { timeout: 20_000 })
  await waitLiveOpen(page)
  await page.getByRole('heading', { name: /Gina/ }).waitFor()
  const me = await page.evaluate(async () => {
    const tokens = JSON.parse(window.localStorage.getItem('learnflow.tokens') ?? 'null')
    const response = await fetch('/api/auth/me', { headers: { Authorization: `Bearer ${tokens.access_token}` } })
    return response.json()
  })
  if (me.email !== 'gina.google@example.com' || me.role !== 'learner') throw new Error(`signed in as ${JSON.stringify(me)}`)
  log(`signed in with Google as ${me.email} (${me.role}); live link open`)
})
