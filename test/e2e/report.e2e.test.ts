import {existsSync} from 'node:fs'
import {copyFile, mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {chromium} from 'playwright-core'
import {describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {FULL_ANSWERS, seedIncident} from '../helpers/report-fixture.js'

/**
 * End-to-end tier: the generated report.html opened in a real headless Chromium (Debian package
 * `chromium`, installed by scripts/test.sh as root). Skipped when Chromium is missing on a developer
 * machine; with CI=true a missing Chromium is a failure, never a skip.
 */
const CHROMIUM = process.env.IR_CHROMIUM ?? '/usr/bin/chromium'
const HAVE_CHROMIUM = existsSync(CHROMIUM)
const MUST_RUN = process.env.CI === 'true'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const EVIL = '<script>alert(1)</script> and *bold*|pipe'

describe('the HTML report in headless Chromium', () => {
  it.skipIf(!HAVE_CHROMIUM && !MUST_RUN)(
    'opens without console errors, page errors or requests, and is screenshotted',
    async () => {
      if (!HAVE_CHROMIUM)
        throw new Error(
          `Chromium not found at ${CHROMIUM}, and CI=true: install the Debian package chromium (scripts/test.sh does so as root) or set IR_CHROMIUM`,
        )
      const tmp = await tempDir('ir-e2e-report-')
      const incidents = join(tmp, 'incidents')
      const env = {IR_INCIDENTS_DIR: incidents}
      const CASE = 'CASE-E2E-REPORT'
      const start = new Date(Date.now() - 3 * 3600_000)
      await seedIncident(incidents, CASE, {start, container: 'web-1'})
      const ev = await runIr(
        ['case', 'event', CASE, '--at', new Date(start.getTime() + 30 * 60_000).toISOString(), '--message', EVIL],
        {env},
      )
      expect(ev.exitCode, ev.stderr).toBe(0)
      const answers = join(tmp, 'answers.yml')
      await writeFile(answers, FULL_ANSWERS)
      const r = await runIr(['report', '--case', CASE, '--answers', answers, '--status', 'reviewed'], {env})
      expect(r.exitCode, r.stderr).toBe(0)
      const html = join(incidents, CASE, 'report.html')

      const browser = await chromium.launch({executablePath: CHROMIUM, args: ARGS, headless: true})
      try {
        const page = await browser.newPage({
          viewport: {width: 1280, height: 900},
          deviceScaleFactor: 1,
          javaScriptEnabled: true,
        })
        const problems: string[] = []
        const requests: string[] = []
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`)
        })
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
        page.on('requestfailed', (req) =>
          problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`),
        )
        page.on('request', (req) => requests.push(req.url()))
        page.on('dialog', (d) => {
          problems.push(`dialog opened: ${d.message()}`)
          void d.dismiss()
        })

        const url = pathToFileURL(html).href
        const response = await page.goto(url, {waitUntil: 'load'})
        expect(response?.ok()).toBe(true)

        // Self-contained: the only request is the file itself; no script element at all.
        expect(requests).toEqual([url])
        expect(await page.locator('script').count()).toBe(0)
        expect(await page.title()).toContain(CASE)
        // Case text renders as literal text, not markup.
        const text = await page.locator('body').innerText()
        expect(text).toContain(EVIL)
        expect(text).toContain('Drop <script>alert(1)</script> and *bold*|pipe into the WAF rules')
        expect(text).not.toContain('To be completed')
        // The phase chart: an inline SVG with the five milestones.
        const chart = page.locator('svg.chart')
        expect(await chart.count()).toBe(1)
        expect(await chart.locator('desc').textContent()).toMatch(
          /Detected: .*Contained: .*Evidence secured: .*Credentials rotated: .*Recovered: /,
        )
        expect((await chart.boundingBox())?.height ?? 0).toBeGreaterThan(100)

        const png = join(tmp, 'report.png')
        await page.screenshot({path: png, fullPage: true})
        await page.emulateMedia({media: 'print'})
        const pdf = await page.pdf({format: 'A4', printBackground: true})
        expect(problems).toEqual([])

        const bytes = await readFile(png)
        expect((await stat(png)).size).toBeGreaterThan(10 * 1024)
        expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true)
        expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
        if (process.env.IR_E2E_ARTIFACTS) {
          await mkdir(process.env.IR_E2E_ARTIFACTS, {recursive: true})
          await copyFile(png, join(process.env.IR_E2E_ARTIFACTS, 'report.png'))
          await writeFile(join(process.env.IR_E2E_ARTIFACTS, 'report.pdf'), pdf)
          await copyFile(html, join(process.env.IR_E2E_ARTIFACTS, 'report.html'))
        }
      } finally {
        await browser.close()
      }
    },
  )
})
