import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'
import {Terminal} from '../helpers/terminal.js'

/**
 * `ir respond` in a real terminal (tmux), on the practice lab: pick the compromised container,
 * approve each step, skip one credential with a reason, finish; then a walkthrough interrupted
 * after the snapshot and resumed with `ir respond --resume`.
 */
const t = new TestDocker('resp')
const labName = `irlab-${t.runId}`
let labDir: string
let incidents: string
let env: Record<string, string>
const terminals: Terminal[] = []

interface AuditEntry {
  action: string
  target?: string
  outcome: string
  details?: Record<string, unknown>
}

async function auditOf(caseId: string): Promise<AuditEntry[]> {
  return (await readFile(join(incidents, caseId, 'audit.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}

async function webContainer(): Promise<{id: string; name: string; imageId: string; state: string}> {
  const list = await t.docker.listContainers({
    all: true,
    filters: {label: [`com.docker.compose.project=${labName}`, 'com.docker.compose.service=web']},
  })
  const c = list[0]!
  return {id: c.Id, name: c.Names[0]!.replace(/^\//, ''), imageId: c.ImageID, state: c.State}
}

/** The active inquirer question: the last line starting with "? ". */
function activeQuestion(screen: string): string | undefined {
  const lines = screen.split('\n')
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - 25); i--)
    if (lines[i]!.startsWith('? ')) return lines.slice(i).join('\n')
  return undefined
}

/** Answer prompts until `until` shows up; `answer` returns the keys for a question (or undefined to fail). */
async function drive(
  term: Terminal,
  until: RegExp,
  answer: (question: string) => Promise<boolean>,
  timeoutMs = 240_000,
  onScreen?: (screen: string) => void,
): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let lastAnswered = ''
  let answeredAt = 0
  while (Date.now() < deadline) {
    const screen = await term.screen()
    onScreen?.(screen)
    if (until.test(screen)) return screen
    if (await term.exited()) throw new Error(`ir respond exited early:\n${screen.split('\n').slice(-40).join('\n')}`)
    const q = activeQuestion(screen)
    // Answer each question once: wait until it is redrawn as answered (✔) or replaced.
    const key = q?.split('\n')[0] ?? ''
    if (q && (key !== lastAnswered || Date.now() - answeredAt > 5000)) {
      if (!(await answer(q))) throw new Error(`unexpected question:\n${q}`)
      lastAnswered = key
      answeredAt = Date.now()
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${until}:\n${(await term.screen()).split('\n').slice(-40).join('\n')}`)
}

function answers(
  term: Terminal,
  target: string,
  opts: {skipFirstCredential: string; stopAtCollect?: boolean; newCase?: boolean},
) {
  let credentials = 0
  return async (q: string): Promise<boolean> => {
    if (/^\? Which case is this\?/.test(q)) {
      // The default is the case ir lab up suggested; typing jumps to the choice that starts with it.
      if (opts.newCase) await term.type('A new')
      return term.keys('Enter').then(() => true)
    }
    if (/^\? Incident title/.test(q)) return term.keys('Enter').then(() => true)
    if (/^\? Severity/.test(q)) return term.keys('Enter').then(() => true)
    if (/^\? Which container is affected\?/.test(q)) {
      // The cursor starts on the container the lab marks as compromised, before anything is typed.
      await term.waitFor(new RegExp(`❯ ${target} `), 15_000, {inTail: 20})
      await term.type(target)
      await term.waitFor(new RegExp(`❯ ${target} `), 15_000, {inTail: 20})
      return term.keys('Enter').then(() => true)
    }
    if (/^\? Picked: /.test(q)) return term.keys('Enter').then(() => true)
    if (/^\? Compose project folder to rebuild/.test(q)) return term.keys('Enter').then(() => true)
    if (/^\? Can this host pull fresh base images/.test(q)) return term.keys('Enter').then(() => true)
    if (opts.stopAtCollect && /^\? Run "Preserve logs and runtime state"\?/.test(q)) {
      // Stop here (the third choice): the walkthrough ends, resumable.
      await term.keys('Down', 'Down', 'Enter')
      return true
    }
    if (/^\? Run "/.test(q) || /^\? Incident channel opened/.test(q)) return term.keys('Enter').then(() => true)
    if (/^\? Credential \d+ of \d+/.test(q)) {
      credentials++
      if (credentials === 1) {
        await term.keys('Down', 'Down', 'Enter')
        await term.waitFor(/\? Why is .+ not rotated\? \(required\)/, 15_000, {inTail: 5})
        await term.type(opts.skipFirstCredential)
        return term.keys('Enter').then(() => true)
      }
      return term.keys('Enter').then(() => true)
    }
    if (/^\? Sections to write or revise/.test(q)) return term.keys('i', 'Enter').then(() => true)
    if (/^\? Authors/.test(q)) {
      await term.type('E2E Responder')
      return term.keys('Enter').then(() => true)
    }
    if (/^\? /.test(q) && /\(Y\/n\)|\(y\/N\)/.test(q)) return term.keys('Enter').then(() => true)
    return false
  }
}

beforeAll(async () => {
  const root = await tempDir('ir-respond-')
  labDir = join(root, labName)
  incidents = join(root, 'incidents')
  env = {IR_INCIDENTS_DIR: incidents}
  const port = String(20000 + (parseInt(t.runId.slice(0, 4), 16) % 20000))
  const up = await runIr(['lab', 'up', '--dir', labDir, '--name', labName, '--port', port, '--yes', '--json'], {
    env,
    cwd: root,
    timeout: 170_000,
  })
  expect(up.exitCode, up.stderr).toBe(0)
})

afterAll(async () => {
  for (const term of terminals) await term.kill()
  await runIr(['lab', 'down', '--dir', labDir, '--name', labName, '--yes'], {env, timeout: 170_000}).catch(
    () => undefined,
  )
  const evidence = await t.docker.listImages({filters: {label: ['ir.evidence=true']}})
  for (const img of evidence)
    if (
      String(img.Labels?.['ir.case'] ?? '').startsWith('IR-') &&
      String(img.Labels?.['ir.source.name'] ?? '').startsWith(labName)
    )
      t.trackImage(img.Id)
  await t.cleanup()
})

describe('ir respond in a real terminal', () => {
  it('refuses without a TTY and points to ir playbook run', async () => {
    const r = await runIr(['respond'], {env})
    expect(r.exitCode).toBe(7)
    expect(r.stderr).toMatch(/needs a terminal/)
    expect(r.stderr).toMatch(/ir playbook run breach/)
  })

  it('walks the whole breach response on the lab', async () => {
    const before = await webContainer()
    const marker = JSON.parse(await readFile(join(labDir, '.ir-lab.json'), 'utf8')) as {caseId: string}
    const term = await Terminal.start(['node', BIN, 'respond'], {cwd: labDir, env, colour: true})
    terminals.push(term)
    // Compose output is folded: no screen, sampled all along, shows it as lines of its own or more than one fold.
    const unfolded: string[] = []
    const screen = await drive(
      term,
      /Playbook breach: (succeeded|failed|stopped)/,
      answers(term, before.name, {skipFirstCredential: 'rotated at the provider by the vendor'}),
      240_000,
      (sc) => {
        const lines = sc.split('\n')
        if (lines.filter((l) => /^ {2}compose\b/.test(l)).length > 1 || lines.some((l) => l.startsWith('  | ')))
          unfolded.push(sc.split('\n').slice(-10).join('\n'))
      },
    )
    expect(screen).toMatch(/Playbook breach: succeeded/)
    expect(await term.exitCode()).toBe(0)
    const caseId = /Playbook breach: succeeded \(case (\S+), run/.exec(screen)![1]!
    // "Which case is this?" offered the case id ir lab up suggested, as its default.
    expect(caseId).toBe(marker.caseId)
    const caseDir = join(incidents, caseId)
    expect(unfolded).toEqual([])

    const containment = JSON.parse(await readFile(join(caseDir, 'state', 'containment.json'), 'utf8'))
    // Isolated, then taken down by the rebuild: the record says both.
    expect(containment.containers[before.id]).toMatchObject({
      status: 'removed',
      name: before.name,
      mode: 'pause',
      isolatedAt: expect.any(String),
      releasedAt: expect.any(String),
    })
    const verify = await runIr(['case', 'verify', caseId, '--json'], {env})
    expect(verify.exitCode, verify.stdout).toBe(0)
    const manifest = JSON.parse(await readFile(join(caseDir, 'manifest.json'), 'utf8')).artifacts as Array<{
      type: string
    }>
    for (const type of [
      'container-inspect',
      'image-tar',
      'filesystem-export',
      'log-archive',
      'hardening-audit',
      'report-html',
    ])
      expect(manifest.map((a) => a.type)).toContain(type)
    const rotation = JSON.parse(await readFile(join(caseDir, 'state', 'rotation.json'), 'utf8'))
    expect(JSON.stringify(rotation)).toContain('rotated at the provider by the vendor')
    const audit = await auditOf(caseId)
    expect(
      audit.some((e) => e.action === 'rotate.decision' && (e.details as {decision?: string})?.decision === 'skipped'),
    ).toBe(true)
    expect(audit.some((e) => e.action === 'rebuild' && e.outcome === 'success')).toBe(true)
    expect(audit.some((e) => e.action === 'audit.hardening')).toBe(true)
    expect(await readFile(join(caseDir, 'report.html'), 'utf8')).toContain(caseId)
    // A skipped credential still holds its old value: the report leaves "credentials rotated" open and says why.
    const model = JSON.parse(await readFile(join(caseDir, 'report.json'), 'utf8'))
    const rotated = model.keyTimes.find((k: {id: string}) => k.id === 'credentialsRotated')
    expect(rotated.at).toBeUndefined()
    expect(rotated.open).toMatch(/^1 skipped, still holding the old value \(/)
    // Steps are shown by their names, never as internal ids with their action (`approve-containment (confirm)`).
    expect(screen).toMatch(/▶ \[\d+\/\d+\] Contain\b/)
    expect(screen).not.toMatch(/\b[a-z]+(-[a-z]+)* \((confirm|isolate|snapshot|collect|rotate|rebuild|audit|report)\)/)
    const journal = JSON.parse(await readFile(join(caseDir, 'playbook-run.json'), 'utf8'))
    expect(journal.mode).toBe('guided')
    // No internal step id anywhere on screen: the playbook's own ids, as words of their own or as result lines.
    const playbook = await readFile(join(import.meta.dirname, '../../playbooks/breach.yml'), 'utf8')
    const ids = [...playbook.matchAll(/^ {2}- id: (\S+)$/gm)].map((m) => m[1]!)
    expect(ids.length).toBeGreaterThan(8)
    for (const id of ids.filter((i) => i.includes('-'))) expect(screen).not.toContain(id)
    expect(screen).not.toMatch(new RegExp(`^[✓✗!–-] (${ids.join('|')})\\b`, 'm'))
    expect(screen).not.toMatch(/\bSTEP +ACTION\b/)
    // One line per result: each step that ran has exactly one result line (mark, title, outcome), and no
    // indented detail lines follow it (the old "  web-1: paused, ..." summaries).
    const ran = journal.steps.filter((st: {action: string}) => !['confirm', 'note'].includes(st.action))
    const titles = Object.fromEntries(
      [...playbook.matchAll(/- id: (\S+)\n(?:.*\n)*? {4}name: (.+)/g)].map((m) => [m[1], m[2]]),
    )
    for (const st of ran) {
      const title = titles[st.id] as string
      const results = screen
        .split('\n')
        .filter((l) => new RegExp(`^[✓!✗] ${title.replace(/[()]/g, '\\$&')} — \\S`).test(l))
      expect(results, title).toHaveLength(1)
    }
    expect(screen).not.toMatch(/^ {2}\S+: (running|paused|isolated), /m)
    // The colours on the terminal (tmux's cells, as SGR): green marks, a red critical finding.
    const coloured = await term.screen({escapes: true})
    expect(coloured).toMatch(/\u001b\[[0-9;]*32m✓/)
    // The audit's findings themselves, one line each below its result, the severity red.
    expect(coloured).toMatch(
      /^ {4}(\u001b\[[0-9;]*m)*\u001b\[[0-9;]*31m(\u001b\[[0-9;]*m)*critical[^\n]*: mounts the engine socket/im,
    )
    expect(coloured).toMatch(/\u001b\[[0-9;]*31m!/)
    expect(coloured).toMatch(/\u001b\[[0-9;]*31m1 critical|\u001b\[[0-9;]*31m\d+ critical/)
    // Compose output: in the case's compose log (an artifact in the manifest), never on the screen.
    const manifestEntries = JSON.parse(await readFile(join(caseDir, 'manifest.json'), 'utf8')).artifacts as Array<{
      type: string
      path: string
    }>
    const composeLog = manifestEntries.find((a) => a.type === 'compose-log')!
    expect(composeLog).toBeDefined()
    const composeLines = (await readFile(join(caseDir, composeLog.path), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 12)
    expect(composeLines.length).toBeGreaterThan(5)
    const onScreen = composeLines.filter((l) => screen.split('\n').some((sl) => sl.includes(l)))
    expect(onScreen).toEqual([])

    const after = await webContainer()
    expect(after.state).toBe('running')
    expect(after.id).not.toBe(before.id)
    expect(after.imageId).not.toBe(before.imageId)
  })

  it('Ctrl-C at a prompt ends the walkthrough with exit 130 and a hint', async () => {
    const term = await Terminal.start(['node', BIN, 'respond'], {cwd: labDir, env})
    terminals.push(term)
    await term.waitFor(/\? Which case is this\?/, 30_000)
    await term.keys('C-c')
    expect(await term.exitCode(30_000)).toBe(130)
    expect(await term.screen()).toMatch(/continue with `ir respond --resume`/)
  })

  it('continues an interrupted walkthrough with --resume without repeating steps', async () => {
    const web = await webContainer()
    const first = await Terminal.start(['node', BIN, 'respond'], {
      cwd: labDir,
      env: {...env, NO_COLOR: '1'},
      colour: true,
    })
    terminals.push(first)
    await drive(
      first,
      /Playbook breach: stopped/,
      answers(first, web.name, {skipFirstCredential: 'n/a', stopAtCollect: true, newCase: true}),
    )
    // NO_COLOR on a terminal: not one colour or attribute in any cell (neither ir's nor the prompts').
    expect(await first.screen({escapes: true})).not.toMatch(/\u001b\[/)
    const code = await first.exitCode()
    const screen = await first.screen()
    // "Stop here" is a deliberate pause: exit 0 and one line saying how to continue (Ctrl-C stays 130, above).
    expect(code, screen.split('\n').slice(-15).join('\n')).toBe(0)
    expect(screen).toMatch(/^Stopped here as you chose\. Continue with: ir respond --resume --case \S+$/m)
    const caseId = /Case (\S+): Suspected container breach/.exec(screen)![1]!
    const half = JSON.parse(await readFile(join(incidents, caseId, 'playbook-run.json'), 'utf8'))
    expect(half.steps.find((s: {id: string}) => s.id === 'snapshot').state).toBe('succeeded')
    expect(half.steps.find((s: {id: string}) => s.id === 'collect').state).toBe('pending')

    const second = await Terminal.start(['node', BIN, 'respond', '--resume', '--case', caseId], {cwd: labDir, env})
    terminals.push(second)
    const done = await drive(
      second,
      /Playbook breach: (succeeded|failed|stopped)/,
      answers(second, web.name, {skipFirstCredential: 'rotated by the vendor'}),
    )
    expect(done).toMatch(/Resuming breach: \d+ of 11 steps done/)
    expect(done).toMatch(/Playbook breach: succeeded/)
    const journal = JSON.parse(await readFile(join(incidents, caseId, 'playbook-run.json'), 'utf8'))
    for (const s of journal.steps) expect(s, s.id).toMatchObject({state: 'succeeded', attempts: 1})
    const audit = await auditOf(caseId)
    const successes = audit
      .filter((e) => e.action === 'playbook.step' && e.outcome === 'success')
      .map((e) => e.target)
      .sort()
    expect(successes).toEqual(journal.steps.map((s: {id: string}) => s.id).sort())
    expect(audit.filter((e) => e.action === 'isolate' && e.outcome === 'success')).toHaveLength(1)
    expect(audit.filter((e) => e.action === 'snapshot' && e.outcome === 'success')).toHaveLength(1)
    expect((await runIr(['case', 'verify', caseId], {env})).exitCode).toBe(0)
  })
})
