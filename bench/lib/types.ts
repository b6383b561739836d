/** The shapes run.ts records and report.ts renders. */
import type { MicroResult } from '../micro.js'
import type { RevocationResult } from '../revocation.js'
import type { ProfileSummary } from './profile.js'

export type Framework = 'express' | 'fastify'
/**
 * `floor`: the bare framework plus the Redis round trips a session needs and nothing else. `compat`: sessionkit in
 * the express-session / @fastify/session API mode, with (@fastify/)passport on top. `near`: sessionkit with
 * RedisStore's near cache on.
 */
export type Kind = 'bare' | 'floor' | 'peer' | 'sessionkit' | 'compat' | 'near'

export interface ServerConfig {
  readonly id: string
  readonly label: string
  readonly framework: Framework
  readonly kind: Kind
  readonly file: string
  readonly env?: Record<string, string>
  /** The routes measured on this server (default: all). */
  readonly routes?: readonly RouteSpec['id'][]
}

export interface RouteSpec {
  readonly id: 'read' | 'write' | 'signin'
  readonly label: string
  readonly path: string
  readonly method: 'GET' | 'POST'
  /** Sent with the round's shared session cookie (read, write) or without a cookie (sign-in). */
  readonly withCookie: boolean
}

export interface Sample {
  readonly round: number
  readonly server: string
  readonly route: RouteSpec['id']
  readonly rps: number
  readonly requests: number
  readonly wrkP50Ms: number
  readonly wrkP99Ms: number
  readonly cpuUsPerReq: number
  readonly commandsPerReq: number
  readonly roundTripsPerReq: number
  readonly byCommand: Record<string, number>
  readonly errors: number
  readonly non2xx: number
  readonly raw?: { rps: number; p50Ms: number; p99Ms: number; errors: number; non2xx: number }
}

export interface Machine {
  readonly nproc: number
  readonly cpuModel: string
  readonly node: string
  readonly redis: string
  readonly wrk: string
  readonly kernel: string
  readonly date: string
}

export interface Settings {
  readonly quick: boolean
  readonly command: string
  readonly rounds: number
  readonly warmSeconds: number
  readonly measureSeconds: number
  readonly latencySeconds: number
  readonly latencyRounds: number
  readonly connections: number
  readonly profileSeconds: number
  readonly scaleSessions: number
  readonly scaleUsers: number
  readonly loadGenerator: string
}

export interface ProfileRun {
  readonly server: string
  readonly route: RouteSpec['id']
  readonly summary: ProfileSummary
}

export interface BenchResults {
  readonly settings: Settings
  readonly machine: Machine
  readonly servers: readonly ServerConfig[]
  readonly routes: readonly RouteSpec[]
  readonly samples: Sample[]
  readonly micro: MicroResult | undefined
  readonly revocation?: RevocationResult | undefined
  readonly profiles: ProfileRun[]
  readonly durationSeconds: number
}
