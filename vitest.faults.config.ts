import { defineConfig } from 'vitest/config'

/**
 * The fault suite (`npm run test:faults`): every scenario starts its own Redis deployment (single node, Sentinel,
 * Cluster) and its own app process, injects a fault under HTTP load and asserts the guarantees. Files run one at a
 * time: each scenario loads both cores, and two at once would turn every deadline into a scheduling lottery.
 *
 * `SESSIONKIT_FAULTS=ci` (`npm run test:faults:ci`, what `.ci/run` runs) picks a subset with shorter outages; the
 * default is the full matrix (the nightly run).
 */
export default defineConfig({
  resolve: { conditions: ['sessionkit-source'] },
  ssr: { resolve: { conditions: ['sessionkit-source'] } },
  test: {
    include: ['test/faults/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    reporters: process.env.SESSIONKIT_TEST_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.SESSIONKIT_TEST_REPORT ? { json: process.env.SESSIONKIT_TEST_REPORT } : {},
  },
})
