import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ROOT, runIr, tempDir} from '../helpers/cli.js'
import {layerFiles, readSavedImage} from '../helpers/image-tar.js'
import {OWN_ENGINE, TEST_IMAGE, TestDocker} from '../helpers/docker.js'

/**
 * The runbook's `docker system prune -a -f`, host-wide. It runs in its own vitest project after
 * every other test (nothing else runs beside it), and only on an engine the test run started itself.
 * On a shared engine it removes only what it created (the container and the evidence image).
 */
const t = new TestDocker('prune')
let incidents: string
let env: Record<string, string>
const CASE = `CASE-PRUNE-${t.runId}`
const MARK = `pruned-${t.runId}`
let victim: {id: string; name: string}

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  victim = await t.run('victim', {cmd: ['sh', '-c', `echo ${MARK} > /tmp/${MARK}; echo log-${MARK}; exec sleep 3600`]})
  await new Promise((r) => setTimeout(r, 300))
  const s = await runIr(['snapshot', victim.name, '--case', CASE, '--yes'], {env})
  expect(s.exitCode, s.stderr).toBe(0)
  const c = await runIr(['collect', victim.name, '--case', CASE], {env})
  expect(c.exitCode, c.stderr).toBe(0)
})

afterAll(async () => {
  await t.cleanup()
  // The prune took the shared test image too: build it again for whatever runs next.
  await execa('bash', ['-c', '. scripts/engine-lib.sh && ir_build_test_image'], {
    cwd: ROOT,
    env: {...process.env, IR_TEST_IMAGE: TEST_IMAGE},
  })
})

describe('evidence survives the runbook cleanup', () => {
  it(`survives ${OWN_ENGINE ? 'docker system prune -a -f' : 'removing the container and the evidence image'}: everything verifies, the saved image loads back`, async () => {
    const artifacts = JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8')).artifacts as Array<{
      type: string
      path: string
      meta?: {tag?: string}
    }>
    const imageTar = artifacts.find((a) => a.type === 'image-tar')!
    const tag = String(imageTar.meta?.tag)
    await t.docker.getContainer(victim.id).remove({force: true, v: true})
    if (OWN_ENGINE) await execa('docker', ['system', 'prune', '-a', '-f'], {timeout: 300_000})
    else await t.docker.getImage(tag).remove({force: true})
    await expect(t.docker.getImage(tag).inspect()).rejects.toThrow()
    await expect(t.docker.getContainer(victim.id).inspect()).rejects.toThrow()

    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout).toBe(0)
    // The logs of the removed container are still in the case.
    const logs = artifacts.find((a) => a.type === 'log-archive')!
    const {stdout} = await execa('tar', ['-xzOf', join(incidents, CASE, logs.path), '--wildcards', '*/logs/stdout.log'])
    expect(stdout).toContain(`log-${MARK}`)

    const load = await execa('docker', ['load', '-i', join(incidents, CASE, imageTar.path)], {timeout: 120_000})
    expect(load.stdout).toContain(tag)
    t.trackImage(tag)
    const out = await execa(
      'docker',
      ['run', '--rm', '--label', `ir.test.run=${t.runId}`, tag, 'cat', `/tmp/${MARK}`],
      {timeout: 60_000},
    )
    expect(out.stdout.trim()).toBe(MARK)
    // And the image tar holds that file in a layer, independently of Docker and of its layout.
    const names = await layerFiles(await readSavedImage(join(incidents, CASE, imageTar.path)))
    expect(names).toContain(`tmp/${MARK}`)
  })
})
