import fs from 'node:fs';
import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.GUICHET_TEST_ADMIN_URL;
  const template = process.env.GUICHET_TEST_TEMPLATE;
  if (adminUrl && template) {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`drop database if exists ${template} with (force)`);
    await client.end();
  }
  await globalThis.__GUICHET_EMBEDDED__?.stop();
  if (globalThis.__GUICHET_TMP__) {
    fs.rmSync(globalThis.__GUICHET_TMP__, { recursive: true, force: true });
  }
}
