import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {test: {name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000, sequence: {groupOrder: 0}}},
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.integration.test.ts', 'test/e2e/**/*.e2e.test.ts'],
          exclude: ['test/integration/prune.integration.test.ts', 'test/integration/hosts.integration.test.ts', 'test/integration/swarm.integration.test.ts', 'test/integration/swarm-nodes.integration.test.ts', 'test/integration/custody-engine-loss.integration.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
          sequence: {groupOrder: 1},
        },
      },
      {
        // Extra dockerd processes on this machine (multi-host, swarm): one file at a time, with nothing beside
        // them, since a dockerd restarting on an old data root touches the host's docker0 (the helper restores it).
        test: {
          name: 'engines',
          include: ['test/integration/hosts.integration.test.ts', 'test/integration/swarm.integration.test.ts', 'test/integration/swarm-nodes.integration.test.ts', 'test/integration/custody-engine-loss.integration.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          sequence: {groupOrder: 2},
        },
      },
      {
        // Host-wide `docker system prune -a -f`: alone, after everything else.
        test: {name: 'prune', include: ['test/integration/prune.integration.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, sequence: {groupOrder: 3}},
      },
    ],
  },
})
