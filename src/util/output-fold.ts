/**
 * Where a long external command's output goes (compose build, up, down): the command layer folds it into one
 * progress line on a terminal and prints plain prefixed lines without one (src/render/progress.ts). The service
 * that runs the command keeps the full text as an artifact and names it at the end.
 */
export interface OutputFold {
  /** One output line (already redacted). */
  line(text: string): void
  /** The part of the job now running (e.g. `build (no cache, offline)`), shown before the last line. */
  phase?(name: string): void
  /**
   * The job ended. On success the folded line goes away; on failure the last lines are printed. `artifact`
   * is where the full text was kept (a path to show).
   */
  end(outcome: {ok: boolean; artifact?: string}): void
}
