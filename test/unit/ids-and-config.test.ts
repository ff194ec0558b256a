import {describe, expect, it} from 'vitest'

import {generateCaseId, validateCaseId} from '../../src/case/ids.js'
import {parseDockerHost} from '../../src/docker/engine-config.js'
import {matchRef, parseRef, resolveRef} from '../../src/services/targets.js'
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
    const resolveOne = (ref: string) => resolveRef(all, parseRef(ref))
    expect(resolveOne('web-1')).toMatchObject({id: all[0]!.id})
    expect(resolveOne(all[1]!.id)).toMatchObject({name: 'db-1'})
    expect(resolveOne(' abd')).toMatchObject({name: 'db-1', ref: ' abd'})
    expect(resolveOne('ab')).toMatchObject({reason: 'ambiguous'})
    expect(String((resolveOne('ab') as {error: Error}).error.message)).toMatch(/"ab" is ambiguous: it matches 2/)
    expect(resolveOne('nope')).toMatchObject({reason: 'not-found'})
    expect(String((resolveOne('nope') as {error: Error}).error.message)).toMatch(/No container/)
    // The match itself is typed: how it was found, or every container an ambiguous prefix names.
    expect(matchRef(all, 'web-1')).toMatchObject({kind: 'found', by: 'name'})
    expect(matchRef(all, all[1]!.id)).toMatchObject({kind: 'found', by: 'id'})
    expect(matchRef(all, 'abd')).toMatchObject({kind: 'found', by: 'id-prefix', name: 'db-1'})
    expect(matchRef(all, 'ab')).toEqual({kind: 'ambiguous', matches: [all[0], all[1]]})
    expect(matchRef(all, 'nope')).toEqual({kind: 'not-found'})
  })
})
