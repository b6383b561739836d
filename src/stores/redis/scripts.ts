/**
 * Loads the Lua scripts from `./scripts/*.lua`, each prefixed with the shared helpers of `lib.lua`, and computes
 * the SHA1 that EVALSHA needs. The files ship with the package (copied into `dist/` by the build).
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

export interface LuaScript {
  readonly name: string
  readonly source: string
  readonly sha: string
  /** Whether the reply starts with the server time (`{now, ...}`), which keeps the store's clock estimate fresh. */
  readonly repliesServerTime: boolean
}

function read(name: string): string {
  return readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8')
}

const lib = read('lib')

/**
 * Every script starts with a shebang (Redis >= 7.0) and declares no flags, so Redis treats it as a write script
 * whether or not this call writes: a replica (an old primary that Sentinel demoted, still serving its stale data
 * while it resyncs) refuses it with READONLY instead of answering a load from data the primary no longer has.
 */
const SHEBANG = '#!lua'

function load(name: string, repliesServerTime = false): LuaScript {
  const source = `${SHEBANG}\n${lib}\n${read(name)}`
  return { name, source, sha: createHash('sha1').update(source).digest('hex'), repliesServerTime }
}

export const scripts = {
  load: load('load', true),
  create: load('create', true),
  save: load('save'),
  claim: load('claim'),
  destroy: load('destroy'),
  list: load('list'),
  revoke: load('revoke'),
  cleanup: load('cleanup'),
  snapshot: load('snapshot'),
  peek: load('peek', true),
  anonymous: load('anonymous'),
  takeLegacy: load('take-legacy'),
  restoreLegacy: load('restore-legacy'),
} as const
