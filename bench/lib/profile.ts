/** Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): top self-time functions and self time by module. */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  /** Busy time sampled (idle excluded), ms. */
  readonly busyMs: number
  readonly top: { name: string; where: string; module: string; selfPct: number }[]
  readonly modules: { module: string; selfPct: number }[]
}

/** Which package (or part of the runtime) a script URL belongs to. */
export function moduleOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)'
  if (url.startsWith('node:')) return 'node internals'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]!}/${rest[1]!}` : rest[0]!
  }
  if (url.includes('/dist/')) return 'sessionkit'
  if (url.includes('/bench/')) return 'bench server'
  return url
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length)
  const dist = url.indexOf('/dist/')
  if (dist !== -1) return `sessionkit/${url.slice(dist + 1)}`
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/')
}

export function summarizeProfile(path: string, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const fns = new Map<string, { name: string; where: string; module: string; us: number }>()
  const modules = new Map<string, number>()
  let busy = 0
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame
    if (frame.functionName === '(idle)') continue
    busy += us
    const name = frame.functionName || '(anonymous)'
    const where = frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    const module = moduleOf(frame.url, name)
    const key = `${name}@${where}`
    const entry = fns.get(key) ?? { name, where, module, us: 0 }
    entry.us += us
    fns.set(key, entry)
    modules.set(module, (modules.get(module) ?? 0) + us)
  }
  const pct = (us: number): number => (busy === 0 ? 0 : (100 * us) / busy)
  return {
    busyMs: busy / 1000,
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ name: f.name, where: f.where, module: f.module, selfPct: pct(f.us) })),
    modules: [...modules.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([module, us]) => ({ module, selfPct: pct(us) })),
  }
}
