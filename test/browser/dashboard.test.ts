/**
 * The dashboard and embeds in a real browser: first paint, live updates, a server restart,
 * an iframe and an htmx page on another origin. Screenshots land in test-artifacts/.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { publish, startApp, waitUntil, type Started } from '../helper.ts'
import type { Page } from 'playwright-core'
import { launch, screenshot, watchErrors } from './browser.ts'

const require = createRequire(import.meta.url)

/** The shape of the config under test: a clock, a feed-kind tile fed by POSTs, a generic tile. */
function boardConfig (port: number, otherOrigin = 'http://127.0.0.1:1'): Record<string, unknown> {
  return {
    server: { port },
    topics: { headlines: { title: 'Headlines' }, 'headlines.status': {}, notes: { title: 'Notes' }, load: { title: 'Load' } },
    producers: { clock: { enabled: true, schedule: '* * * * * *', timeZones: ['UTC', 'Asia/Tokyo'] } },
    dashboards: {
      main: { title: 'Test board', tiles: [{ topic: 'clock' }, { topic: 'headlines', kind: 'feed' }, { topic: 'notes' }] },
      charts: { title: 'Charts', tiles: [{ topic: 'load', kind: 'chart', fields: ['a', 'b'], min: 0, max: 10 }] }
    },
    cors: { origins: [otherOrigin] },
    embed: { frameAncestors: [otherOrigin] },
    sse: { retryMs: 200 }
  }
}

/** Waits until the first element matching `selector` has text that satisfies `ok`. */
async function waitForText (page: Page, selector: string, ok: (text: string) => boolean, timeoutMs: number): Promise<void> {
  await waitUntil(async () => ok(await page.locator(selector).first().textContent({ timeout: timeoutMs }) ?? ''), timeoutMs, `${selector} to change`)
}

const item = (title: string): Record<string, unknown> =>
  ({ feed: 'wire', source: 'Wire', title, link: `https://example.com/${encodeURIComponent(title)}`, published: new Date().toISOString(), summary: '' })

/** A page server on another origin (another port): serves `html` at / and htmx from node_modules. */
async function otherOrigin (t: TestContext, html: () => string): Promise<string> {
  const files: Record<string, string> = {
    '/htmx.min.js': require.resolve('htmx.org/dist/htmx.min.js'),
    '/sse.js': require.resolve('htmx-ext-sse/dist/sse.js')
  }
  const server = createServer((req, res) => {
    const file = files[req.url ?? '']
    if (file !== undefined) {
      res.writeHead(200, { 'content-type': 'text/javascript' })
      res.end(readFileSync(file))
      return
    }
    if (req.url !== '/') {
      res.writeHead(204) // favicon.ico and the like: nothing, and no 404 in the console
      res.end()
      return
    }
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(html())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => { server.closeAllConnections(); server.close() })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}`
}

/**
 * A Ticker that allows another origin, and a browser page on that origin showing `html(tickerUrl)`.
 * Undefined when the browser test is skipped.
 */
async function openOnOtherOrigin (t: TestContext, html: (tickerUrl: string) => string): Promise<{ url: string, page: Page, errors: string[] } | undefined> {
  const browser = await launch(t)
  if (browser === undefined) return undefined
  let tickerUrl = ''
  const other = await otherOrigin(t, () => html(tickerUrl))
  const { url } = await startApp(t, boardConfig(0, other))
  tickerUrl = url
  const page = await browser.newPage()
  t.after(() => page.close())
  const errors = watchErrors(page)
  await page.goto(other)
  return { url, page, errors }
}

test('first paint has every value, even with JavaScript off', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const { url } = await startApp(t, boardConfig(0))
  await publish(url, 'headlines', item('Morning headline'))
  await publish(url, 'notes', { text: 'pinned <b>note</b>' })
  await waitUntil(async () => (await (await fetch(`${url}/topics/clock/events`)).json() as { events: unknown[] }).events.length > 0, 5000, 'a clock tick')
  const context = await browser.newContext({ javaScriptEnabled: false })
  t.after(() => context.close())
  const page = await context.newPage()
  await page.goto(url)
  assert.match(await page.textContent('[data-topic="clock"] .big') ?? '', /^\d\d:\d\d:\d\d$/)
  assert.equal(await page.textContent('[data-topic="headlines"] .headlines a'), 'Morning headline')
  assert.match(await page.textContent('[data-topic="notes"] pre') ?? '', /"text": "pinned <b>note<\/b>"/)
  assert.equal(await page.locator('[data-topic="notes"] pre b').count(), 0, 'published markup is shown as text')
  assert.match(await page.locator('.conn:visible').textContent() ?? '', /^Updates need JavaScript/, 'not "Connecting…" forever')
  assert.equal(await page.locator('.conn:visible').count(), 1)
})

test('live: the clock ticks, published events appear, light and dark look right, no console errors', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const { url } = await startApp(t, boardConfig(0))
  for (const scheme of ['light', 'dark'] as const) {
    const page = await browser.newPage({ colorScheme: scheme, viewport: { width: 1280, height: 800 } })
    t.after(() => page.close())
    const errors = watchErrors(page)
    await page.goto(url)
    await page.waitForSelector('[data-conn="live"]', { timeout: 5000 })
    const before = await page.textContent('[data-topic="clock"] .big')
    await waitForText(page, '[data-topic="clock"] .big', (text) => text !== before, 2500)

    const title = `Fresh ${scheme} <script>window.pwned = 1</script> story`
    await publish(url, 'headlines', item(title))
    await waitForText(page, '[data-topic="headlines"] .headlines a', (text) => text === title, 3000)
    assert.equal(await page.evaluate('"pwned" in window'), false)
    await publish(url, 'notes', { scheme })
    await waitForText(page, '[data-topic="notes"] pre', (text) => text.includes(`"scheme": "${scheme}"`), 3000)
    assert.equal(await page.textContent('[data-conn-text]'), 'Live')
    await screenshot(page, `dashboard-${scheme}.png`)
    assert.deepEqual(errors, [])
  }
})

test('a server restart: reconnecting, then live again with current values and no duplicate headlines', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  let server: Started = await startApp(t, boardConfig(0))
  const port = server.port
  await publish(server.url, 'headlines', item('Alpha'))
  await publish(server.url, 'headlines', item('Beta'))
  const page = await browser.newPage()
  t.after(() => page.close())
  await page.goto(server.url)
  await page.waitForSelector('[data-conn="live"]', { timeout: 5000 })
  await page.evaluate('window.sameDocument = true') // gone if the page reloads

  await server.app.close()
  await page.waitForSelector('[data-conn="reconnecting"], [data-conn="offline"]', { timeout: 5000 })
  const stoppedClock = await page.textContent('[data-topic="clock"] .big')
  // Every tile says its data is stale, and since when; the frozen clock with them.
  await page.waitForSelector('body.stale', { timeout: 2000 })
  assert.equal(await page.locator('[data-tile] .stale-note').count(), 3)
  assert.match(await page.locator('[data-topic="clock"] .stale-note').textContent() ?? '', /^Not live since \d/)
  await screenshot(page, 'dashboard-stale.png')

  server = await startApp(t, boardConfig(port)) // same address, new life: its history starts empty
  await publish(server.url, 'headlines', item('Alpha')) // a feed producer re-publishes what it sees
  await publish(server.url, 'headlines', item('Beta'))
  await publish(server.url, 'headlines', item('Gamma'))
  await page.waitForSelector('[data-conn="live"]', { timeout: 10_000 })
  assert.equal(await page.locator('.stale-note').count(), 0, 'live again: no tile says it is stale')
  await waitForText(page, '[data-topic="headlines"] .headlines a', (text) => text === 'Gamma', 5000)
  await waitForText(page, '[data-topic="clock"] .big', (text) => text !== stoppedClock, 3000)
  const headlines = await page.locator('[data-topic="headlines"] .headlines a').allTextContents()
  assert.deepEqual(headlines, ['Gamma', 'Beta', 'Alpha'])
  assert.equal(await page.evaluate('window.sameDocument'), true, 'no reload happened')
})

test('an embed in an iframe on another origin updates live', async (t) => {
  const opened = await openOnOtherOrigin(t, (ticker) => `<!doctype html><title>Partner</title><h1>Partner site</h1>
<iframe id="tile" src="${ticker}/embed/headlines?theme=dark&compact=1" width="420" height="300"></iframe>`)
  if (opened === undefined) return
  const { url, page, errors } = opened
  const frame = page.frameLocator('#tile')
  await frame.locator('[data-conn="live"]').waitFor({ timeout: 5000 })
  await publish(url, 'headlines', item('Seen through the iframe'))
  await frame.locator('.headlines a', { hasText: 'Seen through the iframe' }).waitFor({ timeout: 3000 })
  await screenshot(page, 'embed-iframe.png')
  assert.deepEqual(errors, [])
})

test('a plain page on another origin shows a live tile with htmx\'s SSE extension', async (t) => {
  const opened = await openOnOtherOrigin(t, (ticker) => `<!doctype html><title>htmx</title>
<script src="/htmx.min.js"></script><script src="/sse.js"></script>
<div id="live" hx-ext="sse" sse-connect="${ticker}/topics/headlines/stream?format=html" sse-swap="headlines">Loading…</div>`)
  if (opened === undefined) return
  const { url, page, errors } = opened
  await waitUntil(async () => (await (await fetch(`${url}/topics`)).json() as { topics: Array<{ name: string, subscribers: number }> })
    .topics.find((x) => x.name === 'headlines')?.subscribers === 1, 5000, 'the htmx page to connect')
  await publish(url, 'headlines', item('Swapped in by htmx'))
  await page.locator('#live .headlines a', { hasText: 'Swapped in by htmx' }).waitFor({ timeout: 3000 })
  await publish(url, 'headlines.status', { state: 'error', reason: 'upstream is down', lastSuccessAt: null })
  await page.locator('#live .feed-error', { hasText: 'upstream is down' }).waitFor({ timeout: 3000 })
  assert.deepEqual(errors, [])
})

test('kiosk: no chrome and large type; with ?rotate the screen moves on to the next dashboard by itself', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const config = boardConfig(0)
  const { url } = await startApp(t, { ...config, dashboards: { ...(config.dashboards as object), second: { title: 'Second', tiles: [{ topic: 'notes' }] } } })
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } })
  t.after(() => page.close())
  const errors = watchErrors(page)
  await page.goto(`${url}/?kiosk=1&rotate=2`)
  await page.waitForSelector('[data-conn="live"]', { timeout: 5000 })
  assert.equal(await page.locator('nav, footer, .bar').count(), 0, 'no chrome')
  const size = await page.evaluate('parseFloat(getComputedStyle(document.body).fontSize)')
  assert.ok(Number(size) >= 22, `large type (${String(size)} px)`)
  await screenshot(page, 'dashboard-kiosk.png')
  await page.waitForURL(/\/d\/second\?kiosk=1&rotate=2$/, { timeout: 8000 })
  await page.waitForSelector('[data-conn="live"]', { timeout: 5000 })
  assert.deepEqual(errors, [])
})

test('a chart swapped into a page with none of Ticker\'s CSS draws as lines, not black shapes', async (t) => {
  const opened = await openOnOtherOrigin(t, (ticker) => `<!doctype html><title>htmx</title>
<script src="/htmx.min.js"></script><script src="/sse.js"></script>
<div id="live" style="width: 600px" hx-ext="sse" sse-connect="${ticker}/topics/load/stream?format=html" sse-swap="load">Loading…</div>`)
  if (opened === undefined) return
  const { url, page, errors } = opened
  await waitUntil(async () => (await (await fetch(`${url}/topics`)).json() as { topics: Array<{ name: string, subscribers: number }> })
    .topics.find((x) => x.name === 'load')?.subscribers === 1, 5000, 'the htmx page to connect')
  for (const [a, b] of [[1, 5], [3, 4], [2, 8]]) await publish(url, 'load', { a, b })
  await page.locator('#live polyline.s1').waitFor({ timeout: 3000 })
  await waitUntil(async () => (await page.locator('#live polyline.s0').getAttribute('points'))?.split(' ').length === 3, 3000, 'three samples')
  const line = await page.locator('#live polyline.s0').evaluate((el) => {
    const style = el.ownerDocument.defaultView?.getComputedStyle(el)
    return { fill: style?.fill, stroke: style?.stroke }
  })
  assert.deepEqual(line, { fill: 'none', stroke: 'rgb(11, 98, 196)' })
  const box = await page.locator('#live figure.chart > svg').boundingBox()
  assert.ok(box !== null && box.height < 300 && box.width <= 600, `a chart of a sensible size: ${JSON.stringify(box)}`)
  await screenshot(page, 'fragment-without-css.png')
  assert.deepEqual(errors, [])
})

test('<ticker-tile> on another origin: renders in its shadow root, stays live, says when it is stale, and resumes', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  let tickerUrl = ''
  const other = await otherOrigin(t, () => `<!doctype html><title>Element</title><h1>Partner</h1>
<script type="module" src="${tickerUrl}/static/js/ticker-tile.js"></script>
<ticker-tile topic="headlines" theme="dark" label="Their news"></ticker-tile>`)
  let server = await startApp(t, boardConfig(0, other))
  tickerUrl = server.url
  const page = await browser.newPage()
  t.after(() => page.close())
  const errors = watchErrors(page)
  await page.goto(other)
  const tile = page.locator('ticker-tile')
  await tile.locator('[data-conn="live"]').waitFor({ timeout: 5000 })
  assert.equal(await tile.locator('h2').textContent(), 'Their news')
  await publish(server.url, 'headlines', item('Inside the shadow root'))
  await tile.locator('.headlines a', { hasText: 'Inside the shadow root' }).waitFor({ timeout: 3000 })
  assert.equal(await page.locator('body > .headlines').count(), 0, 'nothing leaks into the page')
  await screenshot(page, 'ticker-tile-dark.png')

  const port = server.port
  await server.app.close()
  await tile.locator('.stale-note').waitFor({ timeout: 5000 })
  server = await startApp(t, boardConfig(port, other))
  await publish(server.url, 'headlines', item('After the restart'))
  await tile.locator('.headlines a', { hasText: 'After the restart' }).waitFor({ timeout: 15_000 })
  assert.equal(await tile.locator('.stale-note').count(), 0)
  assert.deepEqual(errors.filter((e) => !e.includes('ERR_CONNECTION_REFUSED') && !e.includes('EventSource')), [])
})

test('eight <ticker-tile> elements on one page share one stream: all live (browsers allow six connections per origin); an unknown topic says so', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  let tickerUrl = ''
  const names = Array.from({ length: 8 }, (_, i) => `room${i}`)
  const other = await otherOrigin(t, () => `<!doctype html><title>Many</title>
<script type="module" src="${tickerUrl}/static/js/ticker-tile.js"></script>
${names.map((n) => `<ticker-tile topic="${n}"></ticker-tile>`).join('\n')}
<ticker-tile topic="nope"></ticker-tile>`)
  const config = boardConfig(0, other)
  const { url } = await startApp(t, { ...config, topics: { ...(config.topics as object), ...Object.fromEntries(names.map((n) => [n, {}])) } })
  tickerUrl = url
  const page = await browser.newPage()
  t.after(() => page.close())
  const errors = watchErrors(page)
  await page.goto(other)
  await page.locator('ticker-tile[topic="room7"] [data-conn="live"]').waitFor({ timeout: 5000 })
  for (const name of names) await publish(url, name, { hello: name })
  for (const name of names) await page.locator(`ticker-tile[topic="${name}"] pre`, { hasText: `"hello": "${name}"` }).waitFor({ timeout: 3000 })
  assert.match(await page.locator('ticker-tile[topic="nope"] .tile-body').textContent() ?? '', /"nope" is not a public topic of this Ticker/)
  const metrics = await (await fetch(`${url}/metrics`)).text()
  assert.match(metrics, /^ticker_sse_open_streams 1$/m, 'one stream for the whole page')
  assert.deepEqual(errors, [])
})
