import type {LiveProcess, LiveSocket} from './live/capture.js'

/**
 * What happened, in plain words: findings derived from the evidence of one snapshot (docker diff, the export
 * index, the live state and the inspect). Each says how bad it is, what was seen, and which artifact and path
 * show it. The rules are deliberately plain and explainable: an examiner can check each against the artifact.
 * Findings quote paths, process names, command lines (already redacted in the live state) and addresses, never
 * the contents of a forensic copy.
 */

export type FindingSeverity = 'critical' | 'high' | 'medium' | 'low'

export interface EvidenceFinding {
  id: string
  severity: FindingSeverity
  /** One line, for the terminal and the report. */
  message: string
  /** The artifact that shows it (its path in the case) and where inside it. */
  artifact?: string
  path?: string
  pid?: number
  /** Indicators of compromise this finding yields (IOC export, report). */
  iocs?: Array<{type: 'file' | 'process' | 'address'; value: string; sha256?: string}>
}

export interface FindingsInput {
  container: string
  diff?: {artifact: string; changes: Array<{path: string; kind: 'changed' | 'added' | 'deleted'}>}
  index?: {
    artifact: string
    /** As the export index writes them: tar names (no leading slash), octal mode strings. */
    entries: Array<{path: string; type: string; mode?: string; sha256?: string}>
  }
  live?: {
    processesArtifact: string
    socketsArtifact: string
    processes: LiveProcess[]
    sockets: LiveSocket[]
  }
  /** Ports the image declares (EXPOSE) and the container publishes, as "4444/tcp". */
  declaredPorts: string[]
}

const WRITABLE_DIRS = /^\/(?:tmp|dev\/shm|var\/tmp|run\/user)(?:\/|$)/
const SCRIPT = /\.(?:sh|bash|py|pl|rb|php|elf|bin|so)$/i
const PERSISTENCE: Array<{re: RegExp; what: string}> = [
  {re: /^\/etc\/(?:cron\.[^/]+\/|crontab$)|^\/var\/spool\/cron\//, what: 'a cron entry'},
  {re: /^\/etc\/(?:init\.d|rc\d?\.d)\/|^\/etc\/rc\.local$/, what: 'an init script'},
  {re: /^\/(?:etc|lib|usr\/lib)\/systemd\/system\/.+\.(?:service|timer)$/, what: 'a systemd unit'},
  {
    re: /(?:^|\/)\.(?:bashrc|bash_profile|profile|zshrc)$|^\/etc\/(?:profile(?:\.d\/.*)?|bash\.bashrc)$/,
    what: 'a shell profile',
  },
  {re: /\/\.ssh\/authorized_keys2?$/, what: 'an SSH authorized_keys file'},
  {re: /^\/etc\/ld\.so\.preload$/, what: 'ld.so.preload (every program loads it)'},
  {re: /^\/etc\/(?:passwd|shadow|sudoers(?:\.d\/.*)?)$/, what: 'an account or sudo file'},
]
const SHAPES: Array<{re: RegExp; what: string; severity: FindingSeverity}> = [
  {re: /xmrig|minerd|cpuminer|stratum\+(?:tcp|ssl):\/\//i, what: 'a cryptocurrency miner', severity: 'critical'},
  {
    re: /\bnc(?:at)?\b[^|;&]*\s-[a-z]*e\s|\bnc(?:at)?\b[^|;&]*\s-[a-z]*l/i,
    what: 'a netcat listener or shell',
    severity: 'high',
  },
  {re: /\/dev\/tcp\/|bash\s+-i\s*>&|sh\s+-i\s*>&/i, what: 'a reverse shell', severity: 'critical'},
  {
    re: /(?:curl|wget)\b[^|]*\|\s*(?:ba|z|da)?sh\b|wget\s+-O-?\s*-?\s*[^|]*\|\s*sh/i,
    what: 'a download piped into a shell',
    severity: 'critical',
  },
  {
    re: /base64\s+(?:-d|--decode)[^|]*\|\s*(?:ba)?sh\b/i,
    what: 'a base64 payload piped into a shell',
    severity: 'critical',
  },
]

/** Loopback only: 0.0.0.0 and :: are every interface, not local. */
const isLoopback = (a: string): boolean => /^(?:127\.|::1$|::ffff:127\.)/.test(a)

/** The findings of one container's snapshot, most severe first, each once. */
export function deriveFindings(input: FindingsInput): EvidenceFinding[] {
  const out: EvidenceFinding[] = []
  const seen = new Set<string>()
  const add = (f: EvidenceFinding): void => {
    const key = `${f.id}|${f.path ?? ''}|${f.pid ?? ''}`
    if (seen.has(key)) return
    seen.add(key)
    out.push(f)
  }
  const sha = new Map(
    (input.index?.entries ?? []).map((e) => [
      `/${e.path.replace(/^\.?\/+/, '').replace(/\/+$/, '')}`,
      {...e, mode: e.mode === undefined ? undefined : Number.parseInt(e.mode, 8)},
    ]),
  )

  // The writable layer: what was dropped or altered.
  for (const c of input.diff?.changes ?? []) {
    if (c.kind === 'deleted') continue
    const p = c.path
    const entry = sha.get(p)
    const ioc = {type: 'file' as const, value: p, ...(entry?.sha256 ? {sha256: entry.sha256} : {})}
    for (const rule of PERSISTENCE)
      if (rule.re.test(p))
        add({
          id: 'persistence',
          severity: 'high',
          message: `${c.kind === 'added' ? 'added' : 'changed'} ${rule.what}: ${p}`,
          artifact: input.diff!.artifact,
          path: p,
          iocs: [ioc],
        })
    if (c.kind !== 'added') continue
    const base = p.split('/').pop() ?? ''
    const executable = entry?.mode !== undefined && (entry.mode & 0o111) !== 0 && entry.type === 'file'
    if (WRITABLE_DIRS.test(p) && (SCRIPT.test(base) || executable))
      add({
        id: 'dropped-executable',
        severity: 'high',
        message: `an executable or script was added under ${p.split('/').slice(0, 2).join('/')}: ${p}`,
        artifact: input.diff!.artifact,
        path: p,
        iocs: [ioc],
      })
    else if (SCRIPT.test(base) || executable)
      add({
        id: 'added-executable',
        severity: 'medium',
        message: `an executable or script was added: ${p}`,
        artifact: input.diff!.artifact,
        path: p,
        iocs: [ioc],
      })
    const folder = entry?.type === 'directory' || input.diff!.changes.some((x) => x.path.startsWith(`${p}/`))
    if (/\/\.[^/]+$/.test(p) && WRITABLE_DIRS.test(p) && folder)
      add({
        id: 'hidden-folder',
        severity: 'medium',
        message: `a hidden folder was added: ${p}`,
        artifact: input.diff!.artifact,
        path: p,
      })
    if (entry?.mode !== undefined && (entry.mode & 0o6000) !== 0 && entry.type === 'file')
      add({
        id: 'setuid-added',
        severity: 'high',
        message: `a ${entry.mode & 0o4000 ? 'setuid' : 'setgid'} file was added: ${p}`,
        artifact: input.index!.artifact,
        path: p,
        iocs: [ioc],
      })
  }

  // The processes.
  const live = input.live
  for (const proc of live?.processes ?? []) {
    const cmd = proc.cmdline.join(' ')
    const exe = proc.exe
    const iocs = [{type: 'process' as const, value: proc.name}]
    if (exe?.deleted)
      add({
        id: 'deleted-executable',
        severity: 'critical',
        message: `process ${proc.nspid ?? proc.pid} (${proc.name}) runs an executable deleted from disk: ${exe.path}${exe.artifact ? ' (recovered)' : ''}`,
        artifact: exe.artifact ?? live!.processesArtifact,
        path: exe.path,
        pid: proc.nspid ?? proc.pid,
        iocs: [...iocs, {type: 'file', value: exe.path, ...(exe.sha256 ? {sha256: exe.sha256} : {})}],
      })
    else if (exe && WRITABLE_DIRS.test(exe.path))
      add({
        id: 'writable-path-executable',
        severity: 'high',
        message: `process ${proc.nspid ?? proc.pid} (${proc.name}) runs from a writable path: ${exe.path}`,
        artifact: exe.artifact ?? live!.processesArtifact,
        path: exe.path,
        pid: proc.nspid ?? proc.pid,
        iocs: [...iocs, {type: 'file', value: exe.path, ...(exe.sha256 ? {sha256: exe.sha256} : {})}],
      })
    // A script interpreted from a writable path (sh /tmp/.x/miner.sh).
    for (const arg of proc.cmdline.slice(1))
      if (WRITABLE_DIRS.test(arg) && SCRIPT.test(arg))
        add({
          id: 'writable-path-script',
          severity: 'high',
          message: `process ${proc.nspid ?? proc.pid} (${proc.name}) runs a script from a writable path: ${arg}`,
          artifact: live!.processesArtifact,
          path: arg,
          pid: proc.nspid ?? proc.pid,
          iocs: [...iocs, {type: 'file', value: arg, ...(sha.get(arg)?.sha256 ? {sha256: sha.get(arg)!.sha256} : {})}],
        })
    for (const shape of SHAPES)
      if (shape.re.test(cmd))
        add({
          id: 'known-shape',
          severity: shape.severity,
          message: `process ${proc.nspid ?? proc.pid} looks like ${shape.what}: ${cmd.slice(0, 200)}`,
          artifact: live!.processesArtifact,
          pid: proc.nspid ?? proc.pid,
          iocs,
        })
  }

  // The sockets.
  const declared = new Set(input.declaredPorts.map((p) => p.toLowerCase()))
  for (const s of live?.sockets ?? []) {
    if (s.proto === 'unix' || !s.local) continue
    const proto = s.proto.startsWith('tcp') ? 'tcp' : 'udp'
    const who =
      s.processes.map((p) => `${p.name} (pid ${p.nspid ?? p.pid})`).join(', ') || 'no process of the container'
    if ((s.state === 'LISTEN' || (proto === 'udp' && s.state === 'UNCONN')) && !isLoopback(s.local.address)) {
      if (!declared.has(`${s.local.port}/${proto}`))
        add({
          id: 'unexpected-listener',
          severity: 'high',
          message: `listening on ${proto} ${s.local.port}, which the image does not declare and the container does not publish: ${who}`,
          artifact: live!.socketsArtifact,
          path: `${proto}/${s.local.port}`,
          ...(s.processes[0] ? {pid: s.processes[0].nspid ?? s.processes[0].pid} : {}),
        })
    } else if (s.state === 'LISTEN' && !declared.has(`${s.local.port}/${proto}`) && s.processes.length > 0)
      add({
        id: 'unexpected-listener',
        severity: 'medium',
        message: `listening on ${s.local.address}:${s.local.port}/${proto} (local only): ${who}`,
        artifact: live!.socketsArtifact,
        path: `${proto}/${s.local.port}`,
      })
    if (s.state === 'ESTABLISHED' && s.remote && !isLoopback(s.remote.address) && s.processes.length > 0) {
      const remote = `${s.remote.address.replace(/^::ffff:/, '')}:${s.remote.port}`
      // Inbound to a declared port is the service doing its job; anything else is worth a look.
      if (declared.has(`${s.local.port}/${proto}`)) continue
      add({
        id: 'remote-connection',
        severity: 'medium',
        message: `connected to ${remote}/${proto}: ${who}`,
        artifact: live!.socketsArtifact,
        path: remote,
        iocs: [{type: 'address', value: remote}],
      })
    }
  }

  const rank: Record<FindingSeverity, number> = {critical: 0, high: 1, medium: 2, low: 3}
  return out.sort((a, b) => rank[a.severity] - rank[b.severity])
}
