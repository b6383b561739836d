/**
 * One fault scenario, start to end: the app under load, the fault, the recovery, more load, then the verdict.
 *
 *   start app ─ load ─ warm-up ─ [fault begins … Redis back] ─ canary until it works ─ more load ─ stop ─ verify
 */
import { startApp, type AppSpec, type Memory } from './app-process.js'
import { LoadGenerator, type LoadOptions } from './load.js'
import { printReport } from './report.js'
import { verify, type FaultReport } from './verify.js'

export interface FaultContext {
  /** Marks the moment the fault begins (call it right after injecting it). */
  begin(): void
  /** Records the app's memory now (call it at the end of an outage, where piled-up work peaks). */
  sampleMemory(): Promise<void>
}

export interface ScenarioSpec {
  readonly name: string
  readonly app: AppSpec
  readonly load?: LoadOptions
  /** Load before the fault, ms. Default 3000. */
  readonly warmupMs?: number
  /** Load after the recovery, ms. Default 3000. */
  readonly afterMs?: number
  /** Longest wait for the app to work again once `fault` returned, ms. Default 60 000. */
  readonly recoveryLimitMs?: number
  /** Redis is down when the app starts: no warm-up, and the fault counts from the start. */
  readonly downAtStart?: boolean
  /** Whether the deployment keeps data through this fault (see VerifyInput.durable). */
  readonly durable: boolean
  /** Injects the fault, waits the outage out and brings Redis back. Returns when Redis is back. */
  fault(ctx: FaultContext): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function runScenario(spec: ScenarioSpec): Promise<FaultReport> {
  const app = await startApp(spec.app)
  const load = new LoadGenerator(app.url, spec.load)
  try {
    const samples: Memory[] = []
    let baseline: Memory
    if (spec.downAtStart) {
      load.ledger.faultAt = Number.NEGATIVE_INFINITY
      baseline = await app.memory()
      load.start()
    } else {
      await untilRecovered(load, 30_000, 'the app never worked before the fault')
      load.start()
      await sleep(spec.warmupMs ?? 3000)
      baseline = await app.memory()
    }
    await spec.fault({
      begin: () => {
        if (!spec.downAtStart) load.ledger.faultAt = performance.now()
      },
      sampleMemory: async () => {
        samples.push(await app.memory())
      },
    })
    const restoredAt = performance.now()
    await untilRecovered(load, spec.recoveryLimitMs ?? 60_000, 'the app did not recover')
    const recoveryMs = performance.now() - restoredAt
    await sleep(spec.afterMs ?? 3000)
    await load.stop()
    samples.push(await app.memory())
    const report = await verify({
      scenario: spec.name,
      base: app.url,
      load,
      memory: { baseline, samples },
      recoveryMs,
      appAlive: () => app.alive(),
      durable: spec.durable,
    })
    printReport(report)
    return report
  } finally {
    await load.stop()
    await app.stop()
  }
}

/** Runs canary rounds until one fully works, or throws after `limitMs`. */
async function untilRecovered(load: LoadGenerator, limitMs: number, message: string): Promise<void> {
  const deadline = performance.now() + limitMs
  while (!(await load.canary())) {
    if (performance.now() > deadline) throw new Error(`${message} within ${limitMs} ms`)
    await sleep(100)
  }
}
