import type {IdempotentOutcome, VolumeClient, VolumeSummary} from '../types.js'
import {already, type Caller} from './caller.js'

export class DockerodeVolumes implements VolumeClient {
  constructor(private readonly c: Caller) {}

  async list(opts: {filters?: Record<string, string[]>} = {}): Promise<VolumeSummary[]> {
    const out = await this.c.call('list volumes', () =>
      this.c.docker.listVolumes(opts.filters ? {filters: opts.filters} : {}),
    )
    return (out.Volumes ?? []).map((v) => ({name: v.Name, labels: (v.Labels as Record<string, string> | null) ?? {}}))
  }

  remove(name: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `remove volume ${name}`,
      async () => {
        await this.c.docker.getVolume(name).remove()
        return 'done' as const
      },
      already([404]),
    )
  }
}
