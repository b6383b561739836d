#!/usr/bin/env node
// The package.json that ships, without the development-only export condition.
//
// During development `exports` carries a `sessionkit-source` condition that points at src/*.ts, so vitest, tsx
// and tsc run the TypeScript sources without a build. A published package must not carry it: src/ is not
// shipped, and a consumer that happened to set that condition would resolve files that do not exist. npm puts the
// package.json it finds on disk into the tarball, so `prepack` writes the published manifest and `postpack`
// restores the development one:
//
//   node scripts/pack-manifest.js write     (prepack: keep package.json aside, write the published one)
//   node scripts/pack-manifest.js restore   (postpack: put the development package.json back, byte for byte)
//
// npm reads the manifest again after `prepack` to decide whether to run `prepare`: the published one has no
// scripts, so `prepack` builds dist/ itself before writing it (`npm run build && ... write`).
//
// If a pack dies between the two (say the build failed), the next `write` finds the development manifest still
// aside and, when package.json is exactly what `write` left, restores it first; anything else stops with advice.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

export const DEV_CONDITION = 'sessionkit-source'
const MANIFEST = 'package.json'
const ASIDE = '.package.json.dev'

/**
 * The published form of a package.json object: every `exports` target without the development condition, and no
 * `scripts` (they build and test this repository; in an installed package npm 11 would only list `prepare` as an
 * install script awaiting approval).
 */
export function publishedManifest(pkg) {
  const exports = Object.fromEntries(
    Object.entries(pkg.exports).map(([subpath, target]) => {
      if (typeof target !== 'object' || target === null) return [subpath, target]
      return [subpath, Object.fromEntries(Object.entries(target).filter(([name]) => name !== DEV_CONDITION))]
    }),
  )
  const published = { ...pkg, exports }
  delete published.scripts
  return published
}

function serialize(pkg) {
  return `${JSON.stringify(pkg, null, 2)}\n`
}

function write() {
  if (existsSync(ASIDE)) {
    const aside = readFileSync(ASIDE, 'utf8')
    if (readFileSync(MANIFEST, 'utf8') !== serialize(publishedManifest(JSON.parse(aside)))) {
      console.error(
        `pack-manifest: ${ASIDE} is left from an unfinished pack and package.json has changed since; ` +
          `compare them, keep the right one as package.json and delete ${ASIDE}`,
      )
      process.exit(1)
    }
    renameSync(ASIDE, MANIFEST)
    console.error(`pack-manifest: restored package.json from ${ASIDE} (left by an unfinished pack)`)
  }
  const text = readFileSync(MANIFEST, 'utf8')
  writeFileSync(ASIDE, text)
  writeFileSync(MANIFEST, serialize(publishedManifest(JSON.parse(text))))
}

function restore() {
  if (!existsSync(ASIDE)) return
  renameSync(ASIDE, MANIFEST)
}

const command = process.argv[2]
if (command === 'write') write()
else if (command === 'restore') restore()
else if (command !== undefined) {
  console.error('usage: node scripts/pack-manifest.js write|restore')
  process.exit(2)
}
