import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import FileType from 'file-type';
import multer from 'multer';
import { BadRequest, PayloadTooLarge } from '../http/errors';
import { dropNulBytes } from '../http/nul-bytes';

/** At most this many files in one submission. */
export const MAX_FILES_PER_SUBMIT = 10;
/** All attachments of one ticket together may weigh this many times MAX_UPLOAD_MB. */
export const TICKET_TOTAL_FACTOR = 5;

/** Types shown inline in the browser; everything else downloads. SVG never displays inline. */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export interface StoredFile {
  originalName: string;
  storedName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  /** Where the file is now (a temporary name until the transaction commits). */
  path: string;
}

export type UploadProblem = 'too_large' | 'too_many' | 'empty' | 'total_too_large';

/** Thrown when an upload breaks a limit; the route re-renders the form with a 413 or 422. */
export class UploadError extends Error {
  constructor(
    readonly problem: UploadProblem,
    readonly fileName?: string,
  ) {
    super(problem);
  }

  get status(): number {
    return this.problem === 'empty' ? 422 : 413;
  }
}

/**
 * Keeps what a person would recognise of a file name: no path, no control characters, no
 * characters that break a Content-Disposition header, no bidirectional overrides (which make
 * "facture\u202Efdp.exe" read as "factureexe.pdf"), 200 characters at most.
 */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u001f\u007f"\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 200);
  return cleaned || 'fichier';
}

/**
 * multer writing into UPLOAD_DIR/tmp under random names, with the size and count limits. The
 * files become attachments only when the service's transaction commits; `discard` removes
 * them on any failure, so no orphan file stays behind.
 */
export function uploadMiddleware(opts: { uploadDir: string; maxBytes: number; field: string }) {
  const tmpDir = path.join(opts.uploadDir, 'tmp');
  const upload = multer({
    storage: multer.diskStorage({
      destination: (_req, _file, cb) => {
        fs.mkdir(tmpDir, { recursive: true }, (err) => cb(err, tmpDir));
      },
      filename: (_req, _file, cb) => cb(null, crypto.randomBytes(16).toString('hex')),
    }),
    limits: {
      fileSize: opts.maxBytes,
      files: MAX_FILES_PER_SUBMIT,
      fields: 50,
      fieldSize: 1024 * 1024,
      parts: 80,
    },
  }).array(opts.field, MAX_FILES_PER_SUBMIT);

  // A broken limit is not an error page: it is left in res.locals.uploadError for the route,
  // which shows the same form again with what was typed and a message by the file field.
  return (req: Request, res: Response, next: NextFunction) => {
    upload(req, res, (err?: unknown) => {
      if (!err) {
        dropNulBytes(req.body);
        return next();
      }
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      void discard(files.map((f) => f.path));
      if (err instanceof multer.MulterError) {
        if (err.code === 'LIMIT_FILE_SIZE') {
          res.locals.uploadError = new UploadError('too_large');
          return next();
        }
        if (err.code === 'LIMIT_FILE_COUNT' || err.code === 'LIMIT_UNEXPECTED_FILE') {
          res.locals.uploadError = new UploadError('too_many');
          return next();
        }
        // Far past what the form sends (a 1 MB field, 50 fields): a plain 413 or 400 page.
        return next(err.code === 'LIMIT_FIELD_VALUE' ? new PayloadTooLarge() : new BadRequest());
      }
      // A body busboy cannot parse (no boundary, malformed part header, cut short) is the
      // client's mistake; errors of the disk carry an errno and stay server errors.
      if (err instanceof Error && !('errno' in err)) return next(new BadRequest());
      next(err);
    });
  };
}

async function sha256Of(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The type the content says it is, not what the browser claimed. */
async function sniff(file: string): Promise<string> {
  const detected = await FileType.fromFile(file);
  if (detected) return detected.mime;
  // No magic number: plain text when it decodes as UTF-8, else opaque bytes.
  const head = Buffer.alloc(4096);
  const fd = await fs.promises.open(file, 'r');
  try {
    const { bytesRead } = await fd.read(head, 0, head.length, 0);
    const sample = head.subarray(0, bytesRead);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(sample);
      return sample.includes(0) ? 'application/octet-stream' : 'text/plain';
    } catch {
      return 'application/octet-stream';
    }
  } finally {
    await fd.close();
  }
}

/** Turns multer's files into attachments-to-be: cleaned names, sniffed types, hashes. */
export async function inspectUploads(files: Express.Multer.File[]): Promise<StoredFile[]> {
  const out: StoredFile[] = [];
  for (const f of files) {
    // Browsers send latin1-decoded UTF-8 names through busboy; multer 2 keeps them as given.
    const originalName = cleanFileName(Buffer.from(f.originalname, 'latin1').toString('utf8'));
    if (f.size === 0) throw new UploadError('empty', originalName);
    out.push({
      originalName,
      storedName: f.filename,
      contentType: await sniff(f.path),
      sizeBytes: f.size,
      sha256: await sha256Of(f.path),
      path: f.path,
    });
  }
  return out;
}

/** The permanent place of a stored file: two levels of folders keep directories small. */
export function storedPath(uploadDir: string, storedName: string): string {
  return path.join(uploadDir, storedName.slice(0, 2), storedName.slice(2, 4), storedName);
}

/** Moves files from tmp/ to their permanent place (same file system: a rename). */
export async function commitUploads(uploadDir: string, files: StoredFile[]): Promise<void> {
  for (const f of files) {
    const target = storedPath(uploadDir, f.storedName);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.rename(f.path, target);
    f.path = target;
  }
}

export async function discard(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => fs.promises.rm(p, { force: true })));
}

export function isInline(contentType: string): boolean {
  return INLINE_TYPES.has(contentType);
}
