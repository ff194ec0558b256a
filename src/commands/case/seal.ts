import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {renderSeal} from '../../render/cases.js'
import {sealCase, type SealResult} from '../../services/seal.js'

export default class CaseSeal extends BaseCommand<typeof CaseSeal> {
  static override summary = 'Seal a case for hand-over: SHA256SUMS over every file, signed with your SSH key.'
  static override description = `Runs the complete \`ir case verify\` first and refuses (exit 6) a case that does not verify.
Then writes a new generation seals/NNNN/ (earlier ones are kept): seal.json (who, when, the audit head, the key
fingerprint), SHA256SUMS over every file of the case (evidence, case.json, manifest.json, audit.log, state, earlier
seals; paths relative to the case, so \`sha256sum -c seals/NNNN/SHA256SUMS\` passes in the case folder), its
signature SHA256SUMS.sig made by \`ssh-keygen -Y sign -n ir-case\`, and allowed_signers for that key. The seal is
recorded in the audit chain (case.seal) before the sums are taken, so they cover it.
The receiver checks it with \`ir case verify <id> --allowed-signers <their file>\`, or with standard tools only
(see docs/handover.md).`
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --key ~/.ssh/id_ed25519',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --key ~/.ssh/id_ed25519.pub --signer alice@example.org   # key in ssh-agent',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --key ~/.ssh/id_ed25519 --tsa http://timestamp.example.org/tsr --tsa-ca tsa-ca.pem',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --key ~/.ssh/id_ed25519 --json',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    key: Flags.string({
      summary: 'SSH private key to sign with (or its .pub when the key is in ssh-agent).',
      required: true,
      helpValue: '<file>',
    }),
    tsa: Flags.string({
      summary: 'RFC 3161 timestamping authority URL: SHA256SUMS is timestamped and the reply kept as SHA256SUMS.tsr.',
      helpValue: '<url>',
    }),
    'tsa-ca': Flags.string({
      summary: 'CA certificate(s) of the timestamping authority, to check its reply at once.',
      helpValue: '<file.pem>',
      dependsOn: ['tsa'],
    }),
    signer: Flags.string({summary: 'Principal for allowed_signers (default: your user@host).', helpValue: '<name>'}),
  }

  async run(): Promise<SealResult> {
    const result = await sealCase({
      store: this.store,
      id: this.args.id,
      key: this.flags.key,
      ...(this.flags.signer ? {signer: this.flags.signer} : {}),
      ...(this.flags.tsa ? {tsa: this.flags.tsa} : {}),
      ...(this.flags['tsa-ca'] ? {tsaCa: this.flags['tsa-ca']} : {}),
    })
    this.log(renderSeal(result))
    return result
  }
}
