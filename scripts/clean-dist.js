#!/usr/bin/env node
// Empties dist/ before a build, so a module that was renamed or removed in src/ cannot linger in the package.
import { rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
