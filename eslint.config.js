// Lint rules: the recommended sets of ESLint and typescript-eslint, plus the
// house rules from STYLE.md that a linter can check (no console in programs).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tap/', 'var/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': 'error'
    }
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-console': 'off' }
  },
  {
    files: ['scripts/**/*.ts', 'bin/*.js'],
    rules: { 'no-console': 'off' }
  }
)
