#!/usr/bin/env node
// Checks the import structure of src/: no import circles (type-only imports count too), and every folder imports
// only the folders below it. Run by `npm run check` (and so by `npm test`). Exit code 1 lists what is wrong.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src')

// Which top-level folders of src/ each folder may import (besides itself). Data walks one way:
// adapters / ui / cli -> admin -> core, stores -> core; nothing imports upwards.
const ALLOWED = {
  core: [],
  admin: ['core'],
  stores: ['core', 'admin'],
  adapters: ['core'],
  ui: ['core', 'admin'],
  cli: ['core', 'admin', 'stores'],
  testing: ['core', 'stores'],
  migrate: ['core', 'stores'],
  '.': ['core', 'admin', 'stores', 'adapters', 'ui', 'cli', 'testing', 'migrate'],
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return walk(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts') ? [path] : []
  })
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

function importsOf(file) {
  const text = readFileSync(file, 'utf8')
  const out = []
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2]
    if (spec?.startsWith('.')) out.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
  }
  return out
}

function folderOf(file) {
  const rel = relative(ROOT, file)
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '.'
}

const files = walk(ROOT)
const graph = new Map(files.map((file) => [file, importsOf(file)]))
const problems = []

for (const [file, targets] of graph) {
  const from = folderOf(file)
  for (const target of targets) {
    const to = folderOf(target)
    if (!graph.has(target))
      problems.push(`${relative(ROOT, file)} imports a missing file ${relative(ROOT, target)}`)
    else if (to !== from && !(ALLOWED[from] ?? []).includes(to)) {
      problems.push(
        `${relative(ROOT, file)} (${from}/) imports ${relative(ROOT, target)} (${to}/): not allowed`,
      )
    }
  }
}

// Tarjan's strongly connected components: any component of two or more files is a circle.
let index = 0
const stack = []
const info = new Map()
function connect(file) {
  const node = { index, low: index, onStack: true }
  index++
  info.set(file, node)
  stack.push(file)
  for (const target of graph.get(file) ?? []) {
    if (!graph.has(target)) continue
    const seen = info.get(target)
    if (!seen) {
      connect(target)
      node.low = Math.min(node.low, info.get(target).low)
    } else if (seen.onStack) node.low = Math.min(node.low, seen.index)
  }
  if (node.low === node.index) {
    const component = []
    let member
    do {
      member = stack.pop()
      info.get(member).onStack = false
      component.push(relative(ROOT, member))
    } while (member !== file)
    if (component.length > 1) problems.push(`import circle: ${component.sort().join(' <-> ')}`)
  }
}
for (const file of files) if (!info.has(file)) connect(file)

if (problems.length > 0) {
  console.error(`check-architecture: ${problems.length} problem(s) in src/`)
  for (const problem of problems) console.error(`  ${problem}`)
  process.exit(1)
}
console.log(`check-architecture: ${files.length} files, no import circles, every import points down`)
