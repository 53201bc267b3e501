import neostandard from 'neostandard'
import globals from 'globals'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**'] }),
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  },
  {
    files: ['static/js/**'],
    languageOptions: { globals: { ...globals.browser } }
  },
  {
    files: ['src/**'],
    rules: { 'no-console': 'error' }
  }
]
