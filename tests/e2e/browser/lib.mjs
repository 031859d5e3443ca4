// Shared pieces of the browser scenarios: Debian's Chromium through playwright-core from
// frontend/node_modules (never a downloaded browser), the REST calls that set up data, sign-in by the
// refresh cookie, bounded waits, screenshots, and a runner that fails loudly with context (and on any
// Content-Security-Policy violation).
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(new URL('../../../frontend/package.json', import.meta.url))
const { chromium } = require('playwright-core')

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8000'
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? 'test-artifacts/screenshots'
export const PASSWORD = 'LearnFlow123'
export const DEMO = {
  admin: 'avery.admin@learnflow.demo',
  instructor: 'ada.lovelace@learnflow.demo',
  learner: 'maya.patel@learnflow.demo',
}
const REFRESH_COOKIE = 'lf_refresh'
const SESSION_HINT_KEY = 'learnflow.session'
const started = Date.now()

export function log(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`)
}

export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  })
}

// ---- REST set-up -------------------------------------------------------------------------------------

export async function rest(method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(BASE_URL + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await response.text()
  const data = text ? JSON.parse(text) : null
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`)
  return data
}

export const login = (email, password = PASSWORD) => rest('POST', '/api/auth/login', { body: { email, password } })

export function uniqueEmail(prefix) {
  return `${prefix}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@e2e.example.com`
}

/** A fresh learner account: { email, first, last, tokens, user }. */
export async function newLearner(first = 'Erin', last = 'Tester') {
  const email = uniqueEmail(first.toLowerCase())
  const tokens = await rest('POST', '/api/auth/register', {
    body: { email, first_name: first, last_name: last, password: PASSWORD },
  })
  const user = await rest('GET', '/api/auth/me', { token: tokens.access_token })
  return { email, first, last, tokens, user }
}

/** A published course of the signed-in instructor (the demo's Ada teaches "Python from Scratch"), with its
 * lessons, and the instructor. */
export async function instructorCourse(instructorTokens, title = 'Python from Scratch') {
  const me = await rest('GET', '/api/auth/me', { token: instructorTokens.access_token })
  const courses = await rest('GET', '/api/courses?limit=100', { token: instructorTokens.access_token })
  const mine = courses.filter((course) => course.instructor_id === me.id && course.is_published)
  const owned = mine.find((course) => course.title === title) ?? mine[0]
  if (!owned) throw new Error(`no published course of ${me.email} in ${JSON.stringify(courses.map((c) => c.title))}`)
  const detail = await rest('GET', `/api/courses/${owned.id}`, { token: instructorTokens.access_token })
  return { instructor: me, course: detail }
}

export const enroll = (courseId, tokens) => rest('POST', `/api/courses/${courseId}/enroll`, { token: tokens.access_token })

/** The demo instructor signed in, her published course (with lessons) and one fresh learner per [first, last]
 * pair, each enrolled in it: { instructorTokens, instructor, course, learners }. */
export async function courseWithLearners(...names) {
  const instructorTokens = await login(DEMO.instructor)
  const { instructor, course } = await instructorCourse(instructorTokens)
  const learners = []
  for (const [first, last] of names) {
    const learner = await newLearner(first, last)
    await enroll(course.id, learner.tokens)
    learners.push(learner)
  }
  return { instructorTokens, instructor, course, learners }
}

// ---- browser sessions --------------------------------------------------------------------------------

/** A browser context already signed in, as a browser that signed in before holds it: the refresh token
 * in the HttpOnly cookie the server sets (scoped to /api/auth/refresh) and the `learnflow.session` flag.
 * On start the SPA trades the cookie for an access token it keeps in memory. Give each context a token
 * pair of its own: the first to refresh rotates it, and the same token from another browser is reuse. */
export async function signedInContext(browser, tokens, { theme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: theme })
  await context.addCookies([
    {
      name: REFRESH_COOKIE,
      value: tokens.refresh_token,
      domain: new URL(BASE_URL).hostname,
      path: '/api/auth/refresh',
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    },
  ])
  await context.addInitScript(
    ([hintKey, themeValue]) => {
      window.localStorage.setItem(hintKey, '1')
      if (!window.localStorage.getItem('learnflow.theme')) window.localStorage.setItem('learnflow.theme', themeValue)
    },
    [SESSION_HINT_KEY, theme],
  )
  context.setDefaultTimeout(15_000)
  return context
}

/** What a page script could steal at rest: localStorage must hold no token, and the refresh cookie must
 * be invisible to document.cookie (HttpOnly) while the browser does hold it. */
export async function assertNoTokenReadable(page) {
  const readable = await page.evaluate(() => ({
    storage: Object.fromEntries(Object.keys(window.localStorage).map((key) => [key, window.localStorage.getItem(key)])),
    cookie: document.cookie,
  }))
  const jwtLike = /eyJ[\w-]+\.[\w-]+\./
  const dump = JSON.stringify(readable.storage)
  if (jwtLike.test(dump) || /refresh_token|access_token/.test(dump)) throw new Error(`tokens readable in localStorage: ${dump}`)
  if (readable.cookie.includes(REFRESH_COOKIE)) throw new Error(`refresh cookie readable by scripts: ${readable.cookie}`)
  const held = (await page.context().cookies(BASE_URL + '/api/auth/refresh')).find((cookie) => cookie.name === REFRESH_COOKIE)
  if (!held || !held.httpOnly || held.sameSite !== 'Strict' || !held.secure) {
    throw new Error(`refresh cookie missing or weak: ${JSON.stringify(held)}`)
  }
}

export async function anonymousContext(browser, { theme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: theme })
  context.setDefaultTimeout(15_000)
  return context
}

/** A new page of `context` whose console errors are reported if the scenario fails. */
export async function newPage(context) {
  const page = await context.newPage()
  watchConsole(page)
  return page
}

/** Fills form fields by their visible labels: { 'First name': 'Ada', ... }. */
export async function fillByLabel(page, fields) {
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label).fill(value)
}

/** Opens a page and waits until the live link is up (the connection indicator says `open`). */
export async function openLive(context, path) {
  const page = await newPage(context)
  await page.goto(BASE_URL + path)
  await waitLiveOpen(page)
  return page
}

export async function waitLiveOpen(page, timeout = 20_000) {
  await page.locator('[data-testid="live-status"][data-status="open"]').first().waitFor({ timeout })
}

const consoleErrors = []
const cspViolations = []
export function watchConsole(page) {
  page.on('pageerror', (error) => consoleErrors.push(`pageerror ${page.url()}: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`console ${page.url()}: ${message.text()}`)
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(`${page.url()}: ${message.text()}`)
  })
}

/** Keeps the page "recently interacted with" so the lesson player keeps sending heartbeats. */
export async function interact(page) {
  const x = 200 + Math.floor(Math.random() * 400)
  const y = 200 + Math.floor(Math.random() * 300)
  await page.mouse.move(x, y, { steps: 3 })
  await page.keyboard.press('Shift')
}

// ---- bounded waits -------------------------------------------------------------------------------------

/** Polls `probe` until it returns a truthy value; fails with `what` and the last value after `timeout`. */
export async function until(what, probe, { timeout = 20_000, interval = 250, during } = {}) {
  const deadline = Date.now() + timeout
  let last
  while (Date.now() < deadline) {
    try {
      last = await probe()
      if (last) return last
    } catch (error) {
      last = error
    }
    if (during) await during()
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
}

/** Waits until `locator` matches at least one element (attached, visible or not). */
export function untilPresent(what, locator, options = { timeout: 15_000 }) {
  return until(what, async () => (await locator.count()) > 0, options)
}

/** Waits until the number shown by `locator` (or read by `read(locator)`) is positive; returns it. */
export function untilPositive(what, locator, { read = async (target) => numberIn(await textOf(target)), ...options } = {}) {
  return until(what, async () => {
    const value = await read(locator)
    return value > 0 ? value : 0
  }, options)
}

export async function textOf(locator) {
  return ((await locator.textContent({ timeout: 2_000 })) ?? '').trim()
}

export function numberIn(text) {
  const match = /-?\d+(?:[.,]\d+)?/.exec(text.replace(/\u2212/g, '-'))
  return match ? Number(match[0].replace(',', '.')) : NaN
}

// ---- screenshots and the runner ------------------------------------------------------------------------

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name}.png`)
  await page.screenshot({ path, fullPage: true, timeout: 15_000 })
  log(`screenshot ${path}`)
  return path
}

/** Runs one scenario with a browser and a hard deadline; exits 0 only when it completed. */
export async function scenario(name, body, { timeoutMs = 90_000 } = {}) {
  let browser
  const timer = setTimeout(() => {
    console.error(`${name}: hard deadline of ${timeoutMs} ms exceeded`)
    process.exit(3)
  }, timeoutMs)
  try {
    browser = await launch()
    log(`${name}: Chromium ${browser.version()} against ${BASE_URL}`)
    await body(browser)
    // The app must run under its own Content-Security-Policy without tripping it anywhere.
    if (cspViolations.length) throw new Error(`Content-Security-Policy violations:\n  ${cspViolations.join('\n  ')}`)
    log(`${name} ok`)
    process.exitCode = 0
  } catch (error) {
    console.error(`${name} FAILED: ${error?.stack ?? error}`)
    if (browser) await failureShots(browser, name)
    if (consoleErrors.length) console.error(`browser errors:\n  ${consoleErrors.slice(-20).join('\n  ')}`)
    process.exitCode = 1
  } finally {
    clearTimeout(timer)
    if (browser) await browser.close().catch(() => {})
  }
}

async function failureShots(browser, name) {
  let index = 0
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      index += 1
      try {
        await screenshot(page, `failure-${name}-${index}`)
        console.error(`page ${index} at ${page.url()}`)
      } catch {
        // A crashed page cannot be photographed; the error above is what matters.
      }
    }
  }
}

// ---- "live, no reload" -----------------------------------------------------------------------------------

/** Marks the document; `assertNoReload` later proves the page was updated in place, not reloaded. */
export async function markDocument(page) {
  await page.evaluate(() => {
    window.__e2eMarker = 'live'
  })
}

export async function assertNoReload(page) {
  const marker = await page.evaluate(() => window.__e2eMarker ?? null)
  if (marker !== 'live') throw new Error(`${page.url()} was reloaded or navigated away (the update was not live)`)
}

/** Waits until the number shown by `locator` rises above the lowest value seen since the call (a value can
 * also decay meanwhile, e.g. a per-minute rate or presence of users who left). Returns [lowest, now]. */
export async function waitForIncrease(what, locator, { timeout = 30_000, during } = {}) {
  let lowest = Infinity
  const reached = await until(
    what,
    async () => {
      const value = numberIn(await textOf(locator))
      if (Number.isNaN(value)) return null
      if (value > lowest) return [lowest, value]
      lowest = Math.min(lowest, value)
      return null
    },
    { timeout, interval: 500, during },
  )
  return reached
}
