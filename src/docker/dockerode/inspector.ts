import type {InspectReader} from '../types.js'
import {dockerStatus} from '../errors.js'
import type {Caller} from './caller.js'

export class DockerodeInspector implements InspectReader {
  constructor(private readonly c: Caller) {}

  async info(): Promise<Record<string, unknown>> {
    return (await this.c.call('read engine info', () => this.c.docker.info())) as Record<string, unknown>
  }

  async networks(): Promise<Array<Record<string, unknown>>> {
    return (await this.c.call('list networks', () => this.c.docker.listNetworks())) as unknown as Array<
      Record<string, unknown>
    >
  }

  async network(idOrName: string): Promise<Record<string, unknown> | undefined> {
    return this.c
      .call(
        `inspect network ${idOrName}`,
        () => this.c.docker.getNetwork(idOrName).inspect() as unknown as Promise<Record<string, unknown>>,
        (err) => (dockerStatus(err) === 404 ? {} : undefined),
      )
      .then((n) => (Object.keys(n).length === 0 ? undefined : n))
  }

  async swarm(): Promise<Record<string, unknown> | undefined> {
    const s = await this.c.call(
      'inspect the swarm',
      () => this.c.docker.swarmInspect() as Promise<Record<string, unknown>>,
      (err) => {
        const status = dockerStatus(err)
        return status === 503 || status === 406 ? {} : undefined
      },
    )
    return Object.keys(s).length === 0 ? undefined : s
  }

  async exec(id: string): Promise<{id: string; privileged: boolean; user: string} | undefined> {
    type ExecDoc = {ID?: string; Privileged?: boolean; ProcessConfig?: {user?: string; privileged?: boolean}}
    const e = await this.c.call<ExecDoc>(
      `inspect exec ${id.slice(0, 12)}`,
      () => this.c.docker.getExec(id).inspect(),
      (err) => (dockerStatus(err) === 404 ? {} : undefined),
    )
    if (!e.ID) return undefined
    return {
      id: e.ID,
      privileged: Boolean(e.Privileged ?? e.ProcessConfig?.privileged),
      user: e.ProcessConfig?.user ?? '',
    }
  }

  async image(ref: string): Promise<Record<string, unknown>> {
    return (await this.c.call(`inspect image ${ref}`, () =>
      this.c.docker.getImage(ref).inspect(),
    )) as unknown as Record<string, unknown>
  }
}
