#!/usr/bin/env node
// `npm run docs`: builds the API reference (TypeDoc, typedoc.config.js) into docs/api/ and prints what TypeDoc
// found wrong, grouped, so the list is readable:
// - a type the API uses but no entry point exports (a reader of the reference cannot look it up),
// - a broken {@link},
// - an export or member without TSDoc.
// The first two fail the run. Undocumented exports fail it only with `--strict` (`npm run docs -- --strict`).
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const strict = process.argv.includes('--strict')
const run = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--pretty', 'false'],
  {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  },
)
if (run.error) throw run.error
// eslint-disable-next-line no-control-regex
const lines = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').split('\n')
const warnings = lines.filter(
  (line) => line.startsWith('[warning]') && !/^\[warning\] Found \d+ errors?/.test(line),
)
const errors = lines.filter((line) => line.startsWith('[error]'))

const undocumented = []
const notExported = []
const other = []
for (const line of warnings) {
  const text = line.slice('[warning] '.length)
  if (text.endsWith('does not have any documentation')) undocumented.push(text)
  else if (text.includes('but not included in the documentation')) notExported.push(text)
  else other.push(text)
}

/** Prints `items` under `title`, grouped by the source file each names ("defined in <file>"). */
function report(title, items) {
  console.log(`\n${title}: ${items.length}`)
  const byFile = new Map()
  for (const item of items) {
    const file = /defined in (?:[^/]+\/)?(\S+?),/.exec(item)?.[1] ?? '(no file)'
    byFile.set(file, [...(byFile.get(file) ?? []), item.replace(/, defined in \S+,/, ',')])
  }
  for (const [file, entries] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${file} (${entries.length})`)
    for (const entry of entries) console.log(`    ${entry}`)
  }
}

for (const line of errors) console.log(line)
report('Types used by the API but not exported', notExported)
report('Other warnings (broken links, ...)', other)
report('Exports and members without TSDoc', undocumented)

const failed = run.status !== 0 || errors.length > 0 || notExported.length > 0 || other.length > 0
const failedStrict = strict && undocumented.length > 0
if (run.status === 0) console.log('\nAPI reference written to docs/api/index.html')
if (failed || failedStrict) {
  console.log(`\ndocs: failed${failedStrict && !failed ? ' (--strict: every export needs TSDoc)' : ''}`)
  process.exit(1)
}
