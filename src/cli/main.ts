#!/usr/bin/env node
/**
 * The `sessionkit` admin CLI. See `./program.ts` for the commands and the README for usage.
 *
 * @module
 */
import { run } from './program.js'

void run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  // `isTTY` is undefined, not false, when stderr is a pipe or a file.
  stderrIsTTY: process.stderr.isTTY ?? false,
  env: process.env,
}).then((code) => {
  process.exitCode = code
})
