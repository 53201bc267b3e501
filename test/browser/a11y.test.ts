/**
 * Accessibility with axe-core, in a real browser: the dashboard with every tile kind, /embed and
 * an embed, in light and dark: no serious or critical violations (contrast included), and every
 * chart and gauge has a text alternative. Also the screenshots of every kind, desktop and phone.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AxeBuilder } from '@axe-core/playwright'
import { SUB_TOKEN, publish, startApp } from '../helper.ts'
import { launch, screenshot, watchErrors } from './browser.ts'

const KINDS = {
  auth: { subscribeToken: SUB_TOKEN },
  topics: { sales: { title: 'Sales' }, queue: { title: 'Queue' }, deploys: { title: 'Deploys' }, ci: { title: 'CI' }, temps: { title: 'Temperatures' } },
  producers: { clock: { enabled: true, schedule: '* * * * * *' } },
  dashboards: {
    main: {
      title: 'Every kind',
      tiles: [
        { topic: 'clock' },
        { topic: 'sales', kind: 'number', field: 'total', unit: '€', format: { decimals: 0 }, thresholds: { warn: 1000, critical: 500, direction: 'below' } },
        { topic: 'temps', kind: 'gauge', field: 'cpu', min: 0, max: 100, format: { style: 'percent' }, thresholds: { warn: 80, critical: 95 } },
        { topic: 'temps', kind: 'chart', title: 'Temperatures over time', fields: ['cpu', 'gpu'], unit: '°C', width: 2 },
        { topic: 'queue', kind: 'list', field: 'items', label: 'name', value: 'depth', limit: 8 },
        { topic: 'deploys', kind: 'text', field: 'message', lines: 3 },
        { topic: 'ci', kind: 'status', field: 'state', states: { passed: 'ok', failed: 'critical', running: 'warn' } },
        { topic: 'deploys', kind: 'list', title: 'Deploy log', value: 'message', limit: 5 },
        { topic: 'sales', kind: 'generic', title: 'Raw sales' }
      ]
    }
  }
}

async function fill (url: string): Promise<void> {
  for (const [total, cpu, gpu] of [[1200, 40, 55], [900, 62, 58], [450, 97, 71]] as const) {
    await publish(url, 'sales', { total })
    await publish(url, 'temps', { cpu, gpu })
  }
  await publish(url, 'queue', { items: [{ name: 'emails', depth: 12 }, { name: 'thumbnails', depth: 3 }, { name: 'exports <b>', depth: 0 }] })
  await publish(url, 'deploys', { message: 'api 2.14.0 rolled out to eu-west: 12 nodes, no errors. '.repeat(6) })
  await publish(url, 'ci', { state: 'failed' })
}

test('no serious or critical accessibility violations, light and dark, on /, /embed and an embed; every kind at first paint', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const { url } = await startApp(t, KINDS)
  await fill(url)
  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1400, height: 1000 } })
    t.after(() => context.close())
    const page = await context.newPage()
    const errors = watchErrors(page)
    for (const path of ['/', '/embed', '/embed/temps?compact=1']) {
      await page.goto(`${url}${path}`)
      await page.waitForSelector('[data-conn="live"]', { timeout: 5000 })
      const { violations } = await new AxeBuilder({ page }).analyze()
      const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      assert.deepEqual(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], `${path} in ${scheme}`)
    }
    await page.goto(url)
    await page.waitForSelector('[data-conn="live"]', { timeout: 5000 })
    const unlabelled = await page.locator('svg[role="img"]:not([aria-label])').count()
    assert.equal(unlabelled, 0, 'every chart and gauge says what it shows')
    assert.match(await page.locator('.tile-chart svg[role="img"]').getAttribute('aria-label') ?? '', /^Chart of cpu, gpu.*now cpu 97 °C, gpu 71 °C$/)
    assert.match(await page.locator('.tile-number .big').textContent() ?? '', /^450 €\s*critical$/)
    assert.match(await page.locator('.tile-number .change').textContent() ?? '', /−450 €/)
    assert.equal(await page.locator('.tile-status').textContent().then((s) => s?.includes('failed')), true)
    assert.equal(await page.locator('.tile-list .rows li').first().textContent().then((s) => s?.replace(/\s+/g, ' ').trim()), 'emails 12')
    await screenshot(page, `kinds-${scheme}.png`)
    assert.deepEqual(errors, [])
  }
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })
  t.after(() => phone.close())
  const page = await phone.newPage()
  await page.goto(url)
  await page.waitForSelector('[data-conn="live"]', { timeout: 5000 })
  const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  assert.equal(overflow, 0, 'nothing wider than a phone')
  await screenshot(page, 'kinds-phone.png')
})

test('every kind at first paint with JavaScript off, then live with it on', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const { url } = await startApp(t, KINDS)
  await fill(url)
  const off = await browser.newContext({ javaScriptEnabled: false })
  t.after(() => off.close())
  const page = await off.newPage()
  await page.goto(url)
  const firstPaint = {
    number: await page.locator('.tile-number .big').textContent(),
    gauge: await page.locator('.tile-gauge .gauge-value').textContent(),
    chart: (await page.locator('.tile-chart polyline.s0').getAttribute('points'))?.split(' ').length,
    list: await page.locator('.tile-list .rows:not(.log) li').count(),
    log: await page.locator('.tile-list .rows.log li').count(),
    text: (await page.locator('.tile-text .text').textContent())?.startsWith('api 2.14.0 rolled out'),
    status: await page.locator('.tile-status .status b').textContent()
  }
  assert.deepEqual(firstPaint, { number: '450 € critical', gauge: '97 %', chart: 3, list: 3, log: 1, text: true, status: 'failed' })

  const live = await browser.newPage()
  t.after(() => live.close())
  const errors = watchErrors(live)
  await live.goto(url)
  await live.waitForSelector('[data-conn="live"]', { timeout: 5000 })
  await publish(url, 'sales', { total: 1500 })
  await publish(url, 'temps', { cpu: 12, gpu: 30 })
  await publish(url, 'ci', { state: 'passed' })
  await live.locator('.tile-number .big', { hasText: '1,500 €' }).waitFor({ timeout: 3000 })
  assert.match(await live.locator('.tile-number .change').textContent() ?? '', /\+1,050 €/)
  await live.locator('.tile-gauge .gauge-value', { hasText: '12 %' }).waitFor({ timeout: 3000 })
  assert.equal((await live.locator('.tile-chart polyline.s0').getAttribute('points'))?.split(' ').length, 4)
  await live.locator('.tile-status.level-ok, .tile-status .level-ok').first().waitFor({ timeout: 3000 })
  assert.deepEqual(errors, [])
})
