import {describe, expect, it} from 'vitest'

import {notFoundHint, suggestContainers} from '../../src/services/suggest.js'
import {parseRef, resolveRef} from '../../src/services/targets.js'
import type {ContainerSummary} from '../../src/docker/types.js'

const c = (name: string, image: string, labels: Record<string, string> = {}): ContainerSummary => ({
  id: `${name.padEnd(12, '0')}`.replace(/[^0-9a-z]/g, 'a'),
  names: [name],
  image,
  imageId: 'sha256:x',
  state: 'running',
  status: 'Up',
  labels,
})
const ALL = [
  c('uxlab_db_1', 'postgres:16', {'com.docker.compose.service': 'db'}),
  c('uxlab_web_1', 'registry.local:5000/shop/nginx:1.25', {'com.docker.compose.service': 'web'}),
  c('worker', 'busybox:latest'),
  c('cache', 'redis@sha256:abc'),
]

describe('suggestions for an unknown container reference', () => {
  it('offers the compose service of that name first, with its service and image', () => {
    expect(suggestContainers(ALL, 'web')[0]).toMatchObject({
      name: 'uxlab_web_1',
      why: 'service web, image registry.local:5000/shop/nginx:1.25',
    })
    const r = resolveRef(ALL, parseRef('web'))
    expect('error' in r && r.error.hint).toBe(
      'Did you mean uxlab_web_1 (service web, image registry.local:5000/shop/nginx:1.25)?',
    )
    expect('error' in r && r.error.exitName).toBe('NOT_FOUND')
  })

  it("names the image as typed, without the docker.io/ Podman's compat API adds", () => {
    const podman = [c('uxlab_web_1', 'docker.io/library/nginx:1.25', {'com.docker.compose.service': 'web'})]
    expect(suggestContainers(podman, 'web')[0]?.why).toBe('service web, image nginx:1.25')
    const shop = [c('shop_web_1', 'docker.io/shop/web:1', {'com.docker.compose.service': 'web'})]
    expect(suggestContainers(shop, 'web')[0]?.why).toBe('service web, image shop/web:1')
    const other = [c('x', 'quay.io/docker.io/y:1')]
    expect(suggestContainers(other, 'x')[0]?.why).toBe('image quay.io/docker.io/y:1')
  })

  it('matches an image by its short name, a part of a name, and a typo', () => {
    expect(suggestContainers(ALL, 'nginx').map((s) => s.name)).toEqual(['uxlab_web_1'])
    expect(suggestContainers(ALL, 'redis').map((s) => s.name)).toEqual(['cache'])
    expect(suggestContainers(ALL, 'uxlab').map((s) => s.name)).toEqual(['uxlab_db_1', 'uxlab_web_1'])
    expect(suggestContainers(ALL, 'wroker').map((s) => s.name)).toEqual(['worker'])
  })

  it('offers nothing far away, and then says how to list containers', () => {
    expect(suggestContainers(ALL, 'kubernetes-api')).toEqual([])
    expect(notFoundHint(ALL, 'kubernetes-api')).toBe('List containers with `docker ps -a`.')
    expect(notFoundHint([], 'web')).toBe('List containers with `docker ps -a`.')
  })
})
