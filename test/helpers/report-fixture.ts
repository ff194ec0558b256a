import {vi} from 'vitest'

import type {AuditLine} from '../../src/case/audit-log.js'
import {CaseStore} from '../../src/case/case-store.js'
import type {AuditEntry} from '../../src/services/report/audit-entries.js'

/**
 * A case holding a whole incident as the other response steps record it (isolate, snapshot, collect,
 * rotate, rebuild, hardening audit), written through the real Case API with a controlled clock so
 * the times are spread like a real incident. Evidence files are real (hashed, in the manifest).
 * Returns the case folder. Nothing here touches Docker.
 */
export async function seedIncident(
  root: string,
  id: string,
  opts: {start: Date; container: string},
): Promise<{dir: string; start: Date}> {
  const at = (minutes: number): void => {
    vi.setSystemTime(new Date(opts.start.getTime() + minutes * 60_000))
  }
  vi.useFakeTimers({toFake: ['Date']})
  try {
    at(0)
    const store = new CaseStore(root)
    const {kase} = await store.open({id, title: 'Crypto-miner in the checkout web tier', severity: 'high'})
    const c = opts.container
    const source = {
      containerId: 'f'.repeat(64),
      containerName: c,
      image: 'shop/web:1.4.2',
      imageId: `sha256:${'a'.repeat(64)}`,
      engine: 'unix:///var/run/docker.sock',
    }

    at(1)
    await kase.record({
      action: 'timeline.event',
      outcome: 'info',
      details: {
        at: new Date(opts.start.getTime() - 14 * 60_000).toISOString(),
        message: 'CPU saturation alert on web-1 paged on-call',
      },
      msg: 'Responder event',
    })
    at(9.2)
    await kase.addJsonEvidence({
      name: `${c}/inspect.json`,
      type: 'container-inspect',
      source,
      data: {Id: source.containerId, Name: `/${c}`, Config: {Env: ['DB_PASSWORD=do-not-leak', 'MODE=prod']}},
    })
    await kase.record({
      action: 'isolate',
      target: c,
      outcome: 'success',
      msg: `Isolated: ${c} (ffffffffffff)`,
      details: {mode: 'pause'},
    })
    at(16.5)
    await kase.addEvidence({
      name: `${c}/snapshot.tar`,
      type: 'container-snapshot',
      source,
      content: Buffer.alloc(4096, 7),
    })
    await kase.record({
      action: 'snapshot',
      target: c,
      outcome: 'success',
      msg: `Snapshot of ${c} committed and exported`,
    })
    at(21.75)
    await kase.addEvidence({
      name: `${c}/logs.txt`,
      type: 'container-logs',
      source,
      content: 'GET /checkout 200\nxmrig started\n',
    })
    await kase.record({
      action: 'collect',
      target: c,
      outcome: 'success',
      msg: `Logs, processes and changed files of ${c} collected`,
    })
    at(34)
    await kase.record({
      action: 'rotate.decision',
      outcome: 'success',
      details: {name: 'DB_PASSWORD', kind: 'env', sources: [c, 'worker-1'], decision: 'generated'},
      msg: 'DB_PASSWORD rotated (new value generated)',
    })
    await kase.record({
      action: 'rotate.decision',
      outcome: 'success',
      details: {
        name: 'STRIPE_API_KEY',
        kind: 'env',
        sources: [c],
        decision: 'marked-rotated',
        reason: 'rotated in the Stripe dashboard',
      },
      msg: 'STRIPE_API_KEY marked rotated elsewhere',
    })
    await kase.record({
      action: 'rotate.decision',
      outcome: 'skipped',
      details: {
        name: 'LEGACY_FTP_TOKEN',
        kind: 'secret',
        sources: ['batch-1'],
        decision: 'skipped',
        reason: 'service decommissioned next week',
      },
      msg: 'LEGACY_FTP_TOKEN skipped',
    })
    await kase.record({
      action: 'rotate.summary',
      outcome: 'partial',
      details: {counts: {generated: 1, marked: 1, skipped: 1}, remaining: 1, servicesToRestart: ['web', 'worker']},
      msg: 'Rotation: 1 credential remaining',
    })
    at(58)
    await kase.record({
      action: 'rotate.summary',
      outcome: 'success',
      details: {counts: {generated: 1, marked: 1, skipped: 1}, remaining: 0, servicesToRestart: ['web', 'worker']},
      msg: 'Rotation complete',
    })
    at(71)
    await kase.record({
      action: 'rebuild.step',
      outcome: 'success',
      details: {step: 'build --no-cache', durationMs: 84_200},
      msg: 'Images rebuilt without cache',
    })
    at(78)
    await kase.record({
      action: 'rebuild.step',
      outcome: 'success',
      details: {step: 'up -d', durationMs: 9_400},
      msg: 'Services started',
    })
    at(92.5)
    await kase.record({
      action: 'rebuild',
      outcome: 'success',
      details: {
        project: 'shop',
        services: ['web', 'worker'],
        imagesBefore: ['shop/web:1.4.2'],
        imagesAfter: ['shop/web:1.4.3'],
        unhealthy: [],
      },
      msg: 'Rebuild of shop healthy',
    })
    at(101)
    await kase.record({
      action: 'audit.hardening',
      outcome: 'partial',
      details: {
        containers: [
          {
            name: c,
            findings: [
              {check: 'no-new-privileges', severity: 'medium', message: 'no-new-privileges is not set'},
              {check: 'read-only-rootfs', severity: 'low', message: 'root filesystem is writable'},
            ],
          },
          {name: 'worker-1', findings: []},
        ],
      },
      msg: 'Hardening audit: 2 findings',
    })
    at(104)
    await kase.record({action: 'playbook.finish', outcome: 'success', msg: 'Playbook web-compromise finished'})
    return {dir: kase.dir, start: opts.start}
  } finally {
    vi.useRealTimers()
  }
}

export const FULL_ANSWERS = `summary: |
  A crypto-miner ran in the checkout web tier for about 40 minutes after a vulnerable image
  plugin was exploited. It was contained, evidence preserved, credentials rotated, and the service rebuilt.
impact: Checkout latency doubled for 38 minutes; no customer data is known to have left the network.
root_cause: |
  - The web image shipped an outdated upload plugin with a known RCE.
  - Image rebuilds were not triggered by dependency advisories.
trigger: An automated scanner hit the upload endpoint with a public exploit.
detection: A CPU saturation alert paged on-call.
what_went_well:
  - Isolation took one command and kept the process memory.
  - Evidence was hashed and verified end to end.
what_went_wrong: The alert fired 14 minutes after the miner started.
where_we_got_lucky: The miner did not try to reach the database.
detection_gaps: No alert on outbound connections to mining pools.
playbook_changes: Add an egress check to the web-compromise playbook.
data_exposure: suspected
authors: [Alex Doe, Sam Roe]
action_items:
  - {action: Rebuild images on dependency advisories, type: prevent, owner: platform, due: 2026-12-15}
  - {action: Alert on egress to mining pools, type: detect, owner: secops, due: 2026-12-08}
  - {action: "Drop <script>alert(1)</script> and *bold*|pipe into the WAF rules", type: mitigate, owner: web}
`

/**
 * One readable audit entry as the report reads it: `minute` minutes after the case was created, by alex@ir-box,
 * outcome success unless `extra` says otherwise. For report models built without a case on disk.
 */
export function auditEntry(
  meta: {id: string; created: string},
  seq: number,
  minute: number,
  action: string,
  extra: Partial<AuditLine> = {},
): AuditEntry {
  return {
    readable: true,
    level: 'info',
    time: new Date(Date.parse(meta.created) + minute * 60_000).toISOString(),
    seq,
    prev: '',
    caseId: meta.id,
    actor: 'alex@ir-box',
    tool: 'ir/0.1.0',
    action,
    outcome: 'success',
    msg: `${action} done`,
    ...extra,
  }
}
