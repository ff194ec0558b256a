import {formatDuration} from './metrics.js'
import type {KeyTime} from './types.js'
import {escapeHtml} from './escape.js'
import {utc} from '../../util/time.js'

/** Phase colours, shared with the HTML report's legend and metric cards. */
export const PHASE_COLOURS: Record<KeyTime['id'], string> = {
  detected: '#b42318',
  contained: '#c4320a',
  evidenceSecured: '#175cd3',
  credentialsRotated: '#6941c6',
  recovered: '#067647',
}

const TICK_STEPS_S = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
]

/** Evenly spaced, round tick times (ms) covering [from, to], at most about `max` of them. */
export function ticks(from: number, to: number, max = 6): number[] {
  const span = Math.max(1, to - from)
  const step = (TICK_STEPS_S.find((s) => span / 1000 / s <= max) ?? TICK_STEPS_S.at(-1)!) * 1000
  const out: number[] = []
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t)
  return out
}

function tickLabel(t: number, span: number, step: number): string {
  const iso = new Date(t).toISOString()
  if (span >= 86_400_000) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`
  return step < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16)
}

/**
 * The incident's phases on a time axis, as inline SVG (no script, no external asset): one row per
 * milestone, a bar from detection to the milestone, its UTC time and the time since detection.
 * Milestones that have not happened are drawn as "not yet".
 */
export function renderPhaseChart(keyTimes: readonly KeyTime[], lastActivity?: string): string {
  const W = 900
  const labelW = 196
  const valueW = 190
  const plotL = labelW
  const plotR = W - valueW - 16
  const rowH = 36
  const top = 14
  const rows = keyTimes.length
  const axisY = top + rows * rowH + 6
  const H = axisY + 34
  const detected = keyTimes.find((k) => k.id === 'detected')?.at
  const t0 = detected ? Date.parse(detected) : Number.NaN
  const reached = keyTimes.filter((k) => k.at).map((k) => Date.parse(k.at!))
  const last = lastActivity ? Date.parse(lastActivity) : Number.NaN
  const tEnd = Math.max(...reached, Number.isNaN(last) ? -Infinity : last)
  const from = Number.isNaN(t0) ? Math.min(...reached) : Math.min(t0, ...reached)
  // At least a minute, so a case that just started still gets a readable axis.
  const to = Math.max(tEnd, from + 60_000)
  const x = (t: number): number => plotL + ((t - from) / (to - from)) * (plotR - plotL)
  const parts: string[] = []

  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`)
  keyTimes.forEach((_, i) => {
    if (i % 2 === 0) parts.push(`<rect x="0" y="${top + i * rowH}" width="${W}" height="${rowH}" fill="#f9fafb"/>`)
  })
  const tickTimes = ticks(from, to)
  const step = tickTimes.length > 1 ? tickTimes[1]! - tickTimes[0]! : to - from
  for (const t of tickTimes) {
    const tx = x(t).toFixed(1)
    parts.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${axisY}" stroke="#e4e7ec" stroke-width="1"/>`)
    parts.push(
      `<text x="${tx}" y="${axisY + 16}" text-anchor="middle" class="tick">${escapeHtml(tickLabel(t, to - from, step))}</text>`,
    )
  }
  parts.push(`<line x1="${plotL}" y1="${axisY}" x2="${plotR}" y2="${axisY}" stroke="#98a2b3" stroke-width="1"/>`)
  parts.push(`<text x="${plotR}" y="${axisY + 30}" text-anchor="end" class="tick">UTC</text>`)

  keyTimes.forEach((k, i) => {
    const y = top + i * rowH
    const cy = y + rowH / 2
    const colour = PHASE_COLOURS[k.id]
    parts.push(
      `<circle cx="14" cy="${cy}" r="5" fill="${k.at ? colour : 'none'}" stroke="${colour}" stroke-width="1.5"/>`,
    )
    parts.push(`<text x="26" y="${cy + 4}" class="label">${escapeHtml(k.label)}</text>`)
    if (!k.at) {
      parts.push(
        `<line x1="${plotL}" y1="${cy}" x2="${plotR}" y2="${cy}" stroke="#d0d5dd" stroke-width="1.5" stroke-dasharray="4 4"/>`,
      )
      parts.push(`<text x="${plotR + 16}" y="${cy + 4}" class="value muted">not yet</text>`)
      return
    }
    const t = Date.parse(k.at)
    const xe = x(t)
    if (k.id !== 'detected' && !Number.isNaN(t0)) {
      const xs = x(t0)
      const w = Math.max(2, xe - xs)
      parts.push(
        `<rect x="${Math.min(xs, xe).toFixed(1)}" y="${cy - 6}" width="${w.toFixed(1)}" height="12" rx="3" fill="${colour}" fill-opacity="0.22"/>`,
      )
    }
    parts.push(
      `<rect x="${(xe - 6).toFixed(1)}" y="${cy - 6}" width="12" height="12" rx="2" transform="rotate(45 ${xe.toFixed(1)} ${cy})" fill="${colour}"/>`,
    )
    const since = Number.isNaN(t0) || k.id === 'detected' ? '' : `  +${formatDuration(t - t0)}`
    const when = to - from >= 86_400_000 ? utc(k.at).slice(5) : utc(k.at).slice(11)
    parts.push(
      `<text x="${plotR + 16}" y="${cy + 4}" class="value">${escapeHtml(when)}<tspan class="since">${escapeHtml(since)}</tspan></text>`,
    )
  })

  const desc = keyTimes.map((k) => `${k.label}: ${k.at ? `${utc(k.at)} UTC` : 'not yet'}`).join('; ')
  return [
    `<svg class="chart" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 ${W} ${H}" width="100%" xmlns="http://www.w3.org/2000/svg">`,
    '<title id="chart-title">Incident phases on a time axis</title>',
    `<desc id="chart-desc">${escapeHtml(desc)}</desc>`,
    '<style>.label{font:600 13px system-ui,sans-serif;fill:#101828}.value{font:12px ui-monospace,monospace;fill:#344054}.since{fill:#667085}.muted{fill:#98a2b3;font-style:italic}.tick{font:11px ui-monospace,monospace;fill:#667085}</style>',
    ...parts,
    '</svg>',
  ].join('\n')
}
