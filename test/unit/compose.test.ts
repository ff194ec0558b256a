import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {composeCommandLine, defaultProjectName, resolveProject} from '../../src/docker/compose.js'
import {baseImagesOf} from '../../src/services/rebuild/compose-model.js'
import {tempDir} from '../helpers/cli.js'

const project = {
  files: ['/srv/shop/compose.yml', '/srv/shop/compose.prod.yml'],
  projectDirectory: '/srv/shop',
  name: 'shop',
}

describe('compose command lines', () => {
  it('v2 runs `docker compose` with the project arguments before the subcommand', () => {
    expect(composeCommandLine('v2', project, ['build', '--no-cache', '--pull'])).toEqual({
      file: 'docker',
      args: [
        'compose',
        '-f',
        '/srv/shop/compose.yml',
        '-f',
        '/srv/shop/compose.prod.yml',
        '--project-directory',
        '/srv/shop',
        '-p',
        'shop',
        'build',
        '--no-cache',
        '--pull',
      ],
    })
  })

  it('v1 runs `docker-compose` with the same arguments', () => {
    expect(composeCommandLine('v1', project, ['down', '--remove-orphans'])).toEqual({
      file: 'docker-compose',
      args: [
        '-f',
        '/srv/shop/compose.yml',
        '-f',
        '/srv/shop/compose.prod.yml',
        '--project-directory',
        '/srv/shop',
        '-p',
        'shop',
        'down',
        '--remove-orphans',
      ],
    })
  })

  it('never builds a shell string: arguments with spaces and metacharacters stay one argument', () => {
    const odd = {files: ['/tmp/my project/compose.yml'], projectDirectory: '/tmp/my project', name: 'x;rm -rf /'}
    const line = composeCommandLine('v2', odd, ['up', '-d'])
    expect(line.args).toContain('/tmp/my project/compose.yml')
    expect(line.args).toContain('x;rm -rf /')
  })

  it('derives project names like compose v1 and v2', () => {
    expect(defaultProjectName('v2', '/srv/My_Shop-2', {})).toBe('my_shop-2')
    expect(defaultProjectName('v1', '/srv/My_Shop-2', {})).toBe('my_shop-2')
    expect(defaultProjectName('v2', '/srv/-My.Shop', {})).toBe('myshop')
    expect(defaultProjectName('v2', '/srv/x', {COMPOSE_PROJECT_NAME: 'override'})).toBe('override')
  })

  it('finds the default compose file and reports a missing one', async () => {
    const dir = await tempDir()
    await expect(resolveProject('v2', {projectDirectory: dir})).rejects.toThrow(/No compose file/)
    await writeFile(join(dir, 'docker-compose.yml'), 'services: {}\n')
    expect((await resolveProject('v2', {projectDirectory: dir, name: 'p'})).files).toEqual([
      join(dir, 'docker-compose.yml'),
    ])
  })

  it('takes the project name as compose does: -p, .env COMPOSE_PROJECT_NAME, top-level name:, then the folder', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'compose.yml'), 'name: shop\nservices: {}\n')
    expect((await resolveProject('v2', {projectDirectory: dir})).name).toBe('shop')
    expect((await resolveProject('v2', {projectDirectory: dir, name: 'given'})).name).toBe('given')
    await writeFile(join(dir, '.env'), 'COMPOSE_PROJECT_NAME=fromenv\n')
    expect((await resolveProject('v1', {projectDirectory: dir})).name).toBe('fromenv')
  })

  it('reads base images from FROM lines, skipping build stages and scratch', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'ctx'))
    await writeFile(
      join(dir, 'ctx', 'Dockerfile'),
      'ARG BASE=alpine:3.20\nFROM ${BASE} AS build\nRUN make\nFROM --platform=linux/amd64 debian:12-slim\nCOPY --from=build /x /x\nFROM build AS again\nFROM scratch\n',
    )
    expect(await baseImagesOf(join(dir, 'ctx', 'Dockerfile'))).toEqual(['alpine:3.20', 'debian:12-slim'])
  })
})
