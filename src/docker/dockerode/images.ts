import type {Readable} from 'node:stream'

import {AbortError} from '../../errors.js'
import {isEvidenceImage, LABEL} from '../labels.js'
import type {IdempotentOutcome, ImageClient, ImageInfo} from '../types.js'
import {already, type Caller} from './caller.js'

export class DockerodeImages implements ImageClient {
  constructor(private readonly c: Caller) {}

  async inspect(ref: string): Promise<ImageInfo> {
    const raw = await this.c.call(`inspect image ${ref}`, () => this.c.docker.getImage(ref).inspect())
    return {
      id: raw.Id,
      repoTags: raw.RepoTags ?? [],
      labels: raw.Config?.Labels ?? {},
      created: raw.Created,
      size: raw.Size,
      user: raw.Config?.User ?? '',
      repoDigests: raw.RepoDigests ?? [],
    }
  }

  async list(
    opts: {filters?: Record<string, string[]>; all?: boolean} = {},
  ): Promise<Array<{id: string; repoTags: string[]; labels: Record<string, string>}>> {
    const rows = await this.c.call('list images', () =>
      this.c.docker.listImages({
        all: opts.all ?? false,
        ...(opts.filters ? {filters: opts.filters as unknown as string} : {}),
      }),
    )
    return rows.map((r) => ({id: r.Id, repoTags: r.RepoTags ?? [], labels: r.Labels ?? {}}))
  }

  save(ref: string): Promise<Readable> {
    return this.c.call(`save image ${ref}`, () => this.c.docker.getImage(ref).get() as Promise<Readable>)
  }

  remove(ref: string, opts: {force?: boolean} = {}): Promise<IdempotentOutcome> {
    return this.c.call(
      `remove image ${ref}`,
      async () => {
        // The one place ir removes images: an evidence image is never removed, whatever the caller asked.
        const info = await this.c.docker.getImage(ref).inspect()
        if (isEvidenceImage(info.Config?.Labels)) {
          throw new AbortError(`Refusing to remove ${ref}: it is an evidence image (label ${LABEL.evidence}=true)`, {
            exit: 'PRECONDITION',
          })
        }
        await this.c.docker.getImage(info.Id).remove({force: opts.force ?? false})
        return 'done' as const
      },
      already([404]),
    )
  }

  untag(ref: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `untag image ${ref}`,
      async () => {
        const info = await this.c.docker.getImage(ref).inspect()
        if (isEvidenceImage(info.Config?.Labels)) {
          throw new AbortError(`Refusing to remove ${ref}: it is an evidence image (label ${LABEL.evidence}=true)`, {
            exit: 'PRECONDITION',
          })
        }
        // By name, the engine removes that reference and deletes the image only if nothing else holds it.
        await this.c.docker.getImage(ref).remove({force: false})
        return 'done' as const
      },
      already([404]),
    )
  }

  async prune(opts: {dangling: boolean}): Promise<{deleted: number; spaceReclaimed: number}> {
    // Label filters keep evidence out whatever the engine considers unused.
    const filters = {dangling: [String(opts.dangling)], 'label!': [`${LABEL.evidence}=true`]}
    const out = (await this.c.call('prune images', () =>
      this.c.docker.pruneImages({filters: filters as unknown as string}),
    )) as {ImagesDeleted?: unknown[] | null; SpaceReclaimed?: number}
    return {deleted: out.ImagesDeleted?.length ?? 0, spaceReclaimed: out.SpaceReclaimed ?? 0}
  }

  async importImage(tar: Readable, opts: {repo: string; tag: string; changes: string[]}): Promise<string> {
    const ref = `${opts.repo}:${opts.tag}`
    await this.c.call(`import image ${ref}`, async () => {
      // POST /images/create?fromSrc=- with the tar as body; `changes` is repeated in the query string.
      // Without a callback dockerode answers with a Promise of the stream (its typings only know the callback form).
      const progress = await (this.c.docker.importImage(tar, {
        repo: opts.repo,
        tag: opts.tag,
        changes: [...opts.changes],
      } as never) as unknown as Promise<Readable>)
      // The answer is a JSON-lines progress stream: an {error} line is a failure even with HTTP 200.
      await new Promise<void>((resolve, reject) => {
        this.c.docker.modem.followProgress(
          progress,
          (err: Error | null, lines: Array<{error?: string; errorDetail?: {message?: string}}>) => {
            const failed = err ?? lines.find((l) => l.error)
            if (!failed) return resolve()
            reject(
              failed instanceof Error
                ? failed
                : new Error(failed.errorDetail?.message ?? failed.error ?? 'import failed'),
            )
          },
        )
      })
    })
    return (await this.inspect(ref)).id
  }
}
