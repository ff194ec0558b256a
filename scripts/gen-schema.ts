// Writes schemas/playbook.schema.json from the zod schema (npm run schema). A unit test checks it is current.
import {writeFileSync} from 'node:fs'

import {playbookJsonSchema} from '../src/playbook/schema.js'

writeFileSync(
  new URL('../schemas/playbook.schema.json', import.meta.url),
  `${JSON.stringify(playbookJsonSchema(), null, 2)}\n`,
)
