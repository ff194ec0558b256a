// ESLint 9 flat config (issue 14's house rules): typescript-eslint's type-checked recommended rules, tuned to this
// codebase. Layout is Prettier's job (npm run format:check) and layers are dependency-cruiser's (npm run depcruise);
// `npm run lint` runs all three.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const NODE_GLOBALS = {
  process: 'readonly',
  console: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  URL: 'readonly',
}

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'lab/', 'coverage/', '**/*.d.ts']},
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {project: ['./tsconfig.check.json'], tsconfigRootDir: import.meta.dirname},
    },
    linterOptions: {reportUnusedDisableDirectives: 'error'},
    rules: {
      // ir neutralises control characters on purpose (util/controls.ts, redaction, case ids): its regexps name them.
      'no-control-regex': 'off',
      // Audit entries, journals and engine answers are JSON read back as `unknown`; String(x ?? '') on them is meant.
      '@typescript-eslint/no-base-to-string': 'off',
      // `'running' | 'paused' | string`: the documented values of an open set, spelt out for readers and editors.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // Methods of Promise-returning interfaces (plan, confirm) are async without awaiting: that is their contract.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a binding kept on purpose (a destructured field left out, a positional argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true},
      ],
      // dockerode's callbacks and engine errors reach us as `unknown`: passed on as they are, never wrapped.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', {allowThrowingUnknown: true}],
      // execa's failed Result is an Error (ExecaError) even where its type does not say so.
      '@typescript-eslint/only-throw-error': [
        'error',
        {allow: [{from: 'package', package: 'execa', name: ['Result', 'SyncResult']}]},
      ],
    },
  },
  {
    // Tests read ir's --json output and engine answers as parsed JSON (any): the unsafe-any family would flag every
    // assertion on them. vitest's expect(obj.method) is not a detached call.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {...tseslint.configs.disableTypeChecked.languageOptions, globals: NODE_GLOBALS},
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {sourceType: 'commonjs', globals: {...NODE_GLOBALS, module: 'writable', require: 'readonly'}},
  },
)
