/**
 * Headless Debian Chromium driven by playwright-core. Missing Chromium skips browser tests on a
 * developer machine, and fails them in CI (CI=true), so CI always runs everything.
 */
import { existsSync, mkdirSync } from 'node:fs'
import type { TestContext } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url)

/** The browser, or undefined when the test was skipped for want of one. */
export async function launch (t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (apt-get install chromium)`)
    t.skip(`${CHROMIUM} is not installed (apt-get install chromium)`)
    return undefined
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']
  })
  t.after(() => browser.close())
  return browser
}

/** Console errors and uncaught page errors, collected for a "no console errors" assertion. */
export function watchErrors (page: Page): string[] {
  const errors: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') errors.push(`console: ${message.text()}`) })
  page.on('pageerror', (err) => errors.push(`page: ${err.message}`))
  return errors
}

export async function screenshot (page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = new URL(name, ARTIFACTS).pathname
  await page.screenshot({ path, fullPage: true })
  return path
}
