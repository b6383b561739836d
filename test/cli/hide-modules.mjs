// Preloaded with `--import` to run the CLI as if some packages were not installed: resolving a bare specifier
// named in SESSIONKIT_TEST_HIDE_MODULES (comma-separated) fails exactly as Node fails for a missing package.
import { register } from 'node:module'

const hook = `
const hidden = new Set((process.env.SESSIONKIT_TEST_HIDE_MODULES ?? '').split(',').filter(Boolean))
export async function resolve(specifier, context, next) {
  if (hidden.has(specifier)) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL)
    error.code = 'ERR_MODULE_NOT_FOUND'
    throw error
  }
  return next(specifier, context)
}
`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
