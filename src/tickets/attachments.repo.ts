import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface Attachment {
  id: number;
  ticketId: number;
  eventId: number | null;
  uploaderId: number | null;
  originalName: string;
  storedName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  createdAt: Date;
}

export interface AttachmentRow {
  id: number;
  ticket_id: number;
  event_id: number | null;
  uploader_id: number | null;
  original_name: string;
  stored_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  /** A Date from a row, milliseconds from a JSON document (findTicketPage). */
  created_at: Date | number;
}

export const toAttachment = (r: AttachmentRow): Attachment => ({
  id: r.id,
  ticketId: r.ticket_id,
  eventId: r.event_id,
  uploaderId: r.uploader_id,
  originalName: r.original_name,
  storedName: r.stored_name,
  contentType: r.content_type,
  sizeBytes: r.size_bytes,
  sha256: r.sha256,
  createdAt: new Date(r.created_at),
});

export interface NewAttachment {
  ticketId: number;
  eventId: number;
  uploaderId: number;
  originalName: string;
  storedName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
}

export async function insertAttachments(db: Db, list: NewAttachment[]): Promise<void> {
  if (!list.length) return;
  await db('attachments').insert(
    list.map((a) => ({
      ticket_id: a.ticketId,
      event_id: a.eventId,
      uploader_id: a.uploaderId,
      original_name: a.originalName,
      stored_name: a.storedName,
      content_type: a.contentType,
      size_bytes: a.sizeBytes,
      sha256: a.sha256,
    })),
  );
}

export async function listAttachments(db: Db, ticketId: number): Promise<Attachment[]> {
  const result = await db.raw('select * from attachments where ticket_id = ? order by id', [
    ticketId,
  ]);
  return (result.rows as AttachmentRow[]).map(toAttachment);
}

export async function findAttachment(db: Db, id: number): Promise<Attachment | null> {
  const row = await db<AttachmentRow>('attachments').where({ id }).first();
  return row ? toAttachment(row) : null;
}
