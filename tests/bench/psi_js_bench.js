// OpenMined PSI (@openmined/psi.js, their C++ compiled to WebAssembly) on the
// same sets as overlap's benchmark: n elements per side, half shared, with
// the intersection revealed. Both roles run in this one process, one after
// the other, as their README's example does; the time is the sum of every
// step (setup message, request, response, intersection), serialisation
// included. Prints one JSON line.
//
// usage: node psi_js_bench.js N   (NODE_PATH points at the node_modules dir)
'use strict'

const PSI = require('@openmined/psi.js')

function ids (from, to) {
  const out = new Array(to - from)
  for (let i = from; i < to; i++) out[i - from] = 'u' + i.toString(16) + '@example.com'
  return out
}

;(async () => {
  const n = parseInt(process.argv[2], 10)
  if (!(n > 0)) {
    console.error('usage: node psi_js_bench.js N')
    process.exit(2)
  }
  const psi = await PSI()
  const serverInputs = ids(0, n)
  const clientInputs = ids(n / 2, n + n / 2)
  const fpr = 1e-9
  const t0 = process.hrtime.bigint()
  const server = psi.server.createWithNewKey(true)
  const client = psi.client.createWithNewKey(true)
  const setup = server.createSetupMessage(fpr, n, serverInputs, psi.dataStructure.Raw).serializeBinary()
  const request = client.createRequest(clientInputs).serializeBinary()
  const response = server.processRequest(psi.request.deserializeBinary(request)).serializeBinary()
  const found = client.getIntersection(psi.serverSetup.deserializeBinary(setup),
    psi.response.deserializeBinary(response))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  // The known intersection: client indices 0 .. n/2-1 (ids n/2 .. n-1).
  let ok = found.length === n / 2
  if (ok) {
    const seen = new Uint8Array(n / 2)
    for (const k of found) {
      if (k < 0 || k >= n / 2 || seen[k]) { ok = false; break }
      seen[k] = 1
    }
  }
  const mem = process.memoryUsage()
  console.log(JSON.stringify({
    n,
    seconds,
    correct: ok,
    intersection: found.length,
    wire_bytes: setup.length + request.length + response.length,
    rss_bytes: mem.rss
  }))
  server.delete()
  client.delete()
})().catch(e => {
  console.error('psi.js failed: ' + (e && e.message ? e.message : e))
  process.exit(1)
})
