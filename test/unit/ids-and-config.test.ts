import {describe, expect, it} from 'vitest'

import {generateCaseId, validateCaseId} from '../../src/case/ids.js'
import {parseDockerHost} from '../../src/docker/engine-config.js'
import {resolveOne} from '../../src/docker/resolve.js'
import {AbortError} from '../../src/errors.js'

describe('case ids', () => {
  it('accepts generated and ordinary ids, rejects separators and ..', () => {
    expect(validateCaseId(generateCaseId())).toMatch(/^IR-\d{8}-\d{6}-[0-9a-f]{4}$/)
    expect(validateCaseId('INC-2026.11_a')).toBe('INC-2026.11_a')
    for (const bad of ['../x', 'a/b', 'a\\b', '..', '.hidden', '-x', '', 'a..b']) {
      expect(() => validateCaseId(bad), bad).toThrow(AbortError)
    }
  })
})

describe('DOCKER_HOST parsing', () => {
  it('understands unix, tcp and ssh like the docker CLI', () => {
    expect(parseDockerHost('unix:///run/x.sock').options).toEqual({socketPath: '/run/x.sock'})
    expect(parseDockerHost('tcp://10.1.2.3:2375').options).toEqual({host: '10.1.2.3', port: 2375, protocol: 'http'})
    expect(parseDockerHost('ssh://ops@h1')).toEqual({
      display: 'ssh://ops@h1',
      options: {},
      ssh: {host: 'h1', user: 'ops', display: 'ssh://ops@h1'},
    })
    expect(() => parseDockerHost('tcp://h:2376', {DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent'})).toThrow(
      /ca\.pem/,
    )
    expect(() => parseDockerHost('ftp://x')).toThrow(/not supported/)
  })
})

describe('container references', () => {
  const all = [
    {
      id: 'abc123' + '0'.repeat(58),
      names: ['web-1'],
      image: 'i',
      imageId: 'sha256:i',
      state: 'running',
      status: '',
      labels: {},
    },
    {
      id: 'abd456' + '0'.repeat(58),
      names: ['db-1'],
      image: 'i',
      imageId: 'sha256:i',
      state: 'running',
      status: '',
      labels: {},
    },
  ]
  it('resolves by name, full id and unique prefix; reports ambiguous and unknown', () => {
    expect(resolveOne(all, 'web-1')).toMatchObject({id: all[0]!.id})
    expect(resolveOne(all, all[1]!.id)).toMatchObject({name: 'db-1'})
    expect(resolveOne(all, 'abd')).toMatchObject({name: 'db-1'})
    expect(String((resolveOne(all, 'ab') as {error: Error}).error.message)).toMatch(/ambiguous/)
    expect(String((resolveOne(all, 'nope') as {error: Error}).error.message)).toMatch(/No container/)
  })
})
