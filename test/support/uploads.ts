import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { csrfFrom, type Agent } from './agent';

/** A real 1×1 PNG (grayscale), small enough to read in a test. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

export const sha256 = (data: Buffer): string =>
  crypto.createHash('sha256').update(data).digest('hex');

/** Every file under `dir`, recursively (tmp/ included), relative to it; [] if it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full).map((f) => path.join(entry.name, f)));
    else out.push(entry.name);
  }
  return out.sort();
}

export interface RawFile {
  /** Written byte for byte (UTF-8) into the part's `filename="…"`: no basename, no escaping. */
  rawName: string;
  content: Buffer | string;
  type?: string;
}

/**
 * Posts a multipart body built by hand, so that a file name reaches the server exactly as a
 * (possibly hostile) client sends it; supertest's form-data would clean it up first.
 */
export async function postRawMultipart(
  agent: Agent,
  url: string,
  fields: Record<string, string>,
  files: RawFile[],
  opts: { from?: string } = {},
) {
  const token = await csrfFrom(agent, opts.from ?? url);
  const boundary = `----guichet${crypto.randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries({ ...fields, _csrf: token })) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
    );
  }
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="${f.rawName}"\r\n` +
          `Content-Type: ${f.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return agent
    .post(`${url}?_csrf=${encodeURIComponent(token)}`)
    .set('Content-Type', `multipart/form-data; boundary=${boundary}`)
    .send(Buffer.concat(parts));
}

/** GETs a URL and keeps the body as raw bytes whatever its type. */
export function getBinary(agent: Agent, url: string) {
  return agent
    .get(url)
    .buffer(true)
    .parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
}

/** The value of the selected option of the select named `name` on a page, if any. */
export function selectedOption(html: string, name: string): string | undefined {
  const select = new RegExp(`<select id="field-${name}"[\\s\\S]*?</select>`).exec(html)?.[0];
  return select ? /<option value="([^"]*)" selected>/.exec(select)?.[1] : undefined;
}

/** The error shown next to the field `name` (its text, not escaped back), if any. */
export function fieldError(html: string, name: string): string | undefined {
  return new RegExp(`<p class="field__error" id="field-${name}-error">([^<]*)</p>`).exec(html)?.[1];
}
