import {type Command, Help} from '@oclif/core'

import {EXIT_CODE_HELP} from './errors.js'

/** oclif's help plus an EXIT CODES section on every command, like Salesforce's errorCodes section. */
export default class IrHelp extends Help {
  protected override formatCommand(command: Command.Loadable): string {
    const base = super.formatCommand(command)
    const rows = Object.entries(EXIT_CODE_HELP).map(([code, what]) => [code, what] as [string, string])
    return `${base}\n\n${this.section('EXIT CODES', this.renderList(rows, {indentation: 2, spacer: '\n', stripAnsi: this.opts.stripAnsi}))}`
  }
}
