#!/usr/bin/env node
// Lists the functions (declarations, methods, arrows, function expressions) longer than the limit in the given
// folders, and fails when one has no reason: a comment containing "long:" in the lines just above it, or on its
// first line. Run by `npm run check` for all of src/:
//   node scripts/check-function-size.js [--max 50] src
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'

const args = process.argv.slice(2)
const maxAt = args.indexOf('--max')
const max = maxAt >= 0 ? Number(args.splice(maxAt, 2)[1]) : 50
const roots = args.length > 0 ? args : ['src']

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return walk(path)
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : []
  })
}

function nameOf(node, source) {
  if (node.name) return node.name.getText(source)
  const parent = node.parent
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source)
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source)
  return '(anonymous)'
}

const problems = []
const justified = []
for (const file of roots.flatMap(walk)) {
  const text = readFileSync(file, 'utf8')
  const lines = text.split('\n')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const end = source.getLineAndCharacterOfPosition(node.end).line
      const length = end - start + 1
      if (length > max) {
        const where = `${relative(process.cwd(), file)}:${start + 1} ${nameOf(node, source)} (${length} lines)`
        const context = lines.slice(Math.max(0, start - 4), start + 1).join('\n')
        ;(/long:/.test(context) ? justified : problems).push(where)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
}

for (const line of justified) console.log(`check-function-size: ${line}, with a reason`)
if (problems.length > 0) {
  console.error(`check-function-size: functions over ${max} lines without a "long:" reason:`)
  for (const line of problems) console.error(`  ${line}`)
  process.exit(1)
}
console.log(`check-function-size: no function over ${max} lines without a reason in ${roots.join(', ')}`)
