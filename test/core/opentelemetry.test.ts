/**
 * The `meter` option takes OpenTelemetry's own `Meter` as it is: `@opentelemetry/api` (a dev dependency only, for
 * this test) type-checks against `MeterLike` here, and a kit built with its meter works. Without an SDK
 * registered, the API hands out a no-op meter, so this checks the shapes, not the export pipeline.
 */
import { metrics } from '@opentelemetry/api'
import { expect, it } from 'vitest'
import { createSessionkit, MemoryStore, type MeterLike } from '../../src/index.js'
import { Browser } from '../helpers/browser.js'

it("OpenTelemetry's Meter is a MeterLike, and a kit with it signs in and lists as usual", async () => {
  const meter: MeterLike = metrics.getMeter('sessionkit')
  const kit = createSessionkit({
    store: new MemoryStore({ sweepIntervalMs: 0 }),
    cookie: { secure: false },
    meter,
  })
  const browser = new Browser(kit)
  await browser.request((s) => s.signIn('otel-user'))
  expect(await kit.listSessions('otel-user')).toHaveLength(1)
})
