import {readFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {type Case, TOOL} from '../../case/case-store.js'
import {fileStamp} from '../../case/ids.js'
import {verifyCase} from '../../case/verify.js'
import {renderReportHtml} from './report-html.js'
import {renderReportMarkdown} from './report-markdown.js'
import {jsonText} from '../../util/controls.js'
import {writeFileAtomic} from '../../util/fs.js'
import {loadSavedAnswers, mergeAnswers, readAnswersFile, saveAnswers} from './answers.js'
import {readable, readAuditEntries} from './audit-entries.js'
import {buildReportModel, liveProcessesPath, newestSnapshots, type TreeProcess} from './model.js'
import {REPORT_FORMATS, type ReportAnswers, type ReportFormat, type ReportModel, type ReportStatus} from './types.js'

export interface GenerateReportOptions {
  kase: Case
  /** The responder's answers (already merged and saved by the caller). */
  answers: ReportAnswers
  status: ReportStatus
  formats?: readonly ReportFormat[]
  /** Also copy the files into this folder (outside the case). */
  outputDir?: string
  now?: Date
}

export interface ReportFile {
  format: ReportFormat
  /** The versioned evidence copy, relative to the case folder (in the manifest). */
  path: string
  artifactId: string
  sha256: string
  size: number
  /** The convenience copy at the case root (report.md, ...): refreshed each run, not in the manifest. */
  latest: string
  /** The copy in --output, when asked. */
  output?: string
}

export interface ReportResult {
  caseId: string
  status: ReportStatus
  generatedAt: string
  files: ReportFile[]
  auditEntries: number
  timelineRows: number
  evidence: number
  verificationOk: boolean
  narrative: {completed: number; total: number; missing: string[]}
  keyTimes: ReportModel['keyTimes']
  metrics: ReportModel['metrics']
}

const EXT: Record<ReportFormat, string> = {md: 'md', html: 'html', json: 'json'}
const LABEL: Record<ReportFormat, string> = {md: 'Markdown', html: 'HTML', json: 'JSON model'}

/** Gather everything the report shows from the case, with a fresh verification. Reads only. */
export async function loadReportModel(
  kase: Case,
  answers: ReportAnswers,
  status: ReportStatus,
  now = new Date(),
): Promise<ReportModel> {
  const entries = await readAuditEntries(kase.audit.path)
  const manifest = await kase.manifest.read()
  const verification = await verifyCase(kase)
  // The process tables of the newest snapshots (redacted JSON evidence, never a forensic copy), for the trees.
  const liveProcesses = new Map<string, TreeProcess[]>()
  for (const e of newestSnapshots(readable(entries)).values()) {
    const path = liveProcessesPath(e)
    if (!path || !manifest.artifacts.some((a) => a.path === path && a.type === 'live-processes')) continue
    try {
      const doc = JSON.parse(await readFile(join(kase.dir, path), 'utf8')) as {processes?: TreeProcess[]}
      if (Array.isArray(doc.processes)) liveProcesses.set(path, doc.processes)
    } catch {
      // A missing or damaged table: verification reports it; the report goes on without its tree.
    }
  }
  return buildReportModel({
    meta: kase.info,
    entries,
    artifacts: manifest.artifacts,
    verification,
    answers,
    status,
    generatedAt: now.toISOString(),
    generatedBy: kase.actor,
    tool: `${TOOL.name}/${TOOL.version}`,
    liveProcesses,
  })
}

export function renderReport(model: ReportModel, format: ReportFormat): string {
  if (format === 'md') return renderReportMarkdown(model)
  if (format === 'html') return renderReportHtml(model)
  return `${jsonText(model, 2)}\n`
}

/**
 * Write the report into the case: each format as a new evidence version (report/report-<stamp>.<ext>,
 * added to the manifest; earlier versions are never overwritten), a refreshed convenience copy at the
 * case root, optional copies in outputDir, and a `report` audit entry.
 */
export async function generateReport(opts: GenerateReportOptions): Promise<ReportResult> {
  const {kase} = opts
  const now = opts.now ?? new Date()
  const formats = REPORT_FORMATS.filter((f) => (opts.formats?.length ? opts.formats.includes(f) : true))
  const model = await loadReportModel(kase, opts.answers, opts.status, now)
  const base = await versionName(kase, fileStamp(now), formats)
  const files: ReportFile[] = []
  for (const format of formats) {
    const content = renderReport(model, format)
    const artifact = await kase.addEvidence({
      name: `report/${base}.${EXT[format]}`,
      type: `report-${format}`,
      content,
      description: `Post-incident report (${LABEL[format]}, ${opts.status}) generated ${model.header.generatedAt}`,
      meta: {status: opts.status, generatedAt: model.header.generatedAt, auditEntries: model.auditEntries},
    })
    const latest = `report.${EXT[format]}`
    await writeFileAtomic(join(kase.dir, latest), content)
    let output: string | undefined
    if (opts.outputDir) {
      output = resolve(opts.outputDir, `${kase.id}-report.${EXT[format]}`)
      await writeFileAtomic(output, content)
    }
    files.push({
      format,
      path: artifact.path,
      artifactId: artifact.id,
      sha256: artifact.sha256,
      size: artifact.size,
      latest,
      ...(output ? {output} : {}),
    })
  }
  await kase.record({
    action: 'report',
    outcome: 'success',
    msg: `Report generated (${opts.status}): ${files.map((f) => f.path).join(', ')}; ${model.completion.completed}/${model.completion.total} narrative sections written`,
    details: {
      status: opts.status,
      formats,
      artifacts: files.map((f) => f.artifactId),
      generatedAt: model.header.generatedAt,
      auditEntries: model.auditEntries,
      narrativeCompleted: model.completion.completed,
      narrativeTotal: model.completion.total,
      verificationOk: model.verification.ok,
    },
  })
  return {
    caseId: kase.id,
    status: opts.status,
    generatedAt: model.header.generatedAt,
    files,
    auditEntries: model.auditEntries,
    timelineRows: model.timeline.length,
    evidence: model.evidence.length,
    verificationOk: model.verification.ok,
    narrative: model.completion,
    keyTimes: model.keyTimes,
    metrics: model.metrics,
  }
}

/** report-<stamp>, or report-<stamp>-2, ... when a report was already generated in the same second. */
async function versionName(kase: Case, stamp: string, formats: readonly ReportFormat[]): Promise<string> {
  const taken = new Set((await kase.manifest.read()).artifacts.map((a) => a.path))
  for (let n = 1; ; n++) {
    const base = n === 1 ? `report-${stamp}` : `report-${stamp}-${n}`
    if (formats.every((f) => !taken.has(`evidence/report/${base}.${EXT[f]}`))) return base
  }
}

export interface ReportCaseOptions extends Omit<GenerateReportOptions, 'answers'> {
  /** A YAML answers file; its keys override the saved answers. */
  answersFile?: string
  /** Ask the responder (TTY), given the current answers; called after the file is merged. */
  ask?: (current: ReportAnswers, save: (answers: ReportAnswers) => Promise<void>) => Promise<ReportAnswers>
}

/**
 * `ir report`: the saved answers, overridden by the answers file, then by what the responder types;
 * saved back into the case (so a re-run keeps them), then the report is generated.
 */
export async function reportCase(opts: ReportCaseOptions): Promise<ReportResult & {answersSaved: boolean}> {
  const {kase} = opts
  const saved = await loadSavedAnswers(kase)
  let answers = opts.answersFile ? mergeAnswers(saved, await readAnswersFile(opts.answersFile)) : saved
  const save = async (a: ReportAnswers): Promise<void> => {
    answers = await saveAnswers(kase, a)
  }
  if (opts.answersFile) await save(answers)
  if (opts.ask) answers = await opts.ask(answers, save)
  const changed = JSON.stringify(answers) !== JSON.stringify(saved)
  if (changed) await save(answers)
  const result = await generateReport({...opts, answers})
  return {...result, answersSaved: changed || Boolean(opts.answersFile)}
}
