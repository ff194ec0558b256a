import {Args, Flags} from '@oclif/core'

/** Flags shared by several commands; the base command adds --json and --debug to all. */
export const caseFlag = Flags.string({
  char: 'c',
  summary: 'Case id to record into (created on first use). Without it a new case id is generated and printed.',
  env: 'IR_CASE',
  helpValue: '<case-id>',
})

export const yesFlag = Flags.boolean({
  char: 'y',
  summary: 'Do not ask for confirmation (required without a TTY for anything that changes state).',
  default: false,
})

export const dryRunFlag = Flags.boolean({
  summary: 'Print exactly what would be done and change nothing.',
  default: false,
})

export const concurrencyFlag = Flags.integer({
  summary: 'How many containers to handle at once.',
  default: 8,
  min: 1,
  max: 64,
})

/**
 * Which engines to act on. Without any of them: the one engine of DOCKER_HOST (or the default
 * socket), exactly as before. Repeatable flags are non-greedy, so `--host X web-1` keeps web-1 an argument.
 */
export const hostFlags = {
  host: Flags.string({
    char: 'H',
    summary:
      'Docker engine to act on (repeatable): unix:///path/docker.sock, tcp://host:2376 (TLS from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), ssh://[user@]host[:port] (through the system ssh: ~/.ssh/config, keys, agent, known_hosts).',
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'HOSTS',
    helpValue: '<address>',
  }),
  context: Flags.string({
    summary:
      "A docker CLI context to act on (repeatable), read from the CLI's context store (DOCKER_CONFIG or ~/.docker). Without --host/--context/--hosts: DOCKER_HOST, DOCKER_CONTEXT, the current context.",
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'HOSTS',
    helpValue: '<name>',
  }),
  hosts: Flags.string({
    summary: 'Inventory of engines (YAML): a list of {name, endpoint, tls: {ca, cert, key}, labels}.',
    helpGroup: 'HOSTS',
    helpValue: '<hosts.yml>',
  }),
  'max-hosts': Flags.integer({
    summary: 'How many hosts to work on at once (each host still handles --concurrency containers at once).',
    default: 8,
    min: 1,
    max: 256,
    helpGroup: 'HOSTS',
  }),
}

export const filterFlag = Flags.string({
  summary:
    'Select containers on every host, with the docker CLI filter syntax (repeatable): label=app=web, ancestor=<image>, name=..., status=...',
  multiple: true,
  multipleNonGreedy: true,
  helpValue: '<key=value>',
})

export const serviceFlag = Flags.string({
  summary:
    'A swarm service (repeatable): every task container with desired state running, found through a manager among the hosts.',
  multiple: true,
  multipleNonGreedy: true,
  helpValue: '<name>',
})

/**
 * Webhook notifications, shared by every command (the base command adds them). A response step
 * tells the incident channel when it starts and ends, and each hardening finding (docs/notify.md).
 */
export const notifyFlags = {
  notify: Flags.string({
    summary:
      'Webhook to tell about each response step (start, end) and each audit finding; a playbook may name one with notify:. Prefer IR_NOTIFY_URL: a URL on the command line is visible to other users in ps.',
    env: 'IR_NOTIFY_URL',
    helpGroup: 'NOTIFY',
    helpValue: '<url>',
  }),
  'notify-format': Flags.string({
    summary:
      'Message shape: json (ir’s message), slack ({"text": ...}); auto is slack for hooks.slack.com, json otherwise.',
    options: ['auto', 'json', 'slack'],
    default: 'auto',
    env: 'IR_NOTIFY_FORMAT',
    helpGroup: 'NOTIFY',
  }),
  'notify-timeout': Flags.integer({
    summary: 'Seconds per delivery attempt; also the most a command waits at its end for messages still in flight.',
    default: 3,
    min: 1,
    max: 60,
    env: 'IR_NOTIFY_TIMEOUT',
    helpGroup: 'NOTIFY',
  }),
  'notify-retries': Flags.integer({
    summary: 'Attempts after the first (network error, timeout, HTTP 408, 429 or 5xx), with backoff.',
    default: 2,
    min: 0,
    max: 5,
    env: 'IR_NOTIFY_RETRIES',
    helpGroup: 'NOTIFY',
  }),
}

/** The containers a response step works on (its argv, with `strict = false`): `verb` as in "Containers to isolate". */
export function containersArg(verb: string) {
  return Args.string({
    description: `Containers to ${verb}: names, full ids or unique id prefixes, optionally as <host>/<container>.`,
    required: false,
  })
}
