/**
 * Counts what a piece of code sends to Redis, with MONITOR on a private redis-server: `commandsOf(fn)` returns the
 * commands sent while `fn` ran (upper case), leaving out those run inside scripts. For the round-trip tests.
 */
import { Redis } from 'ioredis'
import { sleep } from './browser.js'

export class CommandLog {
  readonly #control: Redis
  readonly #monitor: Redis
  readonly #seen: { args: string[]; source: string }[] = []
  #markers = 0

  private constructor(control: Redis, monitor: Redis) {
    this.#control = control
    this.#monitor = monitor
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      this.#seen.push({ args, source })
    })
  }

  /** Starts MONITOR on `control`'s server (`control` stays the caller's, for its own commands). */
  static async start(control: Redis): Promise<CommandLog> {
    return new CommandLog(control, await control.monitor())
  }

  /** The commands (not counting those run inside scripts) that `fn` sent to Redis. */
  async commandsOf(fn: () => Promise<unknown>): Promise<string[]> {
    const id = ++this.#markers
    await this.#control.echo(`start-${id}`)
    await fn()
    await this.#control.echo(`end-${id}`)
    const deadline = Date.now() + 10_000
    while (!this.#seen.some((c) => c.args[1] === `end-${id}`)) {
      if (Date.now() > deadline) throw new Error('MONITOR did not see the end marker')
      await sleep(5)
    }
    const start = this.#seen.findIndex((c) => c.args[1] === `start-${id}`)
    const end = this.#seen.findIndex((c) => c.args[1] === `end-${id}`)
    return this.#seen
      .slice(start + 1, end)
      .filter((c) => c.source !== 'lua')
      .map((c) => c.args[0]!.toUpperCase())
  }

  stop(): void {
    this.#monitor.disconnect()
  }
}
