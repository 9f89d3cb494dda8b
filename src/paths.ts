import path from 'node:path';

/** The project root, the same from `src/` (tsx, jest) and from the compiled `dist/src/`. */
const compiled = path.basename(path.resolve(__dirname, '..')) === 'dist';
export const PROJECT_ROOT = path.resolve(__dirname, compiled ? '../..' : '..');
