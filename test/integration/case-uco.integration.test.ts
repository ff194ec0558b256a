import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import jsonld from 'jsonld'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CASE_NAMESPACES} from '../../src/services/case-uco.js'
import {ROOT, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

const t = new TestDocker('uco')
const SECRET = `planted-${t.runId}-Pa55word`
const CASE = `CASE-UCO-${t.runId}`
let incidents: string
let out: string
let env: Record<string, string>
let web: {id: string; name: string}

const NS = Object.values(CASE_NAMESPACES)
const KEYWORDS = new Set(['@id', '@type', '@value', '@list', '@graph', '@language', '@index'])

/** Every key of the expanded document: a JSON-LD keyword or an absolute IRI in the ontologies' namespaces. */
function strayKeys(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) strayKeys(n, out)
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (!KEYWORDS.has(k) && !NS.some((ns) => k.startsWith(ns))) out.push(k)
      if (k === '@type')
        for (const ty of [v].flat() as string[])
          if (!NS.some((ns) => ty.startsWith(ns)) && !ty.startsWith('http://www.w3.org/2001/XMLSchema#'))
            out.push(`@type ${ty}`)
      strayKeys(v, out)
    }
  }
  return out
}

const noNetwork = async (url: string): Promise<never> => {
  throw new Error(`no remote context may be loaded (${url})`)
}

beforeAll(async () => {
  incidents = await tempDir()
  out = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  web = await t.run('web', {cmd: ['sleep', '3600'], env: [`PASSWORD=${SECRET}`, `API_TOKEN=${SECRET}`]})
  for (const args of [
    ['case', 'create', CASE, '--title', 'Crypto-miner in web'],
    ['snapshot', web.name, '--case', CASE, '--yes'],
    ['collect', web.name, '--case', CASE],
  ]) {
    const r = await runIr(args, {env})
    expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  }
}, 240_000)

afterAll(async () => {
  await t.cleanup()
  await rm(incidents, {recursive: true, force: true})
  await rm(out, {recursive: true, force: true})
})

describe('ir case export --format case (CASE/UCO JSON-LD)', () => {
  it('expands with jsonld in safe mode, every term in the ontologies, one action per acquisition with hashes', async () => {
    const file = join(out, 'case.jsonld')
    const r = await runIr(['case', 'export', CASE, '--format', 'case', '--output', file, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    const text = await readFile(file, 'utf8')
    expect(text).not.toContain(SECRET)
    const doc = JSON.parse(text) as {'@context': Record<string, string>; '@graph': Record<string, any>[]}

    // Safe mode makes any term the context does not define an error instead of a silent drop.
    const expanded = await jsonld.expand(doc, {safe: true, documentLoader: noNetwork})
    expect(strayKeys(expanded)).toEqual([])
    const nquads = await jsonld.toRDF(doc, {format: 'application/n-quads', safe: true, documentLoader: noNetwork})

    const byId = new Map(doc['@graph'].map((n) => [n['@id'], n]))
    const manifest = JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8')) as {
      artifacts: {id: string; path: string; sha256: string; size: number}[]
    }
    const version = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version as string

    // Every artifact is a File whose SHA-256 is the manifest's, in the ontology's own hash terms.
    const files = doc['@graph'].filter((n) => n['@type'] === 'uco-observable:File')
    expect(files).toHaveLength(manifest.artifacts.length)
    expect(result).toMatchObject({files: manifest.artifacts.length, format: 'case'})
    for (const a of manifest.artifacts) {
      const f = files.find((x) => x['uco-core:name'] === a.path)!
      expect(f, a.path).toBeDefined()
      const content = f['uco-core:hasFacet'].find((x: any) => x['@type'] === 'uco-observable:ContentDataFacet')
      expect(content['uco-observable:hash']).toEqual([
        expect.objectContaining({
          '@type': 'uco-types:Hash',
          'uco-types:hashMethod': 'SHA256',
          'uco-types:hashValue': {'@type': 'xsd:hexBinary', '@value': a.sha256},
        }),
      ])
      expect(nquads).toContain(`"${a.sha256}"^^<http://www.w3.org/2001/XMLSchema#hexBinary>`)
    }

    // One investigative action per acquisition: the snapshot and the collect (with their own artifacts).
    const actions = doc['@graph'].filter((n) => n['@type'] === 'case-investigation:InvestigativeAction')
    const names = actions.map((a) => a['uco-core:name'])
    expect(names).toEqual(expect.arrayContaining(['snapshot', 'collect']))
    expect(names.filter((n) => n === 'snapshot' || n === 'collect')).toHaveLength(2)
    const claimed = new Set<string>()
    for (const a of actions) {
      const performer = byId.get(a['uco-action:performer']['@id'])!
      expect(performer['@type']).toBe('uco-identity:Identity')
      expect(performer['uco-core:name']).toMatch(/.+@.+/)
      const tool = byId.get(a['uco-action:instrument']['@id'])!
      expect(tool).toMatchObject({'@type': 'uco-tool:Tool', 'uco-core:name': 'ir', 'uco-tool:version': version})
      const start = Date.parse(a['uco-action:startTime']['@value'])
      const end = Date.parse(a['uco-action:endTime']['@value'])
      expect(a['uco-action:startTime']['@type']).toBe('xsd:dateTime')
      expect(start).toBeLessThanOrEqual(end)
      const source = byId.get(a['uco-action:object'][0]['@id'])!
      expect(source).toMatchObject({'@type': 'uco-observable:ObservableObject', 'uco-core:name': web.name})
      expect(source['uco-core:description']).toContain(web.id)
      const record = byId.get(a['uco-action:result'][0]['@id'])!
      expect(record['@type']).toBe('case-investigation:ProvenanceRecord')
      for (const o of record['uco-core:object']) claimed.add(byId.get(o['@id'])!['uco-core:name'])
      if (a['uco-core:name'] === 'snapshot' || a['uco-core:name'] === 'collect') expect(start).toBeLessThan(end)
    }
    expect([...claimed].sort()).toEqual(manifest.artifacts.map((a) => a.path).sort())

    // The export is recorded in the chain, and the case still verifies.
    const audit = await readFile(join(incidents, CASE, 'audit.log'), 'utf8')
    expect(audit).toContain(result.sha256)
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
    // Never replaces a file.
    const again = await runIr(['case', 'export', CASE, '--format', 'case', '--output', file], {env})
    expect(again.exitCode).toBe(2)
  }, 120_000)
})
