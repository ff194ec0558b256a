import {link, lstat, open, unlink} from 'node:fs/promises'
import {basename, resolve} from 'node:path'

import {readAuditLines, type AuditLine} from '../case/audit-log.js'
import {type CaseMeta, type CaseStore, TOOL} from '../case/case-store.js'
import type {Artifact} from '../case/manifest.js'
import {verifyCase} from '../case/verify.js'
import {AbortError} from '../errors.js'
import {sha256} from '../util/fs.js'
import {redactDeep} from '../util/redact.js'

/**
 * The namespaces of the CASE 1.4 and UCO 1.4 ontologies (https://caseontology.org,
 * https://unifiedcyberontology.org), as their own examples (casework/CASE-Examples) spell them.
 */
export const CASE_NAMESPACES = {
  'case-investigation': 'https://ontology.caseontology.org/case/investigation/',
  'uco-action': 'https://ontology.unifiedcyberontology.org/uco/action/',
  'uco-core': 'https://ontology.unifiedcyberontology.org/uco/core/',
  'uco-identity': 'https://ontology.unifiedcyberontology.org/uco/identity/',
  'uco-observable': 'https://ontology.unifiedcyberontology.org/uco/observable/',
  'uco-tool': 'https://ontology.unifiedcyberontology.org/uco/tool/',
  'uco-types': 'https://ontology.unifiedcyberontology.org/uco/types/',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
} as const

/** Audit actions that acquire evidence from a container, and where their line names the artifacts. */
const ACQUISITIONS: Record<string, (d: Record<string, unknown>) => string[]> = {
  snapshot: (d) => (Array.isArray(d.artifacts) ? (d.artifacts as {id?: string}[]).map((a) => String(a.id)) : []),
  collect: (d) => {
    const id = (d.archive as {id?: string} | undefined)?.id
    return id ? [id] : []
  },
}

type Node = Record<string, unknown>

/** ir's outcomes in UCO's ActionStatusTypeVocab (uco/vocabulary: Complete/Finish, Error, Fail, Success, ...). */
const ACTION_STATUS: Record<string, string> = {success: 'Success', partial: 'Complete/Finish', failure: 'Fail'}

export interface CaseUcoResult {
  caseId: string
  output: string
  format: 'case'
  sha256: string
  size: number
  actions: number
  files: number
  exportedAt: string
}

/** A stable UUID (RFC 9562 version 8: SHA-256 based) for one node of one case, so exports are reproducible. */
function uuid(...parts: string[]): string {
  const h = sha256(parts.join('\u0000'))
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const dateTime = (iso: string): Node => ({'@type': 'xsd:dateTime', '@value': iso})
const ref = (id: string): Node => ({'@id': id})

interface Acquisition {
  key: string
  name: string
  description: string
  status: string
  startTime: string
  endTime: string
  performer: string
  toolVersion: string
  container?: Artifact['source']
  artifacts: Artifact[]
}

function toolVersionOf(tool: string | undefined): string {
  const m = /^ir\/(.+)$/.exec(tool ?? '')
  return m?.[1] ?? TOOL.version
}

/** Group the manifest into acquisitions: each snapshot/collect line with its artifacts; every other artifact on its own. */
export function acquisitions(lines: AuditLine[], artifacts: Artifact[]): Acquisition[] {
  const byId = new Map(artifacts.map((a) => [a.id, a]))
  const claimed = new Set<string>()
  const out: Acquisition[] = []
  for (const l of lines) {
    const pick = ACQUISITIONS[l.action]
    if (!pick || (l.outcome !== 'success' && l.outcome !== 'partial')) continue
    const own = pick(l.details ?? {})
      .map((id) => byId.get(id))
      .filter((a): a is Artifact => a !== undefined && !claimed.has(a.id))
    if (own.length === 0) continue
    for (const a of own) claimed.add(a.id)
    const d = (l.details ?? {}) as {startedAt?: unknown}
    const earliest = own.map((a) => a.collectedAt).sort()[0]!
    out.push({
      key: `line-${l.seq}`,
      name: l.action,
      description: l.msg,
      status: l.outcome,
      // Lines written before ir recorded startedAt: the first artifact's commit is the best bound known.
      startTime: typeof d.startedAt === 'string' ? d.startedAt : earliest,
      endTime: l.time,
      performer: l.actor,
      toolVersion: toolVersionOf(l.tool),
      ...(own[0]!.source ? {container: own[0]!.source} : {}),
      artifacts: own,
    })
  }
  for (const a of artifacts) {
    if (claimed.has(a.id)) continue
    out.push({
      key: `artifact-${a.id}`,
      name: `preserve ${a.type}`,
      description: a.description ?? `${a.type} preserved as ${a.path}`,
      status: 'success',
      startTime: a.collectedAt,
      endTime: a.collectedAt,
      performer: a.collectedBy,
      toolVersion: a.tool?.version ?? TOOL.version,
      ...(a.source ? {container: a.source} : {}),
      artifacts: [a],
    })
  }
  return out.sort((x, y) => x.startTime.localeCompare(y.startTime))
}

/**
 * The case as CASE/UCO JSON-LD: an investigation; per acquisition a case-investigation:InvestigativeAction
 * (performer, instrument `ir` with its version, start and end, the source container as its object) whose
 * result is a case-investigation:ProvenanceRecord of the files, each a uco-observable:File with a
 * uco-types:Hash (SHA256). Every text passes the project's redaction.
 */
export function caseJsonLd(meta: CaseMeta, lines: AuditLine[], artifacts: Artifact[]): Record<string, unknown> {
  const id = meta.id
  const kb = (kind: string, ...key: string[]): string => `kb:${kind}-${uuid(id, kind, ...key)}`
  const graph: Node[] = []
  const members: string[] = []
  const add = (node: Node): string => {
    graph.push(node)
    members.push(node['@id'] as string)
    return node['@id'] as string
  }
  const tools = new Map<string, string>()
  const tool = (version: string): string => {
    let t = tools.get(version)
    if (!t) {
      t = add({
        '@id': kb('tool', version),
        '@type': 'uco-tool:Tool',
        'uco-core:name': TOOL.name,
        'uco-tool:version': version,
        'uco-tool:toolType': 'incident response for Docker hosts',
      })
      tools.set(version, t)
    }
    return t
  }
  const people = new Map<string, string>()
  const performer = (who: string): string => {
    let p = people.get(who)
    if (!p) {
      p = add({'@id': kb('identity', who), '@type': 'uco-identity:Identity', 'uco-core:name': who})
      people.set(who, p)
    }
    return p
  }
  const containers = new Map<string, string>()
  const container = (s: NonNullable<Artifact['source']>): string | undefined => {
    const key = s.containerId ?? s.containerName
    if (!key) return undefined
    let c = containers.get(key)
    if (!c) {
      const parts = [
        `Docker container ${s.containerId ?? s.containerName}`,
        ...(s.image ? [`image ${s.image}${s.imageId ? ` (${s.imageId})` : ''}`] : []),
        ...(s.host ? [`host ${s.host}`] : []),
        ...(s.engine ? [`engine ${s.engine}`] : []),
        ...(s.service ? [`swarm service ${s.service}, task ${s.task ?? '?'}`] : []),
      ]
      c = add({
        '@id': kb('container', key),
        '@type': 'uco-observable:ObservableObject',
        'uco-core:name': s.containerName ?? s.containerId,
        'uco-core:description': parts.join(', '),
        'uco-core:tag': ['docker-container'],
      })
      containers.set(key, c)
    }
    return c
  }
  const file = (a: Artifact): string =>
    add({
      '@id': kb('file', a.id),
      '@type': 'uco-observable:File',
      'uco-core:name': a.path,
      ...(a.description ? {'uco-core:description': a.description} : {}),
      'uco-core:objectCreatedTime': dateTime(a.collectedAt),
      'uco-core:tag': [a.type],
      'uco-core:hasFacet': [
        {
          '@id': kb('file-facet', a.id),
          '@type': 'uco-observable:FileFacet',
          'uco-observable:fileName': basename(a.path),
          'uco-observable:filePath': a.path,
          'uco-observable:sizeInBytes': {'@type': 'xsd:integer', '@value': String(a.size)},
        },
        {
          '@id': kb('content-data-facet', a.id),
          '@type': 'uco-observable:ContentDataFacet',
          'uco-observable:sizeInBytes': {'@type': 'xsd:integer', '@value': String(a.size)},
          'uco-observable:hash': [
            {
              '@id': kb('hash', a.id),
              '@type': 'uco-types:Hash',
              'uco-types:hashMethod': 'SHA256',
              'uco-types:hashValue': {'@type': 'xsd:hexBinary', '@value': a.sha256},
            },
          ],
        },
      ],
    })

  const acq = acquisitions(lines, artifacts)
  for (const [n, q] of acq.entries()) {
    const files = q.artifacts.map(file)
    const record = add({
      '@id': kb('provenance-record', q.key),
      '@type': 'case-investigation:ProvenanceRecord',
      'case-investigation:exhibitNumber': `${id}/${q.artifacts.map((a) => a.id).join('+')}`,
      'case-investigation:rootExhibitNumber': [id],
      'uco-core:description': `Evidence of ${q.name}${q.container?.containerName ? ` of ${q.container.containerName}` : ''}: ${q.artifacts.length} file(s), SHA-256 as recorded in the chain of custody`,
      'uco-core:object': files.map(ref),
    })
    const source = q.container ? container(q.container) : undefined
    add({
      '@id': kb('investigative-action', q.key),
      '@type': 'case-investigation:InvestigativeAction',
      'uco-core:name': q.name,
      'uco-core:description': `${n + 1}. ${q.description}`,
      'uco-action:actionStatus': ACTION_STATUS[q.status] ?? 'Unknown',
      'uco-action:startTime': dateTime(q.startTime),
      'uco-action:endTime': dateTime(q.endTime),
      'uco-action:performer': ref(performer(q.performer)),
      'uco-action:instrument': ref(tool(q.toolVersion)),
      ...(source ? {'uco-action:object': [ref(source)]} : {}),
      'uco-action:result': [ref(record)],
    })
  }
  const investigation: Node = {
    '@id': kb('investigation', 'case'),
    '@type': 'case-investigation:Investigation',
    'uco-core:name': id,
    'uco-core:description': meta.title,
    'uco-core:objectCreatedTime': dateTime(meta.created),
    ...(meta.severity ? {'uco-core:tag': [`severity:${meta.severity}`]} : {}),
    'uco-core:object': members.map(ref),
  }
  return redactDeep({
    '@context': {kb: `urn:ir:${id}:`, ...CASE_NAMESPACES},
    '@graph': [investigation, ...graph],
  })
}

/**
 * `ir case export --format case`: the case verified first (a case that does not verify is not
 * described as evidence), its provenance written as JSON-LD to <output>.partial and linked into place
 * (never replacing a file), then recorded as `case.export` with the file's SHA-256.
 */
export async function exportCaseUco(opts: {
  store: CaseStore
  id: string
  output: string
  allowedSigners?: string
}): Promise<CaseUcoResult> {
  const {kase} = await opts.store.open({id: opts.id, create: false})
  const output = resolve(opts.output)
  const exists = await lstat(output).then(
    () => true,
    () => false,
  )
  if (exists)
    throw new AbortError(`${output} already exists`, {
      exit: 'USAGE',
      hint: 'Choose a new file name: an export never replaces a file.',
    })
  return kase.withLock(async () => {
    const v = await verifyCase(kase, opts.allowedSigners === undefined ? {} : {allowedSigners: opts.allowedSigners})
    if (!v.ok)
      throw new AbortError(
        `Case ${kase.id} does not verify, so it is not exported: ${v.problems
          .slice(0, 3)
          .map((p) => p.message)
          .join('; ')}`,
        {exit: 'INTEGRITY'},
      )
    const manifest = await kase.manifest.read()
    const lines = await readAuditLines(kase.audit.path)
    const doc = caseJsonLd(kase.info, lines, manifest.artifacts)
    const text = `${JSON.stringify(doc, null, 2)}\n`
    const partial = `${output}.partial`
    const fh = await open(partial, 'wx', 0o600)
    try {
      await fh.writeFile(text)
      await fh.sync()
    } finally {
      await fh.close()
    }
    try {
      await link(partial, output)
    } finally {
      await unlink(partial).catch(() => undefined)
    }
    const graph = doc['@graph'] as Node[]
    const result: CaseUcoResult = {
      caseId: kase.id,
      output,
      format: 'case',
      sha256: sha256(text),
      size: Buffer.byteLength(text),
      actions: graph.filter((n) => n['@type'] === 'case-investigation:InvestigativeAction').length,
      files: graph.filter((n) => n['@type'] === 'uco-observable:File').length,
      exportedAt: new Date().toISOString(),
    }
    await kase.record({
      action: 'case.export',
      target: output,
      outcome: 'success',
      msg: `Case provenance exported as CASE/UCO JSON-LD to ${output} (${result.actions} investigative actions, ${result.files} files), SHA-256 ${result.sha256}`,
      details: {...result},
    })
    return result
  })
}
