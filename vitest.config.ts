import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {test: {name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000, sequence: {groupOrder: 0}}},
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.integration.test.ts', 'test/e2e/**/*.e2e.test.ts'],
          exclude: ['test/integration/prune.integration.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
          sequence: {groupOrder: 1},
        },
      },
      {
        // Host-wide `docker system prune -a -f`: alone, after everything else.
        test: {name: 'prune', include: ['test/integration/prune.integration.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, sequence: {groupOrder: 2}},
      },
    ],
  },
})
