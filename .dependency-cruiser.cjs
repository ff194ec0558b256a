/**
 * The house rules for imports (issue 14, docs/ARCHITECTURE.md). `npm run depcruise` checks src/ against them; CI runs
 * it through `npm run lint`, and test/unit/house-rules.test.ts proves each kind of rule still bites.
 *
 * Layers, imports run downwards only:
 *   commands      src/commands/, base-command.ts, flags.ts, help.ts, hooks/, render/ (terminal views), prompts/
 *   services      src/services/, src/playbook/ (the playbook engine is a service that calls the others)
 *   docker | case src/docker/ (engines), src/case/ (case folder, custody, audit log, run journal): side by side
 *   util          src/util/
 * src/errors.ts may be imported from every layer and imports nothing of ours.
 */

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- layers ---------------------------------------------------------------------------------------------------
    {
      name: 'util-is-the-floor',
      severity: 'error',
      comment: 'src/util/ is the lowest layer: it imports only util/ and errors.ts.',
      from: {path: '^src/util/'},
      to: {path: '^src/', pathNot: ['^src/util/', '^src/errors\\.ts$', '^src/types/']},
    },
    {
      name: 'errors-import-nothing',
      severity: 'error',
      comment: 'src/errors.ts is imported from every layer, so it imports nothing of ours.',
      from: {path: '^src/errors\\.ts$'},
      to: {path: '^src/', pathNot: '^src/types/'},
    },
    {
      name: 'docker-below-services',
      severity: 'error',
      comment: 'src/docker/ talks to engines: it imports only docker/, util/ and errors.ts (not case/: side by side).',
      from: {path: '^src/docker/'},
      to: {path: '^src/', pathNot: ['^src/docker/', '^src/util/', '^src/errors\\.ts$', '^src/types/']},
    },
    {
      name: 'case-below-services',
      severity: 'error',
      comment: 'src/case/ holds case state: it imports only case/, util/ and errors.ts (not docker/: side by side).',
      from: {path: '^src/case/'},
      to: {path: '^src/', pathNot: ['^src/case/', '^src/util/', '^src/errors\\.ts$', '^src/types/']},
    },
    {
      name: 'services-below-commands',
      severity: 'error',
      comment:
        'Services (src/services/, src/playbook/) never import the command layer: commands, base-command, flags, ' +
        'help, hooks, prompts or render. A type a service needs from a prompt or a view belongs to the service.',
      from: {path: '^src/(services|playbook)/'},
      to: {path: '^src/(commands/|render/|prompts/|hooks/|base-command\\.ts$|flags\\.ts$|help\\.ts$)'},
    },
    // ---- the command layer ----------------------------------------------------------------------------------------
    {
      name: 'no-command-imports-a-command',
      severity: 'error',
      comment:
        'A command file never imports another command file: what two commands share goes to base-command, flags, ' +
        'a service or case/.',
      from: {path: '^src/commands/'},
      to: {path: '^src/commands/'},
    },
    {
      name: 'nothing-imports-commands',
      severity: 'error',
      comment: 'Commands are entry points that oclif loads by pattern: nothing imports them.',
      from: {path: '^src/', pathNot: '^src/commands/'},
      to: {path: '^src/commands/'},
    },
    {
      name: 'render-is-terminal-views',
      severity: 'error',
      comment:
        'src/render/ holds only terminal views of data a service returned: it imports render/ and util/ freely, ' +
        'and from the layers below only types. Document formats written as evidence (the report, timelines) ' +
        'belong beside their service.',
      from: {path: '^src/render/'},
      to: {path: '^src/(services|playbook|docker|case)/', dependencyTypesNot: ['type-only']},
    },
    {
      name: 'render-not-prompts-or-commands',
      severity: 'error',
      comment: 'A view neither asks (prompts/) nor runs (commands/, base-command).',
      from: {path: '^src/render/'},
      to: {path: '^src/(commands/|prompts/|hooks/|base-command\\.ts$)'},
    },
    {
      name: 'render-only-for-the-command-layer',
      severity: 'error',
      comment: 'Only the command layer (commands, base-command, prompts, hooks, render itself) uses terminal views.',
      from: {path: '^src/', pathNot: '^src/(commands/|render/|prompts/|hooks/|base-command\\.ts$|help\\.ts$)'},
      to: {path: '^src/render/'},
    },
    {
      name: 'render-writes-no-files',
      severity: 'error',
      comment: 'A terminal view returns text; writing files (evidence, reports) is a service’s job.',
      from: {path: '^src/render/'},
      to: {path: '^(node:)?(fs|fs/promises)$', dependencyTypes: ['core']},
    },
    {
      name: 'prompts-below-commands',
      severity: 'error',
      comment: 'Prompts ask; they never import commands or base-command (commands wire prompts into services).',
      from: {path: '^src/prompts/'},
      to: {path: '^src/(commands/|base-command\\.ts$|hooks/)'},
    },
    // ---- where things live ----------------------------------------------------------------------------------------
    {
      name: 'report-formats-beside-the-report-service',
      severity: 'error',
      comment:
        "The report's document formats (Markdown, HTML, its chart, escaping) and the timeline formats are evidence " +
        'formats: they live in src/services/report/, not in render/ or elsewhere.',
      from: {
        path: '(report-(markdown|html|chart)|timeline-formats|escape)\\.ts$',
        pathNot: '^src/services/report/',
      },
      to: {},
    },
    {
      name: 'run-journal-lives-in-case',
      severity: 'error',
      comment: 'The playbook run journal (playbook-run.json) is case state: it lives in src/case/journal.ts.',
      from: {path: 'journal[^/]*\\.ts$', pathNot: '^src/case/'},
      to: {},
    },
    // ---- hygiene --------------------------------------------------------------------------------------------------
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles: a cycle makes two modules one, and load order a bug. A cycle closed only by type-only ' +
        'imports is erased at compile time and allowed.',
      from: {},
      to: {circular: true, viaOnly: {dependencyTypesNot: ['type-only']}},
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead code, unless it is an entry point (commands, hooks, help, .d.ts).',
      from: {
        orphan: true,
        pathNot: ['^src/commands/', '^src/hooks/', '^src/help\\.ts$', '\\.d\\.ts$'],
      },
      to: {},
    },
    {
      name: 'no-dev-dependencies-in-src',
      severity: 'error',
      comment: 'src/ ships: it may not import a devDependency (they are not installed for users).',
      from: {path: '^src/'},
      to: {dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only']},
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a typo or a missing package fails here, not at run time).',
      from: {},
      to: {couldNotResolve: true},
    },
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    exclude: {path: '^(dist|node_modules)/'},
    // Type-only imports count as dependencies (they are real couplings), and are told apart by `type-only`.
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
    skipAnalysisNotInRules: true,
  },
}
