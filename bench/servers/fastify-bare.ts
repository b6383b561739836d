/** Bare Fastify 5: the same routes with no session layer (the framework's ceiling). */
import Fastify from 'fastify'
import { exitOnSignal, port, signInUser } from './common.js'

const app = Fastify({ logger: false })
app.get('/read', () => ({ user: null, counter: null }))
app.get('/write', () => ({ counter: 1 }))
app.post('/signin', (request) => ({ user: signInUser(request.query) }))
app.post('/login', () => ({ ok: true }))
await app.listen({ port: port(), host: '127.0.0.1' })
console.log('listening')
exitOnSignal(() => app.close())
