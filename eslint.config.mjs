// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'dist.next/',
      'dist.old/',
      'node_modules/',
      'data/',
      'coverage/',
      'test-artifacts/',
      'public/',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['scripts/**', 'test/**', 'seeds/**', '*.mjs', 'knexfile.ts'],
    rules: { 'no-console': 'off' },
  },
);
