/** Bare Express 5: the same routes with no session layer (the framework's ceiling). */
import express from 'express'
import { exitOnSignal, port, signInUser } from './common.js'

const app = express()
app.get('/read', (_req, res) => {
  res.json({ user: null, counter: null })
})
app.get('/write', (_req, res) => {
  res.json({ counter: 1 })
})
app.post('/signin', (req, res) => {
  res.json({ user: signInUser(req.query) })
})
app.post('/login', (_req, res) => {
  res.json({ ok: true })
})
const server = app.listen(port(), '127.0.0.1', () => {
  console.log('listening')
})
exitOnSignal(() => new Promise((resolve) => server.close(resolve)))
