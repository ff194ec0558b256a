import {createHash, randomUUID} from 'node:crypto'
import {isIP} from 'node:net'

import {type Case, TOOL} from '../../case/case-store.js'
import {readable, readAuditEntries} from './audit-entries.js'
import {whatHappened} from './model.js'
import type {WhatHappened} from './types.js'

/**
 * The indicators of compromise of a case, as the snapshots' findings named them: dropped and recovered files with
 * their SHA-256, remote addresses with their ports, process names. They come from the audit chain (the findings
 * recorded at each snapshot), never from a forensic copy's contents. Exported as CSV (RFC 4180) or as a STIX 2.1
 * bundle: an observable per IOC (file, ipv4-addr/ipv6-addr with its network-traffic, process) and an indicator with
 * a STIX pattern for each file hash and address, all from an identity for `ir`.
 */

export type Ioc = WhatHappened['iocs'][number]

export async function caseIocs(kase: Case): Promise<{caseId: string; iocs: Ioc[]; findings: number}> {
  const w = whatHappened(readable(await readAuditEntries(kase.audit.path)))
  return {caseId: kase.id, iocs: w.iocs, findings: w.findings.length}
}

const csvCell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)

export function renderIocsCsv(caseId: string, iocs: readonly Ioc[]): string {
  const rows = [['case_id', 'container', 'type', 'value', 'sha256']]
  for (const i of iocs) rows.push([caseId, i.container, i.type, i.value, i.sha256 ?? ''])
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n'
}

/** STIX 2.1's namespace for the deterministic (UUIDv5) identifiers of cyber-observable objects (section 2.9). */
const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7'

/** RFC 4122 version 5: SHA-1 of the namespace and the name. */
export function uuidv5(name: string, namespace = SCO_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex')
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

/** The JSON of an SCO's ID contributing properties, in key order (the spec's canonical form for these values). */
const scoId = (type: string, contributing: Record<string, unknown>): string =>
  `${type}--${uuidv5(JSON.stringify(contributing, Object.keys(contributing).sort()))}`

const patternString = (v: string): string => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

export interface StixBundle {
  type: 'bundle'
  id: string
  objects: Array<Record<string, unknown>>
}

export function iocsToStix(caseId: string, iocs: readonly Ioc[], now = new Date()): StixBundle {
  const time = now.toISOString()
  const identity = {
    type: 'identity',
    spec_version: '2.1',
    id: `identity--${uuidv5(`ir/${TOOL.name}`)}`,
    created: time,
    modified: time,
    name: `${TOOL.name} ${TOOL.version}`,
    identity_class: 'system',
  }
  const objects: Array<Record<string, unknown>> = [identity]
  const seen = new Set<string>()
  const push = (o: Record<string, unknown>): void => {
    if (seen.has(String(o.id))) return
    seen.add(String(o.id))
    objects.push(o)
  }
  const indicator = (name: string, pattern: string, container: string, observed: string): void =>
    push({
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${randomUUID()}`,
      created: time,
      modified: time,
      created_by_ref: identity.id,
      name,
      description: `Seen in container ${container} (case ${caseId}).`,
      indicator_types: ['compromised'],
      pattern,
      pattern_type: 'stix',
      valid_from: time,
      labels: [`case:${caseId}`],
      x_ir_observed_ref: observed,
    })
  for (const i of iocs) {
    if (i.type === 'file') {
      const name = i.value.split('/').pop() || i.value
      const file = {
        type: 'file',
        spec_version: '2.1',
        id: i.sha256 ? scoId('file', {hashes: {'SHA-256': i.sha256}}) : scoId('file', {name}),
        name,
        ...(i.sha256 ? {hashes: {'SHA-256': i.sha256}} : {}),
        x_ir_path: i.value,
      }
      push(file)
      if (i.sha256)
        indicator(`File ${i.value}`, `[file:hashes.'SHA-256' = ${patternString(i.sha256)}]`, i.container, file.id)
    } else if (i.type === 'address') {
      const m = /^(.*):(\d+)$/.exec(i.value)
      const host = m ? m[1]! : i.value
      const port = m ? Number(m[2]) : undefined
      const kind = isIP(host) === 6 ? 'ipv6-addr' : 'ipv4-addr'
      const addr = {type: kind, spec_version: '2.1', id: scoId(kind, {value: host}), value: host}
      push(addr)
      const traffic = {
        type: 'network-traffic',
        spec_version: '2.1',
        id: scoId('network-traffic', {
          dst_ref: addr.id,
          ...(port === undefined ? {} : {dst_port: port}),
          protocols: ['tcp'],
        }),
        dst_ref: addr.id,
        ...(port === undefined ? {} : {dst_port: port}),
        protocols: ['tcp'],
      }
      push(traffic)
      indicator(
        `Connection to ${i.value}`,
        port === undefined
          ? `[${kind}:value = ${patternString(host)}]`
          : `[network-traffic:dst_ref.value = ${patternString(host)} AND network-traffic:dst_port = ${port}]`,
        i.container,
        traffic.id,
      )
    } else if (i.type === 'process') {
      // STIX 2.1's process has no name property: the name goes in a custom property, and no pattern is made of it.
      push({
        type: 'process',
        spec_version: '2.1',
        id: `process--${randomUUID()}`,
        x_ir_name: i.value,
        x_ir_container: i.container,
      })
    }
  }
  return {type: 'bundle', id: `bundle--${randomUUID()}`, objects}
}
