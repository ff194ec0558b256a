import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {evaluateWhen, interpolate} from '../../src/playbook/expressions.js'
import {parsePlaybook} from '../../src/playbook/loader.js'
import {resolveInputs} from '../../src/playbook/runner.js'
import {playbookJsonSchema} from '../../src/playbook/schema.js'
import {ROOT} from '../helpers/cli.js'

const ok = `name: t
inputs:
  containers: {type: containers, required: true}
steps:
  - id: a
    action: isolate
    with: {containers: "\${{ inputs.containers }}"}
  - id: b
    action: snapshot
    requires: [a]
    with: {containers: "\${{ inputs.containers }}"}
`

describe('playbook validation names line and column', () => {
  it('accepts a valid playbook and the shipped ones', async () => {
    expect(parsePlaybook(ok, 'ok.yml').problems).toEqual([])
    for (const name of ['breach', 'contain', 'recover']) {
      const file = join(ROOT, 'playbooks', `${name}.yml`)
      expect(parsePlaybook(await readFile(file, 'utf8'), file).problems, name).toEqual([])
    }
  })

  it('reports a YAML syntax error with its position', () => {
    const {problems} = parsePlaybook('name: t\nsteps:\n  - id: a\n    action: [isolate\n', 'bad.yml')
    expect(problems[0]).toMatchObject({file: 'bad.yml', line: expect.any(Number), column: expect.any(Number)})
    expect(problems[0]!.message).toMatch(/YAML syntax/)
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4)
  })

  it('reports an unknown action at the action line, listing the allowed ones', () => {
    const text = ok.replace('action: snapshot', 'action: shell')
    const {problems} = parsePlaybook(text, 'x.yml')
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({line: 9, column: 13})
    expect(problems[0]!.message).toMatch(/unknown action; expected one of isolate, release/)
  })

  it('reports a cycle in requires, an unknown step, an undeclared input and a later step', () => {
    const cyc = `name: c
steps:
  - id: a
    action: note
    with: {text: x}
    requires: [b]
  - id: b
    action: note
    with: {text: y}
    requires: [a]
`
    const c = parsePlaybook(cyc, 'c.yml').problems
    expect(c.some((p) => /cycle a -> b -> a|cycle b -> a -> b/.test(p.message))).toBe(true)
    expect(c.every((p) => p.line > 0 && p.column > 0)).toBe(true)
    const unknown = parsePlaybook(ok.replace('requires: [a]', 'requires: [zz]'), 'u.yml').problems
    expect(unknown[0]).toMatchObject({line: 10, message: expect.stringMatching(/no step with id "zz"/)})
    const undeclared = parsePlaybook(
      ok.replace('inputs.containers }}"}\n  - id: b', 'inputs.nope }}"}\n  - id: b'),
      'i.yml',
    ).problems
    expect(undeclared[0]!.message).toMatch(/undeclared input "nope"/)
  })

  it('reports unknown keys and a missing required input with the input declaration position', () => {
    expect(
      parsePlaybook(ok.replace('    action: isolate', '    action: isolate\n    run: rm -rf /'), 'k.yml').problems[0]!
        .message,
    ).toMatch(/unknown key\(s\) "run"/)
    const parsed = parsePlaybook(ok, 'ok.yml')
    const loaded = {
      file: 'ok.yml',
      sha256: '',
      playbook: parsed.playbook!,
      stepLines: parsed.stepLines,
      inputLines: parsed.inputLines,
    }
    expect(() => resolveInputs(loaded, {}, parsed.inputLines)).toThrow(/ok\.yml:3:3: input "containers" is required/)
    expect(resolveInputs(loaded, {containers: 'a, b'}, parsed.inputLines)).toEqual({containers: ['a', 'b']})
  })

  it('ships a JSON Schema that matches the validator (run `npm run schema` after changing it)', async () => {
    expect(JSON.parse(await readFile(join(ROOT, 'schemas', 'playbook.schema.json'), 'utf8'))).toEqual(
      playbookJsonSchema(),
    )
  })
})

describe('expressions', () => {
  it('interpolates inputs, keeping lists as lists, and evaluates when', () => {
    const inputs = {containers: ['a', 'b'], mode: 'stop', offline: false}
    expect(interpolate({c: '${{ inputs.containers }}', m: 'mode=${{ inputs.mode }}'}, inputs)).toEqual({
      c: ['a', 'b'],
      m: 'mode=stop',
    })
    expect(evaluateWhen('${{ inputs.offline }}', inputs)).toBe(false)
    expect(evaluateWhen('${{ !inputs.offline }}', inputs)).toBe(true)
    expect(evaluateWhen("${{ inputs.mode == 'stop' }}", inputs)).toBe(true)
    expect(evaluateWhen("${{ inputs.mode != 'stop' }}", inputs)).toBe(false)
    expect(() => interpolate('${{ process.env.HOME }}', inputs)).toThrow(/unsupported expression/)
  })
})
