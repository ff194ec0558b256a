import {z} from 'zod/v4'

import {caseFiles, defineAction, optionalString, stringList} from './define.js'

export const report = defineAction({
  name: 'report',
  phase: 'lessons',
  destructive: false,
  params: z.object({
    answers: optionalString,
    formats: stringList.default(['md', 'html', 'json']),
    status: z.enum(['draft', 'reviewed']).default('draft'),
  }),
  describe: () =>
    'Write the lessons-learned report from the case: timeline, key times, actions by phase, evidence with hashes, credentials, rebuild and audit results, and the narrative sections the responder adds.',
  async plan(_p, ctx) {
    return {
      summary: 'report',
      containers: [],
      operations: ['read the audit log and manifest; verify the case', 'ask for (or read) the narrative sections'],
      files: caseFiles(ctx.kase, [
        'report.md',
        'report.html',
        'report.json',
        'evidence/report/report-<time>.{md,html,json}',
      ]),
    }
  },
  async run(p, ctx) {
    const {reportCase} = await import('../../services/report/generate.js')
    const r = await reportCase({
      kase: ctx.kase,
      status: p.status,
      formats: p.formats as Array<'md' | 'html' | 'json'>,
      ...(p.answers ? {answersFile: p.answers} : {}),
      ...(ctx.human.askReport && !p.answers ? {ask: ctx.human.askReport} : {}),
    })
    return {files: r.files.map((f) => f.latest), verificationOk: r.verificationOk, narrative: r.narrative}
  },
})
