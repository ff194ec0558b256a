import {defineConfig} from 'vitest/config'

const CUSTODY = [
  'test/integration/custody-concurrency.integration.test.ts',
  'test/integration/custody-kill.integration.test.ts',
]
const ENGINES = [
  'test/integration/hosts.integration.test.ts',
  'test/integration/swarm.integration.test.ts',
  'test/integration/swarm-nodes.integration.test.ts',
  'test/integration/custody-engine-loss.integration.test.ts',
  'test/integration/audit-daemon.integration.test.ts',
]
const PRUNE = 'test/integration/prune.integration.test.ts'
// Files an engine's pass leaves out, with the reason in scripts/test.sh (PODMAN_OPEN): space separated.
const LEFT_OUT = (process.env.IR_TEST_EXCLUDE ?? '').split(/\s+/).filter(Boolean)

export default defineConfig({
  test: {
    projects: [
      {test: {name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000, sequence: {groupOrder: 0}}},
      {
        // Commands run in-process on FakeEngine through BaseCommand.engineFactory: flags -> service options, no Docker.
        test: {name: 'command', include: ['test/command/**/*.test.ts'], testTimeout: 20_000, sequence: {groupOrder: 0}},
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.integration.test.ts', 'test/e2e/**/*.e2e.test.ts'],
          exclude: [...CUSTODY, ...ENGINES, PRUNE, ...LEFT_OUT],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
          sequence: {groupOrder: 1},
        },
      },
      {
        // Hundreds of ir processes at once, and SIGKILL at chosen points: alone, so nothing else starves them.
        test: {
          name: 'custody',
          include: CUSTODY,
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          sequence: {groupOrder: 2},
        },
      },
      {
        // Extra dockerd processes on this machine (multi-host, swarm, daemon audit, a killed engine): one file at a
        // time, with nothing beside them, since a dockerd restarting on an old data root touches the host's docker0
        // (the helper restores it).
        test: {
          name: 'engines',
          include: ENGINES,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          sequence: {groupOrder: 3},
        },
      },
      {
        // Host-wide `docker system prune -a -f`: alone, after everything else.
        test: {name: 'prune', include: [PRUNE], testTimeout: 300_000, hookTimeout: 300_000, sequence: {groupOrder: 4}},
      },
    ],
  },
})
