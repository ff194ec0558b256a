import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ROOT} from '../helpers/cli.js'

/** GitHub's heading anchors: lower case, punctuation dropped (but `-` and `_`), each space a `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')
}

function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (/^```/.test(line)) fenced = !fenced
    const m = !fenced && /^#{1,6} (.*)$/.exec(line)
    if (!m) continue
    const base = slug(m[1]!)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

const files = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

describe('links in README.md and docs/', () => {
  it.each(files)('every relative link of %s names a file that exists, and a heading that exists in it', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '')
    const broken: string[] = []
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!
      if (/^[a-z]+:/.test(target)) continue
      const [path, anchor] = target.split('#') as [string, string | undefined]
      const abs = path ? resolve(dirname(join(ROOT, file)), path) : join(ROOT, file)
      if (!existsSync(abs)) {
        broken.push(`${target}: no such file`)
        continue
      }
      if (anchor && abs.endsWith('.md') && !anchorsOf(readFileSync(abs, 'utf8')).has(anchor))
        broken.push(`${target}: no such heading`)
    }
    expect(broken).toEqual([])
  })

  it('the slug rule matches GitHub on a command heading', () => {
    expect(slug('`ir report --case <id>`')).toBe('ir-report---case-id')
    expect(slug('`ir playbook validate|list|run|resume`')).toBe('ir-playbook-validatelistrunresume')
  })
})
