import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

/**
 * An unknown container reference on the real engine: the error names the container of that compose
 * service (as a lab's `uxlab_web_1` for `web`), with its service and image, exit 4, and changes nothing.
 * A label value is the container owner's text: a control character in it reaches the terminal escaped.
 */
const t = new TestDocker('sug')
const SERVICE = `web${t.runId}`.toLowerCase()
let env: Record<string, string>
let web: {id: string; name: string}

beforeAll(async () => {
  env = {IR_INCIDENTS_DIR: await tempDir('ir-sug-')}
  web = await t.run(`lab_${SERVICE}_1`, {
    cmd: ['sleep', '3600'],
    labels: {'com.docker.compose.service': SERVICE, 'com.docker.compose.project': `p${t.runId}`},
  })
  await t.run(`evil${t.runId}`, {cmd: ['sleep', '3600'], labels: {'com.docker.compose.service': 'x\u001b[2Jy'}})
})

afterAll(async () => {
  await t.cleanup()
})

describe('suggestions for an unknown container', () => {
  it('ir isolate <service> names the container of that service, exit 4, nothing isolated', async () => {
    const r = await runIr(['isolate', SERVICE, '--dry-run'], {env})
    expect(r.exitCode).toBe(4)
    // One line for the failed reference, with the suggestion on it.
    // The image as the engine names it: `ir-test/busybox:latest` on Docker, `localhost/ir-test/busybox:latest` for
    // an image imported into Podman (its docker.io/ prefix, when there is one, is not shown).
    const image = (await t.inspect(web.id)).Config.Image.replace(/^docker\.io\/(library\/)?/, '')
    expect(image).toMatch(/^(localhost\/)?ir-test\/busybox:latest$/)
    expect(r.stderr.split('\n')).toContain(
      `✗ ${SERVICE}: No container named or with id "${SERVICE}" Did you mean ${web.name} (service ${SERVICE}, image ${image})?`,
    )
    expect((await t.inspect(web.id)).State.Status).toBe('running')
  })

  it("shows a label's control characters escaped, never raw", async () => {
    const r = await runIr(['isolate', `evil${t.runId}`.slice(0, -1), '--dry-run'], {env})
    expect(r.exitCode).toBe(4)
    expect(r.stderr).toContain('service x\\x1b[2Jy')
    expect(r.stderr).not.toContain('\u001b')
  })
})
