import type {ActionName} from '../schema.js'
import {audit} from './audit.js'
import {collect} from './collect.js'
import {confirm} from './confirm.js'
import type {ActionDef} from './define.js'
import {isolate} from './isolate.js'
import {note} from './note.js'
import {rebuild} from './rebuild.js'
import {release} from './release.js'
import {report} from './report.js'
import {rotate} from './rotate.js'
import {snapshot} from './snapshot.js'

export type {ActionDef, Outputs, Phase, PlanContext, StepContext} from './define.js'

/** Every playbook action, by name: one file each, typed by defineAction. */
export const ACTION_DEFS: Record<ActionName, ActionDef<unknown>> = {
  isolate,
  release,
  snapshot,
  collect,
  rotate,
  rebuild,
  audit,
  report,
  confirm,
  note,
}
