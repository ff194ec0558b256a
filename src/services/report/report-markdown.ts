import {sourceParts} from './source.js'
import {type NarrativeKey, type ReportModel, TO_BE_COMPLETED} from './types.js'
import {escapeMarkdown, mdCell, textBlocks} from './escape.js'
import {utc} from '../../util/time.js'
import {formatBytes} from '../../util/bytes.js'
import {type Badge, badgeFor} from './badge.js'

/**
 * The report as Markdown (GFM). Every piece of text from the case is escaped (escapeMarkdown), so
 * a container name or an answer holding Markdown or HTML renders as literal text. Hashes and our
 * own labels are the only unescaped content.
 */
export function renderReportMarkdown(m: ReportModel): string {
  const out: string[] = []
  const h = m.header
  const push = (...lines: string[]): void => {
    out.push(...lines)
  }

  push(`# Post-incident report: ${escapeMarkdown(h.title)}`, '')
  push(
    '| | |',
    '| --- | --- |',
    `| Case | ${mdCell(h.caseId)} |`,
    `| Severity | ${mdCell(h.severity ?? 'not set')} |`,
    `| Status | ${mdCell(h.status)} |`,
    `| Authors | ${mdCell(h.authors.join(', '))} |`,
    `| Examiner | ${mdCell(h.examiner)} |`,
    `| Case opened | ${utc(h.caseCreated)} |`,
    `| Generated | ${utc(h.generatedAt)} by ${mdCell(h.generatedBy)} (${mdCell(h.tool)}) |`,
    '',
    '> All times are UTC.',
    '',
  )
  if (m.completion.missing.length > 0) {
    push(
      `_${m.completion.completed} of ${m.completion.total} narrative sections written; to be completed: ${m.completion.missing.map(escapeMarkdown).join(', ')}._`,
      '',
    )
  }

  push('## 1. Summary', '', ...narrative(m, 'summary'))

  push('## 2. Impact', '', ...narrative(m, 'impact'))
  push(`**Data exposure:** ${escapeMarkdown(m.impact.dataExposure)}`, '')
  push(
    `**Services affected:** ${m.impact.services.length ? m.impact.services.map(escapeMarkdown).join(', ') : 'none recorded'}`,
    '',
  )
  if (m.impact.containers.length === 0) {
    push('**Containers affected:** none recorded.', '')
  } else {
    push('**Containers affected:**', '', '| Container | Image | Actions | Artifacts |', '| --- | --- | --- | ---: |')
    for (const c of m.impact.containers)
      push(`| ${mdCell(c.name)} | ${mdCell(c.image, '-')} | ${mdCell(c.actions.join(', '), '-')} | ${c.artifacts} |`)
    push('')
  }

  const wh = m.impact.whatHappened
  push('### What happened (from the evidence)', '')
  if (wh.findings.length === 0) push('No finding from the evidence: no snapshot found anything, or none was taken.', '')
  else {
    const sev = (s: string): number => wh.findings.filter((f) => f.severity === s).length
    push(
      `The snapshots show ${wh.findings.length} finding(s): ${['critical', 'high', 'medium', 'low']
        .filter((s) => sev(s) > 0)
        .map((s) => `${sev(s)} ${s}`)
        .join(', ')}. ${escapeMarkdown(wh.findings[0]!.container)}: ${escapeMarkdown(wh.findings[0]!.message)}.`,
      '',
      '| Container | Severity | Finding | Shown by |',
      '| --- | --- | --- | --- |',
    )
    for (const f of wh.findings)
      push(
        `| ${mdCell(f.container)} | ${mdCell(f.severity)} | ${mdCell(f.message)} | ${mdCell(f.artifact ?? '', '-')} |`,
      )
    push('')
  }
  if (wh.iocs.length > 0) {
    push('**Indicators of compromise:**', '', '| Container | Type | Value | SHA-256 |', '| --- | --- | --- | --- |')
    for (const i of wh.iocs)
      push(`| ${mdCell(i.container)} | ${mdCell(i.type)} | ${mdCell(i.value)} | ${mdCell(i.sha256 ?? '', '-')} |`)
    push('')
  }

  for (const t of wh.processTrees) {
    push(
      `**Process tree of ${escapeMarkdown(t.container)}** (${t.nodes.length} processes, from \`${escapeMarkdown(t.artifact)}\`; ⚑ a finding names it):`,
      '',
    )
    for (const n of t.nodes)
      push(
        `${'  '.repeat(n.depth)}- ${n.flagged ? '⚑ ' : ''}${n.pid} ${n.flagged ? `**${escapeMarkdown(n.name)}**` : escapeMarkdown(n.name)}${n.cmdline ? `: ${escapeMarkdown(n.cmdline)}` : ''}`,
      )
    push('')
  }

  push('## 3. Key times and metrics', '')
  const metric = (label: string, d: {display: string} | undefined): string =>
    `| ${label} | ${d ? escapeMarkdown(d.display) : 'not yet'} |`
  push(
    '| Metric | Value |',
    '| --- | --- |',
    metric('Time to contain', m.metrics.timeToContain),
    metric('Time to recover', m.metrics.timeToRecover),
    metric('Total duration', m.metrics.totalDuration),
    '',
  )
  push('| Milestone | Time (UTC) | How it is determined |', '| --- | --- | --- |')
  for (const k of m.keyTimes)
    push(
      `| ${k.label} | ${k.at ? utc(k.at) : 'not yet'} | ${mdCell(k.basis)}${k.seq ? ` (audit #${k.seq})` : ''}${k.open ? ` — **open:** ${mdCell(k.open)}` : ''} |`,
    )
  push('')

  push(
    '## 4. Root cause and contributing factors',
    '',
    '_Blameless: systems and conditions, not people._',
    '',
    ...narrative(m, 'root_cause'),
  )
  push('### Trigger', '', ...narrative(m, 'trigger'))
  push('### Detection', '', ...narrative(m, 'detection'))

  const responderEvents = m.timeline.filter((r) => r.kind === 'responder').length
  push(
    '## 5. Timeline',
    '',
    `${m.auditEntries} audit entries and ${responderEvents} responder event${responderEvents === 1 ? '' : 's'}.`,
    '',
  )
  push(
    '| Time (UTC) | # | Actor | Action | Target | Outcome | Message |',
    '| --- | ---: | --- | --- | --- | --- | --- |',
  )
  for (const r of m.timeline) {
    const action = r.kind === 'responder' ? `**${r.action}**` : mdCell(r.action)
    push(
      `| ${utc(r.time)} | ${r.seq} | ${mdCell(r.actor)} | ${action} | ${mdCell(r.target)} | ${mdCell(r.outcome)} | ${mdCell(r.msg)} |`,
    )
  }
  push('')

  push('## 6. Actions taken', '')
  for (const p of m.actions) {
    push(`### ${p.title}`, '')
    if (p.entries.length === 0) {
      push('No actions recorded.', '')
      continue
    }
    push(
      `Outcomes: ${Object.entries(p.outcomes)
        .map(([o, n]) => `${escapeMarkdown(o)} ${n}`)
        .join(', ')}.`,
      '',
    )
    push('| Time (UTC) | # | Action | Target | Outcome | Message |', '| --- | ---: | --- | --- | --- | --- |')
    for (const r of p.entries)
      push(
        `| ${utc(r.time)} | ${r.seq} | ${mdCell(r.action)} | ${mdCell(r.target)} | ${mdCell(r.outcome)} | ${mdCell(r.msg)} |`,
      )
    push('')
  }

  push('## 7. Evidence inventory', '')
  const v = m.verification
  push(
    `Verification at ${utc(v.verifiedAt)}: **${v.ok ? 'intact' : 'FAILED'}**. ${v.artifactsIntact} of ${v.artifactsChecked} artifacts match their SHA-256; audit chain of ${v.auditEntries} entries ${v.auditChainOk ? 'intact' : 'BROKEN'}.`,
    '',
  )
  for (const p of v.artifactProblems) push(`- ${mdCell(p.id)} ${mdCell(p.path)}: **${mdCell(p.status)}**`)
  for (const p of v.auditProblems) push(`- audit.log line ${p.line}: ${mdCell(p.problem)}`)
  for (const u of v.unlisted) push(`- ${mdCell(u)}: in evidence/ but not in the manifest`)
  if (v.artifactProblems.length + v.auditProblems.length + v.unlisted.length > 0) push('')
  if (m.evidence.length === 0) {
    push('No artifacts collected.', '')
  } else {
    push(
      '| ID | Type | Path | SHA-256 | Size | Source | Collected (UTC) | Collected by | Verified |',
      '| --- | --- | --- | --- | ---: | --- | --- | --- | --- |',
    )
    for (const e of m.evidence) {
      const source = e.source ? sourceParts(e.source).join(' / ') : ''
      push(
        `| ${mdCell(e.id)} | ${mdCell(e.type)} | ${mdCell(e.path)} | \`${e.sha256.replace(/[^0-9a-f]/gi, '')}\` | ${formatBytes(e.size)} | ${mdCell(source, '-')} | ${utc(e.collectedAt)} | ${mdCell(e.collectedBy)} | ${mdCell(e.verified)} |`,
      )
    }
    push('')
  }

  if (m.custody.length > 0) {
    push(
      '### Chain of custody',
      '',
      '| When (UTC) | Event | By / from | To | What | Reason | SHA-256 / key |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    )
    for (const c of m.custody)
      push(
        `| ${utc(c.at)}${c.event === 'transferred' ? ` (${mdCell(c.at)})` : ''} | ${c.event} | ${mdCell(c.by)} | ${mdCell(c.to ?? '', '-')} | ${mdCell(c.what)} | ${mdCell(c.reason ?? '', '-')} | ${c.sha256 ? `\`${c.sha256.replace(/[^0-9a-f]/gi, '')}\`` : mdCell(c.keyFingerprint ?? '', '-')} |`,
      )
    push('')
  }

  push('## 8. Credentials', '', '_Names only: no secret value is ever written to a case._', '')
  const cred = m.credentials
  const credList = (title: string, rows: typeof cred.rotated, withReason: boolean): void => {
    push(`**${title}:** ${rows.length === 0 ? 'none' : ''}`)
    for (const c of rows)
      push(
        `- ${escapeMarkdown(c.name)}${c.kind ? ` (${escapeMarkdown(c.kind)})` : ''}${c.sources.length ? `: ${c.sources.map(escapeMarkdown).join(', ')}` : ''}${withReason ? `; reason: ${c.reason ? escapeMarkdown(c.reason) : 'not given'}` : ''}`,
      )
    push('')
  }
  credList('Rotated', cred.rotated, false)
  credList('Marked rotated elsewhere', cred.markedRotated, false)
  credList('Skipped', cred.skipped, true)
  if (cred.lastSummary) {
    push(
      `Last rotation summary (${utc(cred.lastSummary.at)}): ${cred.lastSummary.remaining === undefined ? 'remaining unknown' : `${cred.lastSummary.remaining} remaining`}${cred.lastSummary.servicesToRestart.length ? `; services to restart: ${cred.lastSummary.servicesToRestart.map(escapeMarkdown).join(', ')}` : ''}.`,
      '',
    )
  }

  push('## 9. Rebuild and hardening audit', '')
  if (m.rebuilds.runs.length === 0) push('No rebuild recorded.', '')
  for (const r of m.rebuilds.runs) {
    push(
      `- ${utc(r.at)} rebuild${r.project ? ` of ${escapeMarkdown(r.project)}` : ''}: **${escapeMarkdown(r.outcome)}**. Services: ${r.services.map(escapeMarkdown).join(', ') || '-'}; unhealthy: ${r.unhealthy.map(escapeMarkdown).join(', ') || 'none'}; images before: ${r.imagesBefore.map(escapeMarkdown).join(', ') || '-'}; after: ${r.imagesAfter.map(escapeMarkdown).join(', ') || '-'}.`,
    )
  }
  if (m.rebuilds.runs.length > 0) push('')
  if (m.rebuilds.steps.length > 0) {
    push('| Rebuild step | Time (UTC) | Duration | Outcome |', '| --- | --- | ---: | --- |')
    for (const s of m.rebuilds.steps)
      push(
        `| ${mdCell(s.step)} | ${utc(s.at)} | ${s.durationMs === undefined ? '-' : `${(s.durationMs / 1000).toFixed(1)} s`} | ${mdCell(s.outcome)} |`,
      )
    push('')
  }
  if (m.hardening.length === 0) push('No hardening audit recorded.', '')
  for (const a of m.hardening) {
    push(
      `Hardening audit at ${utc(a.at)}: ${a.containers} containers, ${a.findings.length} findings (${mdBadge(
        badgeFor(
          a.outcome,
          a.findings.map((f) => f.severity),
        ),
      )}).`,
      '',
    )
    if (a.findings.length > 0) {
      push('| Container | Check | CIS | Severity | Finding |', '| --- | --- | --- | --- | --- |')
      for (const f of a.findings)
        push(
          `| ${mdCell(f.container)} | ${mdCell(f.check)} | ${mdCell(f.cis ?? '-')} | ${mdCell(f.severity)} | ${mdCell(f.message)} |`,
        )
      push('')
    }
  }

  push('## 10. Lessons learned', '')
  push('### What went well', '', ...narrative(m, 'what_went_well'))
  push('### What went wrong', '', ...narrative(m, 'what_went_wrong'))
  push('### Where we got lucky', '', ...narrative(m, 'where_we_got_lucky'))
  push('### Detection gaps', '', ...narrative(m, 'detection_gaps'))

  push('## 11. Action items', '')
  if (m.actionItems.length === 0) {
    push(`_${TO_BE_COMPLETED}_`, '')
  } else {
    push('| # | Action | Type | Owner | Due |', '| ---: | --- | --- | --- | --- |')
    m.actionItems.forEach((a, i) =>
      push(
        `| ${i + 1} | ${mdCell(a.action)} | ${mdCell(a.type)} | ${mdCell(a.owner, 'unassigned')} | ${mdCell(a.due, '-')} |`,
      ),
    )
    push('')
  }

  push('## 12. Playbook changes', '', ...narrative(m, 'playbook_changes'))

  push(
    '---',
    '',
    `_Generated by ${escapeMarkdown(h.tool)} from case ${escapeMarkdown(h.caseId)} at ${utc(h.generatedAt)} UTC. The case's manifest and hash-chained audit log are the authoritative record._`,
    '',
  )
  return out.join('\n')
}

function mdBadge(b: Badge): string {
  return b.kind === 'severity' ? `**${b.severity} finding open**` : escapeMarkdown(b.outcome)
}

function narrative(m: ReportModel, id: NarrativeKey): string[] {
  const text = m.narrative.find((n) => n.id === id)?.text
  if (!text) return [`_${TO_BE_COMPLETED}_`, '']
  const out: string[] = []
  for (const b of textBlocks(text)) {
    if (b.kind === 'ul') out.push(...b.items.map((i) => `- ${escapeMarkdown(i)}`))
    // Lines of a paragraph are joined as soft breaks, as in any Markdown; each is escaped on its own.
    else out.push(b.lines.map(escapeMarkdown).join('\n'))
    out.push('')
  }
  return out
}
