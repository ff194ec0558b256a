import type {LabDownResult} from '../services/lab/down.js'
import type {LabContainer, NextStep} from '../services/lab/model.js'
import {displayPath} from '../util/display-path.js'
import type {LabStatusResult} from '../services/lab/status.js'
import type {LabUpResult} from '../services/lab/up.js'
import {colours, marks} from '../util/colour.js'
import {renderTable} from './table.js'

function isolation(c: LabContainer): string {
  if (c.isolated && c.paused) return 'yes (paused, no network)'
  if (c.isolated) return 'yes (no network)'
  if (c.paused) return 'paused only'
  return 'no'
}

function steps(list: NextStep[]): string[] {
  return list.map((s) => `  ${s.command}`)
}

export function renderLabUp(r: LabUpResult): string {
  const out: string[] = []
  out.push(`Lab "${r.project}" is up (compose ${r.composeFlavor}); its files are in ${r.dir}; the web page is ${r.url}`)
  if (r.baseImage.built) out.push(`Base image ${r.baseImage.ref} was built from the host's busybox.`)
  out.push('')
  out.push(
    renderTable(
      ['SERVICE', 'CONTAINER', 'STATE', 'NETWORKS'],
      r.containers.map((c) => [c.service, c.name, c.state, c.networks.join(', ') || '-']),
    ),
  )
  out.push('')
  out.push(`Something is wrong with ${r.target}. Respond to it:`)
  const [respond, ...manual] = r.next
  const last = manual.pop()
  if (respond) out.push(`  ${respond.command}   # ${respond.why}`)
  out.push(`Or step by step, into the case ${r.suggestedCaseId}:`)
  out.push(...steps(manual))
  if (last) {
    out.push('When you are done:')
    out.push(...steps([last]))
  }
  out.push(
    `Credentials planted (their values stay in the lab folder): ${r.credentials.map((c) => `${c.name} in ${c.where}`).join('; ')}`,
  )
  return out.join('\n')
}

export function renderLabStatus(r: LabStatusResult): string {
  if (r.containers.length === 0 && r.networks.length === 0 && r.volumes.length === 0 && r.images.length === 0) {
    return `No ${r.project ? `lab "${r.project}"` : 'lab'} on this engine. Start one with: ir lab up`
  }
  const out: string[] = []
  if (r.containers.length > 0) {
    out.push(
      renderTable(
        ['LAB', 'SERVICE', 'CONTAINER', 'STATE', 'ISOLATED', 'NETWORKS'],
        r.containers.map((c) => [
          c.project,
          c.service || '-',
          c.name,
          c.state,
          isolation(c),
          c.networks.join(', ') || '-',
        ]),
      ),
    )
  } else {
    out.push('No lab containers.')
  }
  out.push(`Networks: ${r.networks.join(', ') || 'none'}`)
  out.push(`Volumes: ${r.volumes.join(', ') || 'none'}`)
  const built = r.images.filter((i) => !i.evidence)
  const evidence = r.images.filter((i) => i.evidence)
  out.push(
    `Images built by the lab: ${built.map((i) => i.tags[0] ?? i.id.replace('sha256:', '').slice(0, 12)).join(', ') || 'none'}`,
  )
  if (evidence.length > 0)
    out.push(
      `Evidence images of lab containers (ir lab down keeps them): ${evidence.map((i) => i.tags[0] ?? i.id.replace('sha256:', '').slice(0, 12)).join(', ')}`,
    )
  return out.join('\n')
}

export function renderLabDown(r: LabDownResult): string {
  const mark = marks(colours())
  const out: string[] = []
  const count = (k: string): number => r.removed.filter((x) => x.kind === k).length
  if (r.removed.length === 0 && r.failed.length === 0)
    out.push(`Nothing of the lab "${r.project}" was left on this engine.`)
  else {
    out.push(
      `Lab "${r.project}": removed ${count('container')} container(s), ${count('network')} network(s), ${count('volume')} volume(s), ${count('image')} image(s)${count('folder') ? ' and its folder' : ''}.`,
    )
    if (r.removed.length > 0)
      out.push(
        renderTable(
          ['REMOVED', 'NAME', 'HOW'],
          r.removed.map((x) => [x.kind, x.name, x.detail ?? 'removed']),
        ),
      )
  }
  if (r.compose.detail && !r.compose.ok) out.push(`${mark.warn} ${r.compose.detail}`)
  for (const k of r.kept) out.push(`Kept ${k.kind} ${k.name}: ${k.detail ?? ''}`)
  for (const f of r.failed) out.push(`${mark.fail} Could not remove ${f.kind} ${f.name}: ${f.error.message}`)
  if (!r.removed.some((x) => x.kind === 'folder') && !r.kept.some((x) => x.kind === 'folder'))
    out.push(
      r.folder === 'lab'
        ? `The lab folder ${r.dir} is kept (--purge-dir removes it). Case folders are never touched.`
        : `${r.folder === 'none' ? `There is no folder ${r.dir}` : r.folder === 'other-lab' ? `${r.dir} is the folder of another lab` : `${r.dir} is not a lab folder`}: nothing in it was touched. Case folders are never touched.`,
    )
  if (r.recordedDir)
    out.push(
      `Compose recorded the lab's files in ${r.recordedDir}; remove them with: ir lab down --dir ${displayPath(r.recordedDir, process.cwd())} --purge-dir --yes`,
    )
  return out.join('\n')
}
