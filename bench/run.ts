import {benchAudit} from './audit.js'
import {benchCollect, benchSnapshot} from './evidence.js'
import {benchHosts} from './hosts.js'
import {benchIsolate} from './isolate.js'
import {benchLive} from './live.js'

const only = process.argv[2]
console.log('ir benchmarks: wall time of ir against the plain docker CLI doing the same job (lower ratio is better)')
if (!only || only === 'isolate') await benchIsolate()
if (!only || only === 'snapshot') await benchSnapshot()
if (!only || only === 'collect') await benchCollect()
if (!only || only === 'hosts') await benchHosts()
if (!only || only === 'audit') await benchAudit()
if (!only || only === 'live') await benchLive()
