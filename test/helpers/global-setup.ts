/**
 * Vitest global setup: one private single-node Redis and one 3-master Cluster for the whole run. Tests isolate
 * themselves with a random key prefix; tests that kill or pause Redis start their own server.
 */
import type { TestProject } from 'vitest/node'
import { startCluster, startRedis } from './redis-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
    clusterAddresses: readonly string[]
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [redis, cluster] = await Promise.all([startRedis(), startCluster()])
  project.provide('redisUrl', redis.url)
  project.provide('clusterAddresses', cluster.addresses)
  return async () => {
    await Promise.all([redis.stop(), cluster.stop()])
  }
}
