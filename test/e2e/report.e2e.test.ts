import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {copyFile, mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {execa, execaSync} from 'execa'
import {chromium} from 'playwright-core'
import {describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
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
const VNU_JAR = createRequire(import.meta.url).resolve('vnu-jar/build/dist/vnu.jar')
const HAVE_JAVA = execaSyncOk('java', ['-version'])
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
function execaSyncOk(file: string, args: string[]): boolean {
  try {
    return execaSync(file, args, {reject: false}).exitCode === 0
  } catch {
    return false
  }
}

/** 210 mm less 2 × 12 mm of @page margin, in CSS pixels (96 per inch). */
const A4_CONTENT_PX = Math.floor(((210 - 24) / 25.4) * 96)
/**
 * Runs in the page: every element whose content is wider than its box (scrollWidth > clientWidth;
 * inline boxes report 0 for both), the document's width, and each table's right edge.
 */
/** What the measure reads of the page's DOM (the test's tsconfig has no DOM library). */
interface Box {
  scrollWidth: number
  clientWidth: number
  tagName: string
  className: unknown
  textContent: string | null
  parentElement: Box | null
  closest(selector: string): {id: string} | null
  getBoundingClientRect(): {right: number}
}
const MEASURE = (): {
  overflowing: string[]
  documentWidth: number
  tables: number
  widestTable: number
  tablesOutside: string[]
} => {
  const document = (
    globalThis as unknown as {document: {documentElement: Box; querySelectorAll(s: string): Iterable<Box>}}
  ).document
  const name = (el: Box): string => {
    const section = el.closest('section')?.id ?? 'header'
    const cls = typeof el.className === 'string' && el.className ? `.${el.className.split(' ').join('.')}` : ''
    return `${section}: ${el.tagName.toLowerCase()}${cls} ${el.scrollWidth}>${el.clientWidth} "${(el.textContent ?? '').slice(0, 40)}"`
  }
  const overflowing: string[] = []
  for (const el of document.querySelectorAll('body *')) if (el.scrollWidth > el.clientWidth) overflowing.push(name(el))
  const width = document.documentElement.clientWidth
  const tables = [...document.querySelectorAll('table')]
  return {
    overflowing,
    documentWidth: document.documentElement.scrollWidth,
    tables: tables.length,
    widestTable: Math.max(0, ...tables.map((t) => Math.ceil(t.getBoundingClientRect().right))),
    tablesOutside: tables
      .filter((t) => t.getBoundingClientRect().right > width || t.scrollWidth > (t.parentElement?.clientWidth ?? 0))
      .map(name),
  }
}

/**
 * Values as long as the real ones, added to the seeded incident: a rebuild whose images are full
 * digests (as `ir rebuild` records them: service -> sha256), a credential with a long name, a
 * snapshot's findings with file hashes, a hardening audit with a critical finding, a long evidence path.
 */
async function seedWideValues(root: string, id: string): Promise<void> {
  const {kase} = await new CaseStore(root).open({id})
  const d = (ch: string): string => `sha256:${ch.repeat(64)}`
  await kase.record({
    action: 'rotate.decision',
    outcome: 'skipped',
    details: {
      name: 'CHECKOUT_PAYMENTS_PROVIDER_WEBHOOK_SIGNING_SECRET_FOR_THE_EU_WEST_REGION_2026',
      kind: 'env',
      sources: ['checkout-payments-webhook-receiver-eu-west-1', 'checkout-payments-webhook-receiver-eu-west-2'],
      decision: 'skipped',
      reason: 'owned by the payments team, rotated with them in the morning',
    },
    msg: 'skipped',
  })
  await kase.addEvidence({
    name: 'checkout-payments-webhook-receiver-eu-west-1/filesystem/var/lib/checkout/uploads/plugins/exploit-payload-dropper.tar',
    type: 'container-files',
    source: {
      containerName: 'checkout-payments-webhook-receiver-eu-west-1',
      image: `registry.example.com/shop/checkout-payments@${d('e')}`,
    },
    content: 'x',
  })
  await kase.record({
    action: 'snapshot',
    target: 'web-1',
    outcome: 'success',
    msg: 'Snapshot of web-1 with findings',
    details: {
      findings: [
        {
          id: 'miner',
          severity: 'critical',
          message:
            'a process named xmrig-6.21.0-linux-static-x64 runs from /tmp/.X11-unix/.cache/xmrig-6.21.0-linux-static-x64',
          artifact: 'web-1/live-processes-with-a-rather-long-artifact-name.json',
          iocs: [
            {type: 'file', value: '/tmp/.X11-unix/.cache/xmrig-6.21.0-linux-static-x64/xmrig', sha256: 'c'.repeat(64)},
            {type: 'ipv4', value: '203.0.113.77:14444'},
          ],
        },
      ],
    },
  })
  await kase.record({
    action: 'rebuild',
    target: 'shop',
    outcome: 'success',
    msg: 'Rebuilt shop: 3 service(s) healthy',
    details: {
      project: 'shop-checkout-production',
      services: [
        {service: 'web', container: 'shop-web-1', image: d('b')},
        {service: 'worker', container: 'shop-worker-1', image: d('d')},
        {
          service: 'checkout-payments-webhook-receiver',
          container: 'shop-checkout-payments-webhook-receiver-1',
          image: d('f'),
        },
      ],
      imagesBefore: {web: d('c'), worker: d('a'), 'checkout-payments-webhook-receiver': d('9')},
      imagesAfter: {web: d('b'), worker: d('d'), 'checkout-payments-webhook-receiver': d('f')},
      unhealthy: [],
    },
  })
  await kase.record({
    action: 'audit.hardening',
    outcome: 'success',
    msg: 'Hardening audit of 1 container(s): 1 critical, 0 high, 0 medium, 0 low',
    details: {
      containers: [
        {
          name: 'checkout-payments-webhook-receiver-eu-west-1',
          findings: [
            {
              check: 'docker-socket-mounted-read-write',
              cis: '5.31',
              level: 1,
              severity: 'critical',
              message: 'mounts the Docker socket /var/run/docker.sock: treat the host as compromised',
            },
          ],
        },
      ],
    },
  })
}

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
      await seedWideValues(incidents, CASE)
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

        // Layout at 1280 px, measured from the page itself: no element is wider than its own box
        // (nothing overflows and nothing scrolls sideways), and the document is no wider than the window.
        const screen = await page.evaluate(MEASURE)
        expect(screen.overflowing, 'elements wider than their box at 1280 px').toEqual([])
        expect(screen.documentWidth).toBeLessThanOrEqual(1280)
        expect(screen.tables).toBeGreaterThanOrEqual(10)
        // The long digests are shortened in view, the full value kept in the title and in the list below.
        const digest = page.locator('.digest[title="sha256:' + 'c'.repeat(64) + '"]').first()
        expect(await digest.innerText()).toMatch(/^sha256:c{12}…$/)
        expect(await page.locator('#recovery ol.digests').innerText()).toContain(`sha256:${'c'.repeat(64)}`)

        const png = join(tmp, 'report.png')
        await page.screenshot({path: png, fullPage: true})

        // Print: the same measure in print media at the A4 content width (210 mm less the @page
        // margins of 12 mm each side), where Chromium lays the page out for the PDF.
        await page.emulateMedia({media: 'print'})
        await page.setViewportSize({width: A4_CONTENT_PX, height: 1123})
        const print = await page.evaluate(MEASURE)
        expect(print.overflowing, 'elements wider than their box on A4').toEqual([])
        expect(print.documentWidth).toBeLessThanOrEqual(A4_CONTENT_PX)
        expect(print.widestTable).toBeLessThanOrEqual(A4_CONTENT_PX)
        expect(print.tablesOutside, 'tables reaching past the A4 content width').toEqual([])
        const pdf = await page.pdf({format: 'A4', printBackground: true, preferCSSPageSize: true})
        expect(problems).toEqual([])

        const bytes = await readFile(png)
        expect((await stat(png)).size).toBeGreaterThan(10 * 1024)
        expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true)
        expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
        // The Nu Html Checker (devDependency vnu-jar, run on the machine's Java): no error, no warning, CSS included.
        if (HAVE_JAVA || MUST_RUN) {
          const vnu = await execa('java', ['-jar', VNU_JAR, '--format', 'json', '--also-check-css', html], {
            reject: false,
          })
          const messages = (
            JSON.parse(vnu.stderr) as {messages: Array<{type: string; subType?: string; message: string}>}
          ).messages
          expect(messages.filter((x) => x.type === 'error' || x.subType === 'warning')).toEqual([])
          expect(vnu.exitCode).toBe(0)
        }
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
