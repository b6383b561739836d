import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['sessionkit-source'] },
  ssr: { resolve: { conditions: ['sessionkit-source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Run on their own: the fault suite (`npm run test:faults`), and the packed-package test
    // (`npm run test:package`: packing rewrites package.json and dist/).
    exclude: [...configDefaults.exclude, 'test/faults/**', 'test/package/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI asks for a JSON report too, to print its "N passed, N failed" line.
    reporters: process.env.SESSIONKIT_TEST_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.SESSIONKIT_TEST_REPORT ? { json: process.env.SESSIONKIT_TEST_REPORT } : {},
  },
})
