// Google sign-in in the browser: the button appears because the server has Google configured (here a
// local stand-in of Google's OAuth endpoints), the consent redirect comes back to /auth/google/callback,
// and the app signs the new account in with its live link up.
import { anonymousContext, assertNoTokenReadable, BASE_URL, log, newPage, scenario, waitLiveOpen } from './lib.mjs'

await scenario('google', async (browser) => {
  const page = await newPage(await anonymousContext(browser))
  await page.goto(BASE_URL + '/login')
  await page.getByRole('button', { name: 'Continue with Google' }).click()
  await page.waitForURL((url) => url.pathname === '/dashboard', { timeout: 20_000 })
  await waitLiveOpen(page)
  await page.getByRole('heading', { name: /Gina/ }).waitFor()
  await assertNoTokenReadable(page)
  // The app's own way to an access token after a reload: the refresh cookie, sent by the browser.
  const me = await page.evaluate(async () => {
    const refreshed = await fetch('/api/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
    const { access_token: token } = await refreshed.json()
    const response = await fetch('/api/auth/me', { headers: { Authorization: `Bearer ${token}` } })
    return response.json()
  })
  if (me.email !== 'gina.google@example.com' || me.role !== 'learner') throw new Error(`signed in as ${JSON.stringify(me)}`)
  log(`signed in with Google as ${me.email} (${me.role}); live link open; no token readable by scripts`)

  // A callback this browser did not start (no state kept by the tab, or a replayed one) is refused.
  const replay = await newPage(page.context())
  await replay.goto(BASE_URL + '/auth/google/callback?code=someone-elses-code&state=someone-elses-state')
  await replay.getByText(/cancelled or is invalid/).waitFor()
  if (!replay.url().includes('/auth/google/callback')) throw new Error(`refused callback navigated to ${replay.url()}`)
  log('a callback the tab did not start is refused')
})
