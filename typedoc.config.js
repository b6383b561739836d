// TypeDoc configuration for `npm run docs`: one page per public entry point in package.json `exports`, read from the
// TypeScript sources (the `sessionkit-source` condition), so a new entry point is documented without editing this.
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))
const entryPoints = Object.values(pkg.exports)
  .map((target) => (typeof target === 'object' ? target['sessionkit-source'] : undefined))
  .filter((source) => source !== undefined)

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  entryPoints,
  tsconfig: './tsconfig.build.json',
  out: 'docs/api',
  plugin: ['./scripts/typedoc-entry-names.js'],
  // The README links to files in the repository (examples/, src/), which the API reference does not carry.
  readme: 'none',
  // What ships: `@internal` members are stripped from the .d.ts (tsconfig.build.json), so the reference omits them.
  excludeInternal: true,
  excludePrivate: true,
  // Members inherited from Node's own types (IncomingMessage…) are Node's to document, not ours.
  excludeExternals: true,
  // Source links point at the repository's main branch, whatever remote (or none) the checkout has: reading git
  // would warn in a clone without a GitHub remote, as CI's is.
  disableGit: true,
  sourceLinkTemplate: `${pkg.repository?.url?.replace(/^git\+/, '').replace(/\.git$/, '') ?? ''}/blob/main/{path}#L{line}`,
  // (a) a type used by the API but not exported, (b) an export without TSDoc, (c) a {@link} to nothing.
  validation: { notExported: true, notDocumented: true, invalidLink: true },
}
