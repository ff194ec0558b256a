/**
 * Escaping of text that comes from a case (container names, audit messages, answers) before it
 * is placed in HTML or Markdown: it must always render as the literal text, never as markup, and
 * control characters (ESC, BEL, CSI, ...) show as visible escapes such as `\x1b` (src/util/controls.ts).
 */
import {neutralizeControls} from '../../util/controls.js'

const HTML_ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

/** Escape for HTML text and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return neutralizeControls(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
}

/**
 * Escape one line of text for Markdown (CommonMark/GFM), so that it renders literally:
 * - `&`, `<`, `>` become entities (no raw HTML, no autolink, no blockquote);
 * - inline syntax is backslash-escaped: emphasis, code, links/images, tables, strikethrough, math;
 * - block syntax at the start of the line is neutralised: headings, list items, setext underlines.
 * Leading whitespace is dropped (four spaces would start a code block).
 */
export function escapeMarkdown(value: unknown): string {
  let s = neutralizeControls(String(value ?? '').replace(/[\r\n]+/g, ' ')).replace(/^\s+/, '')
  s = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  s = s.replace(/[\\`*_[\]|~$!{}]/g, (c) => `\\${c}`)
  // Block markers only matter at the start of a line.
  s = s.replace(/^([#+=-])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2')
  return s
}

/** A Markdown table cell: one line, escaped, never empty (an empty cell is fine but "-" reads better). */
export function mdCell(value: unknown, empty = ''): string {
  const s = escapeMarkdown(value)
  return s === '' ? empty : s
}

/** A block of free text as paragraphs and bullet lists (lines starting "- ", "* " or "• "). */
export type TextBlock = {kind: 'p'; lines: string[]} | {kind: 'ul'; items: string[]}

export function textBlocks(text: string): TextBlock[] {
  const blocks: TextBlock[] = []
  let current: TextBlock | undefined
  for (const raw of neutralizeControls(text.replace(/\r\n?/g, '\n')).split('\n')) {
    const line = raw.trim()
    if (line === '') {
      current = undefined
      continue
    }
    const bullet = /^[-*•]\s+(.*)$/.exec(line)
    if (bullet) {
      if (current?.kind !== 'ul') {
        current = {kind: 'ul', items: []}
        blocks.push(current)
      }
      current.items.push(bullet[1]!)
      continue
    }
    if (current?.kind !== 'p') {
      current = {kind: 'p', lines: []}
      blocks.push(current)
    }
    current.lines.push(line)
  }
  return blocks
}
