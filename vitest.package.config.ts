import { defineConfig } from 'vitest/config'

// `npm run test:package`: packs sessionkit and installs the tarball into a fresh project (test/package/). Apart from
// `npm test` because packing rewrites package.json and dist/ while it runs; .ci/run runs both.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    pool: 'forks',
    // Building, packing and installing take a while on a busy machine; no test measures how long.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    reporters: process.env.SESSIONKIT_TEST_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.SESSIONKIT_TEST_REPORT ? { json: process.env.SESSIONKIT_TEST_REPORT } : {},
  },
})
