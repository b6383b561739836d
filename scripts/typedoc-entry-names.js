// TypeDoc plugin: names each entry point's page after the specifier a user imports (`sessionkit/express`) instead
// of its path under src/ (`adapters/express`), which a reader could mistake for an importable path.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Converter, ReflectionKind } from 'typedoc'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

/** Absolute source file -> import specifier, from the `sessionkit-source` targets in package.json `exports`. */
const specifierOf = new Map(
  Object.entries(pkg.exports)
    .filter(([, target]) => typeof target === 'object' && target['sessionkit-source'] !== undefined)
    .map(([subpath, target]) => [
      resolve(target['sessionkit-source']),
      subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`,
    ]),
)

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName
    const specifier = file === undefined ? undefined : specifierOf.get(resolve(file))
    if (specifier !== undefined) reflection.name = specifier
  })
}
