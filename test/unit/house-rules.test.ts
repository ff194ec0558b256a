/**
 * The house rules bite: dependency-cruiser with the repository's own .dependency-cruiser.cjs, and ESLint with its own
 * eslint.config.js, each run on a small project in a temporary folder. A clean project passes; the same project with
 * one rule broken on purpose fails, and the tool names that rule and that file.
 */
import {execFile} from 'node:child_process'
import {mkdir, rm, writeFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {ESLint} from 'eslint'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {tempDir} from '../helpers/cli.js'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const DEPCRUISE = join(REPO, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
const run = promisify(execFile)

/** A tiny project laid out like src/: every layer, each importing only downwards, render importing types only. */
const CLEAN: Record<string, string> = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: {module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, types: []},
    include: ['src/**/*.ts'],
  }),
  'src/errors.ts': 'export class AbortError extends Error {}\n',
  'src/util/text.ts':
    "import {AbortError} from '../errors.js'\nexport const up = (s: string): string => { if (!s) throw new AbortError('empty'); return s.toUpperCase() }\n",
  'src/docker/engine.ts':
    "import {up} from '../util/text.js'\nexport interface Engine {name: string}\nexport const connect = (): Engine => ({name: up('engine')})\n",
  'src/case/store.ts': "import {up} from '../util/text.js'\nexport const openCase = (): string => up('case')\n",
  'src/case/journal.ts': "import {openCase} from './store.js'\nexport const readJournal = (): string => openCase()\n",
  'src/services/step.ts':
    "import {connect} from '../docker/engine.js'\nimport {readJournal} from '../case/journal.js'\nexport interface StepResult {engine: string; journal: string}\nexport const step = (): StepResult => ({engine: connect().name, journal: readJournal()})\n",
  'src/render/step.ts':
    "import type {StepResult} from '../services/step.js'\nexport const renderStep = (r: StepResult): string => `${r.engine} ${r.journal}`\n",
  'src/commands/step.ts':
    "import {step} from '../services/step.js'\nimport {renderStep} from '../render/step.js'\nexport default function run(): string { return renderStep(step()) }\n",
}

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), {recursive: true})
    await writeFile(join(root, rel), text)
  }
}

/** dependency-cruiser's CLI, as `npm run depcruise` runs it, with the repository's rule file. */
async function depcruise(root: string): Promise<{code: number; errors: string[]}> {
  const args = [DEPCRUISE, 'src', '--config', join(REPO, '.dependency-cruiser.cjs'), '--output-type', 'err']
  try {
    await run(process.execPath, args, {cwd: root})
    return {code: 0, errors: []}
  } catch (error) {
    const e = error as {code?: number; stdout?: string}
    const errors = (e.stdout ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('error '))
    return {code: e.code ?? -1, errors}
  }
}

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  let root: string
  beforeEach(async () => {
    root = await tempDir('ir-house-rules-')
    await writeTree(root, CLEAN)
  })
  afterEach(async () => {
    await rm(root, {recursive: true, force: true})
  })

  it('pass a project whose imports run downwards (render importing types only)', async () => {
    expect(await depcruise(root)).toEqual({code: 0, errors: []})
  })

  // Each case: one file added (or changed) that breaks one rule; the rule and the offending import are named.
  const BROKEN: Array<{rule: string; files: Record<string, string>; names: string}> = [
    {
      rule: 'docker-below-services',
      files: {'src/docker/bad.ts': "import {step} from '../services/step.js'\nexport const x = step\n"},
      names: 'src/docker/bad.ts → src/services/step.ts',
    },
    {
      rule: 'case-below-services',
      files: {'src/case/bad.ts': "import {connect} from '../docker/engine.js'\nexport const x = connect\n"},
      names: 'src/case/bad.ts → src/docker/engine.ts',
    },
    {
      rule: 'util-is-the-floor',
      files: {'src/util/bad.ts': "import {openCase} from '../case/store.js'\nexport const x = openCase\n"},
      names: 'src/util/bad.ts → src/case/store.ts',
    },
    {
      rule: 'services-below-commands',
      files: {'src/services/bad.ts': "import {renderStep} from '../render/step.js'\nexport const x = renderStep\n"},
      names: 'src/services/bad.ts → src/render/step.ts',
    },
    {
      rule: 'no-command-imports-a-command',
      files: {'src/commands/other.ts': "import run from './step.js'\nexport default run\n"},
      names: 'src/commands/other.ts → src/commands/step.ts',
    },
    {
      rule: 'render-is-terminal-views',
      // The same import as the clean view, but of a value: a view may not run a service.
      files: {
        'src/render/step.ts':
          "import {step, type StepResult} from '../services/step.js'\nexport const renderStep = (r: StepResult = step()): string => r.engine\n",
      },
      names: 'src/render/step.ts → src/services/step.ts',
    },
    {
      rule: 'render-writes-no-files',
      files: {
        'src/render/step.ts':
          "import {writeFileSync} from 'node:fs'\nimport type {StepResult} from '../services/step.js'\nexport const renderStep = (r: StepResult): string => { writeFileSync('x', r.engine); return r.engine }\n",
      },
      names: 'src/render/step.ts → fs',
    },
    {
      rule: 'report-formats-beside-the-report-service',
      files: {
        'src/render/report-html.ts': "import {up} from '../util/text.js'\nexport const html = (s: string) => up(s)\n",
        'src/commands/report.ts': "import {html} from '../render/report-html.js'\nexport default () => html('x')\n",
      },
      names: 'src/render/report-html.ts → src/util/text.ts',
    },
    {
      rule: 'run-journal-lives-in-case',
      files: {
        'src/services/journal.ts': "import {openCase} from '../case/store.js'\nexport const j = openCase\n",
        'src/commands/journal.ts': "import {j} from '../services/journal.js'\nexport default j\n",
      },
      names: 'src/services/journal.ts → src/case/store.ts',
    },
    {
      rule: 'no-circular',
      files: {
        'src/util/text.ts':
          "import {lower} from './lower.js'\nexport const up = (s: string): string => lower(s).toUpperCase()\n",
        'src/util/lower.ts':
          "import {up} from './text.js'\nexport const lower = (s: string): string => (s ? s : up('x')).toLowerCase()\n",
      },
      names: 'src/util/',
    },
    {
      rule: 'no-orphans',
      files: {'src/services/dead.ts': 'export const nobodyCalls = 1\n'},
      names: 'src/services/dead.ts',
    },
    {
      rule: 'not-to-unresolvable',
      files: {
        'src/services/step.ts': CLEAN['src/services/step.ts']!.replace('../docker/engine.js', '../docker/engin.js'),
      },
      names: 'src/services/step.ts → ../docker/engin.js',
    },
  ]

  for (const c of BROKEN) {
    it(`fail when ${c.rule} is broken`, async () => {
      await writeTree(root, c.files)
      const r = await depcruise(root)
      expect(r.code).not.toBe(0)
      const line = r.errors.find((l) => l.startsWith(`error ${c.rule}: `))
      expect(line, `no "${c.rule}" error in:\n${r.errors.join('\n')}`).toBeDefined()
      expect(line).toContain(c.names)
    })
  }

  it('allow a cycle closed only by type-only imports (erased at compile time)', async () => {
    await writeTree(root, {
      'src/services/kinds.ts': "import type {Kind2} from './kinds2.js'\nexport type Kind = 'a' | Kind2\n",
      'src/services/kinds2.ts':
        "import type {Kind} from './kinds.js'\nexport type Kind2 = 'b'\nexport type Both = Kind\n",
      'src/commands/kinds.ts': "import type {Kind} from '../services/kinds.js'\nexport default (k: Kind) => k\n",
    })
    expect(await depcruise(root)).toEqual({code: 0, errors: []})
  })
})

describe('ESLint (eslint.config.js)', () => {
  let root: string
  beforeEach(async () => {
    root = await tempDir('ir-house-lint-')
    await writeTree(root, {
      'tsconfig.json': CLEAN['tsconfig.json']!,
      'src/ok.ts':
        'export async function later(): Promise<number> {\n  return 1\n}\nexport async function main(): Promise<number> {\n  return await later()\n}\n',
    })
  })
  afterEach(async () => {
    await rm(root, {recursive: true, force: true})
  })

  /** The repository's config as is, type-checked against the temporary project's tsconfig. */
  async function lint(file: string): Promise<Array<{ruleId: string | null; line: number}>> {
    const eslint = new ESLint({
      cwd: root,
      overrideConfigFile: join(REPO, 'eslint.config.js'),
      overrideConfig: {languageOptions: {parserOptions: {project: join(root, 'tsconfig.json'), tsconfigRootDir: root}}},
    })
    const [result] = await eslint.lintFiles([join(root, file)])
    return (result?.messages ?? []).map((m) => ({ruleId: m.ruleId, line: m.line}))
  }

  it('passes clean code', {timeout: 60_000}, async () => {
    expect(await lint('src/ok.ts')).toEqual([])
  })

  it('fails a floating promise (a type-checked rule) and an unused import', {timeout: 60_000}, async () => {
    await writeTree(root, {
      'src/bad.ts':
        "import {later, main} from './ok.js'\nexport function fire(): void {\n  later()\n}\nexport const kept = fire\n",
    })
    const messages = await lint('src/bad.ts')
    expect(messages).toContainEqual({ruleId: '@typescript-eslint/no-floating-promises', line: 3})
    expect(messages).toContainEqual({ruleId: '@typescript-eslint/no-unused-vars', line: 1})
    // Parsed with types (a parse error would have ruleId null).
    expect(messages.filter((m) => m.ruleId === null)).toEqual([])
  })
})
