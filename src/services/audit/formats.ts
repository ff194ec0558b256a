/**
 * The audit result as documents other tools read: SARIF 2.1.0 (code-scanning dashboards) and JUnit
 * XML (CI test reports). Both are built from the same AuditResult the JSON output is.
 */
import {TOOL} from '../../case/case-store.js'
import type {AuditResult} from '../audit.js'
import {BENCHMARK_LABEL, CIS_OF_CHECK, IR_CHECKS, recommendation} from './catalogue.js'
import type {AuditSeverity, Finding} from './checks.js'

interface Target {
  /** `engine` or `container`. */
  kind: 'engine' | 'container'
  name: string
  id: string
  findings: Finding[]
  passed: string[]
  notApplicable: string[]
  note?: string
}

function targets(r: AuditResult): Target[] {
  const out: Target[] = []
  if (r.engine)
    out.push({
      kind: 'engine',
      name: `engine ${r.engine.endpoint}`,
      id: r.engine.endpoint,
      findings: r.engine.findings,
      passed: r.engine.passed,
      notApplicable: r.engine.notApplicable,
    })
  for (const c of r.containers) {
    const flags = [c.stopped ? 'stopped' : '', c.quarantined ? 'quarantined' : ''].filter(Boolean)
    out.push({
      kind: 'container',
      name: c.name,
      id: c.id,
      findings: c.findings,
      passed: c.passed,
      notApplicable: [],
      ...(flags.length ? {note: flags.join(', ')} : {}),
    })
  }
  return out
}

/** `docker/containers/<name>` or `docker/engine`: no scheme, no absolute path, only safe characters. */
export function artifactUri(t: {kind: 'engine' | 'container'; name: string}): string {
  return t.kind === 'engine' ? 'docker/engine' : `docker/containers/${t.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`
}

function titleOf(id: string, cis: string | undefined): string {
  const rec = cis ? recommendation(cis) : undefined
  return rec?.title ?? IR_CHECKS[id] ?? id
}

const SARIF_LEVEL: Record<AuditSeverity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
}
/** GitHub code scanning reads this number (0.0 to 10.0) as the severity. */
const SECURITY_SEVERITY: Record<AuditSeverity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
}

export function toSarif(r: AuditResult): Record<string, unknown> {
  const rules: Array<Record<string, unknown>> = []
  const ruleIndex = new Map<string, number>()
  const ruleOf = (f: Finding): number => {
    const known = ruleIndex.get(f.id)
    if (known !== undefined) return known
    const cis = f.cis ?? CIS_OF_CHECK[f.id]
    const rec = cis ? recommendation(cis) : undefined
    const title = titleOf(f.id, cis)
    rules.push({
      id: f.id,
      name: f.id.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')),
      shortDescription: {text: cis ? `CIS ${cis}: ${title}` : title},
      fullDescription: {
        text: cis
          ? `${BENCHMARK_LABEL} recommendation ${cis} (Level ${rec?.level ?? f.level ?? 1}${rec?.automated === false ? ', manual' : ''}): ${title}`
          : `ir check ${f.id}: ${title}`,
      },
      help: {
        text:
          f.kind === 'manual' && rec?.look
            ? `Look at: ${rec.look}`
            : `compose: ${f.hint.compose}\ndocker run: ${f.hint.run}`,
      },
      defaultConfiguration: {level: SARIF_LEVEL[rec?.severity ?? f.severity]},
      properties: {
        tags: ['security', 'docker', ...(cis ? [`CIS-${cis}`, `CIS-Level-${rec?.level ?? 1}`] : ['ir'])],
        ...(cis ? {cis, benchmark: BENCHMARK_LABEL, level: rec?.level ?? f.level ?? 1} : {}),
        'security-severity': SECURITY_SEVERITY[rec?.severity ?? f.severity],
      },
    })
    ruleIndex.set(f.id, rules.length - 1)
    return rules.length - 1
  }
  const results: Array<Record<string, unknown>> = []
  for (const t of targets(r)) {
    for (const f of t.findings) {
      const index = ruleOf(f)
      const kind = f.kind === 'manual' ? 'review' : f.kind === 'needs-local-access' ? 'open' : 'fail'
      results.push({
        ruleId: f.id,
        ruleIndex: index,
        kind,
        level: kind === 'fail' ? SARIF_LEVEL[f.severity] : 'none',
        message: {text: `${t.name}: ${f.message}`},
        // Code-scanning dashboards want a repository-relative path: a stable pseudo path per target.
        locations: [
          {
            physicalLocation: {artifactLocation: {uri: artifactUri(t)}, region: {startLine: 1}},
            logicalLocations: [{name: t.name, fullyQualifiedName: `${t.kind}/${t.name}`, kind: 'resource'}],
          },
        ],
        partialFingerprints: {irTarget: `${t.kind}/${t.id}/${f.id}`},
        properties: {
          target: t.name,
          targetId: t.id,
          severity: f.severity,
          ...(f.cis ? {cis: f.cis, benchmark: f.benchmark ?? BENCHMARK_LABEL, level: f.level ?? 1} : {}),
          ...(t.note ? {state: t.note} : {}),
        },
      })
    }
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL.name,
            version: TOOL.version,
            semanticVersion: TOOL.version,
            informationUri: 'https://www.cisecurity.org/benchmark/docker',
            rules,
          },
        },
        automationDetails: {id: `ir-audit/${r.auditedAt}`},
        invocations: [{executionSuccessful: r.ok, endTimeUtc: r.auditedAt}],
        results,
        properties: {benchmark: BENCHMARK_LABEL, level: r.level, containers: r.containers.length, excluded: r.excluded},
      },
    ],
  }
}

/** Characters XML 1.0 cannot carry are dropped; markup characters escaped. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

/**
 * JUnit XML: one testsuite per target (the engine, each container), one testcase per check. Valid
 * against the schema Jenkins uses (skipped carries its reason as text, not as an attribute).
 */
export function toJunit(r: AuditResult): string {
  const suites: string[] = []
  let tests = 0
  let failures = 0
  for (const t of targets(r)) {
    const cases: string[] = []
    let tFail = 0
    let tSkip = 0
    const classname = `ir.audit.${t.kind}.${t.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`
    for (const f of t.findings) {
      const label = `${f.cis ? `CIS ${f.cis} ` : ''}${f.id}: ${titleOf(f.id, f.cis)}`
      if (f.kind === 'manual' || f.kind === 'needs-local-access') {
        tSkip++
        cases.push(
          `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(label)}" time="0"><skipped>${xmlEscape(`${f.kind}: ${f.message}`)}</skipped></testcase>`,
        )
      } else if (f.severity === 'info') {
        cases.push(
          `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(label)}" time="0"><system-out>${xmlEscape(`info: ${f.message}`)}</system-out></testcase>`,
        )
      } else {
        tFail++
        cases.push(
          `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(label)}" time="0"><failure type="${f.severity}" message="${xmlEscape(f.message)}">${xmlEscape(`severity: ${f.severity}${f.cis ? `\n${f.benchmark ?? BENCHMARK_LABEL} ${f.cis} (Level ${f.level ?? 1})` : ''}\nfix (compose): ${f.hint.compose}\nfix (docker run): ${f.hint.run}`)}</failure></testcase>`,
        )
      }
    }
    for (const cis of t.passed)
      cases.push(
        `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(`CIS ${cis}: ${titleOf('', cis)}`)}" time="0"/>`,
      )
    for (const cis of t.notApplicable) {
      tSkip++
      cases.push(
        `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(`CIS ${cis}: ${titleOf('', cis)}`)}" time="0"><skipped>not applicable</skipped></testcase>`,
      )
    }
    tests += cases.length
    failures += tFail
    suites.push(
      [
        `  <testsuite name="${xmlEscape(t.name)}" id="${xmlEscape(t.id)}" tests="${cases.length}" failures="${tFail}" errors="0" skipped="${tSkip}" time="0" timestamp="${r.auditedAt.replace(/\.\d+Z$/, '')}">`,
        `    <properties><property name="benchmark" value="${xmlEscape(BENCHMARK_LABEL)}"/><property name="level" value="${r.level}"/>${t.note ? `<property name="state" value="${xmlEscape(t.note)}"/>` : ''}</properties>`,
        ...cases,
        '  </testsuite>',
      ].join('\n'),
    )
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ir audit (${xmlEscape(BENCHMARK_LABEL)})" tests="${tests}" failures="${failures}" errors="0" time="0">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n')
}
