#!/usr/bin/env node
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
// The command is done and its output flushed. A stray handle (an idle keep-alive socket to the engine,
// a terminal left in raw mode by a prompt) must never keep an incident tool hanging: leave once the
// event loop has had a moment to drain. The timer is unref'd, so a clean exit is not delayed by it.
setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref()
