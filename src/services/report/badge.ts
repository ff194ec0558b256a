/**
 * The badge shown for a section or a run of the report. An action's outcome says whether the action
 * ran (an audit that found a critical problem still "succeeded"), so beside an open critical or high
 * finding the badge is that severity, never a green "success".
 */
const RANK: Record<string, number> = {critical: 0, high: 1, medium: 2, low: 3}

/** The worst severity among these (critical > high > medium > low), undefined when none is known. */
export function worstSeverity(severities: Iterable<string>): string | undefined {
  let worst: string | undefined
  for (const s of severities) {
    const v = s.toLowerCase()
    if (RANK[v] === undefined) continue
    if (worst === undefined || RANK[v] < RANK[worst]!) worst = v
  }
  return worst
}

export type Badge = {kind: 'outcome'; outcome: string} | {kind: 'severity'; severity: 'critical' | 'high'}

/** The outcome, unless a critical or high finding is open: then the worst such severity. */
export function badgeFor(outcome: string, openSeverities: Iterable<string>): Badge {
  const worst = worstSeverity(openSeverities)
  if (worst === 'critical' || worst === 'high') return {kind: 'severity', severity: worst}
  return {kind: 'outcome', outcome}
}
