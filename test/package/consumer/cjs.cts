// A CommonJS module of a TypeScript app (compiled to require()): Node >= 20.19 loads sessionkit through
// require(esm), and TypeScript (>= 5.8, module nodenext) allows it.
/* eslint-disable @typescript-eslint/no-require-imports -- the CommonJS consumer is what this file is for */
import sessionkit = require('sessionkit')
import adapter = require('sessionkit/express')

const middleware = adapter.sessionMiddleware(
  sessionkit.createSessionkit({ store: new sessionkit.MemoryStore() }),
)
export = middleware
