import {randomBytes} from 'node:crypto'

import {LABEL} from '../../docker/labels.js'
import type {ContainerSummary, Engine} from '../../docker/types.js'
import {COMPOSE_PROJECT_LABEL} from '../audit.js'
import {sharedNetworkNote} from '../containment-state.js'

/** What up, status and down share: the lab's names, its containers as shown, and the commands to run next. */

export const DEFAULT_LAB_PROJECT = 'ir-lab'
export const DEFAULT_LAB_PORT = 18080
export const DEFAULT_LAB_DIR = 'ir-lab'
export const LAB_SERVICES = ['web', 'worker', 'db'] as const
/** The service with the planted compromise. */
export const LAB_TARGET_SERVICE = 'web'
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service'

export interface LabContainer {
  project: string
  service: string
  name: string
  id: string
  image: string
  state: string
  networks: string[]
  /** Frozen by `ir isolate` (or docker pause). */
  paused: boolean
  /** Cut from every network, as `ir isolate` leaves it. */
  isolated: boolean
}

export interface NextStep {
  command: string
  why: string
}
export const labFilters = (project?: string): Record<string, string[]> => ({
  label: [`${LABEL.lab}=true`, ...(project ? [`${LABEL.labProject}=${project}`] : [])],
})

/** LAB-20261127-235134-a1b2: a case id that says it is practice. */
export function labCaseId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `LAB-${stamp}-${randomBytes(2).toString('hex')}`
}

export {displayPath} from '../../util/display-path.js'
import {displayPath} from '../../util/display-path.js'

/** Exactly what to run next on this lab, in order. */
export function nextSteps(o: {target: string; caseId: string; dir: string; project: string; cwd: string}): NextStep[] {
  const d = displayPath(o.dir, o.cwd)
  const c = o.caseId
  return [
    {command: 'ir respond', why: `the guided walkthrough: pick ${o.target}, approve each step`},
    {command: `ir isolate --case ${c} ${o.target} --yes`, why: 'freeze it and cut its networks'},
    {command: `ir snapshot --case ${c} ${o.target} --yes`, why: 'commit, save and export it into the case'},
    {command: `ir collect --case ${c} ${o.target}`, why: 'logs, processes, changed files'},
    {command: `ir rotate --case ${c} --project-directory ${d}`, why: 'rotate the credentials it could read'},
    {
      command: `ir rebuild --case ${c} --project-directory ${d} --project-name ${o.project} --offline`,
      why: 'rebuild clean from the local base image',
    },
    {command: `ir report --case ${c}`, why: 'the lessons-learned report'},
    {command: `ir lab down --dir ${d} --yes`, why: 'remove everything the lab created (the case stays)'},
  ]
}

export async function describeContainers(engine: Engine, rows: ContainerSummary[]): Promise<LabContainer[]> {
  const out: LabContainer[] = []
  for (const r of rows) {
    const d = await engine.containers.inspect(r.id).catch(() => undefined)
    const networks = d?.endpoints.map((e) => e.networkName) ?? []
    const shared = d ? sharedNetworkNote(d.networkMode) : undefined
    out.push({
      project: r.labels[LABEL.labProject] ?? r.labels[COMPOSE_PROJECT_LABEL] ?? '',
      service: r.labels[COMPOSE_SERVICE_LABEL] ?? '',
      name: d?.name ?? r.names[0] ?? r.id.slice(0, 12),
      id: r.id,
      image: r.image,
      state: d?.state ?? r.state,
      networks,
      paused: (d?.state ?? r.state) === 'paused',
      isolated: Boolean(d) && !shared && networks.length === 0,
    })
  }
  const order = (s: string): number => {
    const i = (LAB_SERVICES as readonly string[]).indexOf(s)
    return i < 0 ? LAB_SERVICES.length : i
  }
  return out.sort(
    (a, b) => a.project.localeCompare(b.project) || order(a.service) - order(b.service) || a.name.localeCompare(b.name),
  )
}
