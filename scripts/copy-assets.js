// Copies the Lua scripts (and any other non-TypeScript assets) next to the compiled JavaScript in dist/.
import { cpSync, chmodSync, existsSync } from 'node:fs'

cpSync('src/stores/redis/scripts', 'dist/stores/redis/scripts', { recursive: true })
if (existsSync('dist/cli/main.js')) chmodSync('dist/cli/main.js', 0o755)
