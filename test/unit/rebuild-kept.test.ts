import {afterEach, describe, expect, it, vi} from 'vitest'

import {renderRebuild} from '../../src/render/rebuild.js'
import {keptImageReason, type RebuildResult} from '../../src/services/rebuild/rebuild.js'

const ID = '567d546a7d55bc94f720a114f9901af8ca801618a1db31b30511f5abdc0a1055'
// The engine resolves the short id Docker names, as `docker inspect 567d546a7d55` does.
const names = async (id: string): Promise<string | undefined> => (ID.startsWith(id) ? 'uxlab_web_1' : undefined)

describe('the former image the engine kept, in words', () => {
  it.each([
    [
      `remove image sha256:1de3: conflict: unable to delete 1de315a0de8f (cannot be forced) - image is being used by running container ${ID.slice(0, 12)} (engine answered HTTP 409)`,
      'in use by container uxlab_web_1 (567d546a7d55); kept',
    ],
    [
      'remove image sha256:1de3: conflict: unable to delete 1de315a0de8f (must be forced) - image is being used by stopped container 0123456789ab (engine answered HTTP 409)',
      'in use by container 0123456789ab; kept',
    ],
    [
      'remove image sha256:1de3: conflict: unable to delete 1de315a0de8f (cannot be forced) - image has dependent child images (engine answered HTTP 409)',
      'an image committed or built from it needs it (such as an evidence image); kept',
    ],
    [
      'remove image sha256:1de3: image is in use by a container: consider listing external containers and force-removing image (engine answered HTTP 409)',
      'in use by a container; kept',
    ],
    [
      'remove image sha256:1de3: conflict: something new (engine answered HTTP 409)',
      'not removed (something new); kept',
    ],
  ])('%s', async (message, words) => {
    const text = await keptImageReason(message, names)
    expect(text).toBe(words)
    expect(text).not.toMatch(/HTTP 409|conflict:/)
  })
})

describe('the rebuild table', () => {
  afterEach(() => vi.unstubAllEnvs())

  it('says "kept" (not "ok") on the image-removal row when an image was kept', () => {
    vi.stubEnv('NO_COLOR', '1')
    const text = renderRebuild({
      plan: {project: {name: 'uxlab', projectDirectory: '/x'}, composeFlavor: 'v2', isolated: [], warnings: []},
      dryRun: false,
      steps: [
        {step: 'down', ok: true, durationMs: 100},
        {
          step: 'remove former project images',
          ok: true,
          result: 'kept',
          durationMs: 100,
          detail: 'web 1de315a0de8f: in use by container uxlab_web_1 (567d546a7d55); kept',
        },
      ],
      services: [],
      imagesBefore: {},
      ok: true,
    } as unknown as RebuildResult)
    const row = text.split('\n').find((l) => l.startsWith('remove former project images'))!
    expect(row).toMatch(
      /^remove former project images\s+kept\s+0\.1 s\s+web 1de315a0de8f: in use by container uxlab_web_1/,
    )
    expect(text.split('\n').find((l) => l.startsWith('down'))).toMatch(/^down\s+ok\s/)
  })
})
