import {z} from 'zod/v4'

/** The actions a playbook step may use. There is deliberately no shell action. */
export const ACTIONS = [
  'isolate',
  'release',
  'snapshot',
  'collect',
  'rotate',
  'rebuild',
  'audit',
  'report',
  'confirm',
  'note',
] as const
export type ActionName = (typeof ACTIONS)[number]

export const INPUT_TYPES = ['string', 'boolean', 'number', 'containers', 'path', 'severity'] as const

const id = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_", starting with a letter')

export const InputSchema = z
  .object({
    type: z
      .enum(INPUT_TYPES)
      .describe(
        'containers: names or ids, comma-separated; path: a folder or file; severity: low|medium|high|critical',
      ),
    description: z.string().optional(),
    required: z.boolean().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  })
  .strict()

export const StepSchema = z
  .object({
    id: id.describe('Unique step id, referenced by requires'),
    action: z.enum(ACTIONS),
    name: z.string().optional().describe('A short title shown in plans and progress'),
    why: z.string().optional().describe('One or two plain sentences: what the step does and why (shown by ir respond)'),
    with: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Parameters of the action; strings may use ${{ inputs.name }}'),
    when: z
      .union([z.string(), z.boolean()])
      .optional()
      .describe('Run only when true, e.g. "${{ inputs.rebuild }}" or "${{ inputs.mode == \'stop\' }}"'),
    on_error: z
      .enum(['stop', 'continue'])
      .optional()
      .describe('stop (default) ends the run at a failure; continue goes on'),
    requires: z.array(id).optional().describe('Steps that must have succeeded before this one runs'),
    timeout: z
      .union([z.string().regex(/^\d+(s|m|h)$/, 'a duration such as 90s, 10m or 1h'), z.number().int().positive()])
      .optional()
      .describe('Maximum duration (seconds, or 90s / 10m / 1h)'),
  })
  .strict()

const webhook = z.string().regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// webhook URL')

/** Where to tell about each step (used when neither --notify nor IR_NOTIFY_URL is given). */
export const NotifySchema = z.union([
  webhook,
  z
    .object({
      url: webhook,
      format: z
        .enum(['json', 'slack'])
        .optional()
        .describe('json (ir message) or slack ({"text": ...}); default: slack for hooks.slack.com'),
    })
    .strict(),
])

export const PlaybookSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    notify: NotifySchema.optional().describe(
      'A webhook told about each step start and end and each finding (docs/notify.md); --notify and IR_NOTIFY_URL take precedence. It is a secret: keep such a playbook private.',
    ),
    version: z.union([z.string(), z.number()]).optional(),
    inputs: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), InputSchema).optional(),
    steps: z.array(StepSchema).min(1),
  })
  .strict()

export type Playbook = z.infer<typeof PlaybookSchema>
export type Step = z.infer<typeof StepSchema>
export type InputDef = z.infer<typeof InputSchema>

/** The JSON Schema shipped in schemas/playbook.schema.json for editors. */
export function playbookJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(PlaybookSchema),
    $id: 'https://github.com/ir-docker/ir/schemas/playbook.schema.json',
    title: 'ir playbook',
  }
}
