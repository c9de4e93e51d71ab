// The blackhole proxy of the partition tests, against a real TCP echo server: pass forwards;
// blackhole lets nothing through either way and leaves new connections unanswered (the target
// never sees them); heal delivers what was held, in order; reset cuts everything at once.

import t, { type Test } from 'tap'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startBlackhole } from '../helpers/blackhole.js'

/** An echo server that counts the connections it accepted. */
async function echo (t: Test): Promise<{ port: number, accepted: () => number }> {
  let n = 0
  const socks = new Set<Socket>()
  const s = createServer(c => { n++; socks.add(c); c.on('close', () => socks.delete(c)); c.on('error', () => {}); c.pipe(c) })
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.teardown(async () => { for (const c of socks) c.destroy(); await new Promise(resolve => s.close(resolve)) })
  return { port: (s.address() as { port: number }).port, accepted: () => n }
}

/** A client that collects what it reads. */
async function client (port: number): Promise<{ sock: Socket, got: () => string, closed: Promise<string> }> {
  const sock = connect(port, '127.0.0.1')
  let text = ''
  sock.on('data', b => { text += b.toString() })
  const closed = new Promise<string>(resolve => {
    sock.on('error', (e: NodeJS.ErrnoException) => { resolve(e.code ?? e.message) })
    sock.on('close', () => { resolve('closed') })
  })
  await once(sock, 'connect')
  return { sock, got: () => text, closed }
}

const until = async (fn: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
const quiet = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

t.test('pass, blackhole, heal: nothing through while cut, all of it after, in order', async t => {
  const target = await echo(t)
  const bh = await startBlackhole({ host: '127.0.0.1', port: target.port }, t)
  t.equal(bh.url('postgres://kanshi@db1:5432/kanshi'), `postgres://kanshi@127.0.0.1:${bh.port}/kanshi`)
  const a = await client(bh.port)
  a.sock.write('one;')
  await until(() => a.got() === 'one;')
  t.equal(target.accepted(), 1)

  bh.set('blackhole')
  t.equal(bh.mode(), 'blackhole')
  a.sock.write('two;')
  a.sock.write('three;')
  // A new connection is accepted by the proxy but never reaches the target.
  const b = await client(bh.port)
  b.sock.write('late;')
  await quiet(300)
  t.equal(a.got(), 'one;', 'no reply while cut')
  t.equal(b.got(), '', 'the connection made while cut gets nothing')
  t.equal(target.accepted(), 1, 'the target never saw the new connection')
  const cut = bh.stats()
  t.same([cut.open, cut.accepted], [2, 2], 'both connections stay open')
  t.equal(cut.swallowed, 'two;three;late;'.length, 'every byte sent while cut was held')

  bh.set('pass')
  await until(() => a.got() === 'one;two;three;' && b.got() === 'late;')
  t.pass('healed: the held bytes arrive in order, and the waiting connection is connected')
  t.equal(target.accepted(), 2)
  t.equal(bh.stats().forwarded, 2 * ('one;two;three;late;'.length), 'each byte forwarded once each way')
})

t.test('a reply in flight is held too (both directions)', async t => {
  // A target that answers only after a delay, so the answer meets the cut path.
  const socks = new Set<Socket>()
  const s = createServer(c => { socks.add(c); c.on('error', () => {}); c.on('data', () => { setTimeout(() => c.write('pong'), 100) }) })
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.teardown(() => { for (const c of socks) c.destroy(); s.close() })
  const bh = await startBlackhole({ host: '127.0.0.1', port: (s.address() as { port: number }).port }, t)
  const a = await client(bh.port)
  a.sock.write('ping')
  await quiet(20)
  bh.set('blackhole')
  await quiet(300)
  t.equal(a.got(), '', 'the answer did not come through')
  t.equal(bh.stats().swallowed, 'pong'.length)
  bh.set('pass')
  await until(() => a.got() === 'pong')
  t.pass('delivered on heal')
  a.sock.destroy()
})

t.test('reset destroys every connection and refuses new ones; pass again works', async t => {
  const target = await echo(t)
  const bh = await startBlackhole({ host: '127.0.0.1', port: target.port }, t)
  const a = await client(bh.port)
  bh.set('reset')
  t.equal(await a.closed, 'ECONNRESET', 'the open connection is reset')
  const b = connect(bh.port, '127.0.0.1')
  const how = await new Promise<string>(resolve => { b.on('error', (e: NodeJS.ErrnoException) => { resolve(e.code ?? '') }); b.on('close', () => { resolve('closed') }) })
  t.ok(['ECONNRESET', 'closed'].includes(how), `a new connection is cut at once (${how})`)
  t.equal(bh.stats().open, 0)
  bh.set('pass')
  const c = await client(bh.port)
  c.sock.write('again')
  await until(() => c.got() === 'again')
  t.pass('pass again forwards')
  c.sock.destroy()
})

t.test('the target going away closes the client in pass mode, not while cut', async t => {
  const s = createServer(c => { c.on('error', () => {}); setTimeout(() => c.destroy(), 50) })
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.teardown(() => { s.close() })
  const bh = await startBlackhole({ host: '127.0.0.1', port: (s.address() as { port: number }).port }, t)
  const a = await client(bh.port)
  t.equal(await a.closed, 'closed', 'pass: the close comes through')
  const b = await client(bh.port)
  bh.set('blackhole')
  let closed = false
  void b.closed.then(() => { closed = true })
  await quiet(300)
  t.notOk(closed, 'cut: the client never hears that the target closed')
  bh.set('pass')
  await b.closed
  t.pass('heal: the close arrives')
})
