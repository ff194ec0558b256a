import type {CaseMeta, CaseStore} from '../case/case-store.js'
import type {Artifact} from '../case/manifest.js'
import {verifyCase, type VerifyResult} from '../case/verify.js'
import {readJournal} from '../case/journal.js'
import {type ContainmentRecord, readContainment} from './containment-state.js'

export interface CaseSummary extends CaseMeta {
  dir: string
  artifacts: number
  isolated: number
}

export async function listCases(store: CaseStore): Promise<{root: string; cases: CaseSummary[]}> {
  const metas = await store.list()
  const cases: CaseSummary[] = []
  for (const meta of metas) {
    const {kase} = await store.open({id: meta.id, create: false})
    const manifest = await kase.manifest.read().catch(() => ({artifacts: []}))
    const containment = await readContainment(kase).catch(() => ({containers: {}}))
    cases.push({
      ...meta,
      dir: kase.dir,
      artifacts: manifest.artifacts.length,
      isolated: Object.values(containment.containers).filter((c) => c.status === 'isolated').length,
    })
  }
  return {root: store.root, cases}
}

export interface CaseDetails {
  case: CaseMeta
  dir: string
  artifacts: Artifact[]
  containment: ContainmentRecord[]
  playbookRun?: {
    playbook: string
    runId: string
    mode: string
    status: string
    steps: Array<{id: string; action: string; state: string}>
  }
}

export async function showCase(store: CaseStore, id: string): Promise<CaseDetails> {
  const {kase} = await store.open({id, create: false})
  const manifest = await kase.manifest.read()
  const containment = await readContainment(kase)
  const run = await readJournal(kase)
  return {
    case: kase.info,
    dir: kase.dir,
    artifacts: manifest.artifacts,
    containment: Object.values(containment.containers),
    ...(run
      ? {
          playbookRun: {
            playbook: run.playbook.name,
            runId: run.runId,
            mode: run.mode,
            status: run.status,
            steps: run.steps.map((st) => ({id: st.id, action: st.action, state: st.state})),
          },
        }
      : {}),
  }
}

export async function verifyCaseById(
  store: CaseStore,
  id: string,
  opts: {allowedSigners?: string; tsaCa?: string} = {},
): Promise<VerifyResult> {
  const {kase} = await store.open({id, create: false})
  return verifyCase(kase, opts)
}
