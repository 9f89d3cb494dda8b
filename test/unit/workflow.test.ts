import {
  allowedStatuses,
  canChangeStatus,
  canEditFields,
  canReply,
  canSee,
  canWriteNote,
  isDueForAutoClose,
  isFirstResponse,
  statusAfterRequesterReply,
  STATUSES,
  timestampsFor,
  type Status,
} from '../../src/tickets/workflow';

const employee = { id: 1, role: 'employee' as const };
const otherEmployee = { id: 2, role: 'employee' as const };
const technician = { id: 3, role: 'technician' as const };
const admin = { id: 4, role: 'admin' as const };
const ticket = (status: Status) => ({ requesterId: employee.id, status });

describe('who sees and writes what', () => {
  test('when an employee looks at a ticket, then only their own is visible', () => {
    expect(canSee(employee, ticket('new'))).toBe(true);
    expect(canSee(otherEmployee, ticket('new'))).toBe(false);
    expect(canSee(technician, ticket('new'))).toBe(true);
    expect(canSee(admin, ticket('new'))).toBe(true);
  });

  test('when replying, then the requester and staff may, other employees may not', () => {
    expect(canReply(employee, ticket('waiting'))).toBe(true);
    expect(canReply(otherEmployee, ticket('waiting'))).toBe(false);
    expect(canReply(technician, ticket('waiting'))).toBe(true);
  });

  test('when it comes to internal notes and fields, then only staff may', () => {
    expect(canWriteNote(employee)).toBe(false);
    expect(canWriteNote(technician)).toBe(true);
    expect(canEditFields(employee)).toBe(false);
    expect(canEditFields(admin)).toBe(true);
  });
});

describe('status transitions', () => {
  test('when staff change a status, then every transition to another status is allowed', () => {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        expect(canChangeStatus(technician, ticket(from), to)).toBe(from !== to);
      }
    }
  });

  test('when the requester acts, then only confirm or reopen a resolved ticket is allowed', () => {
    const allowed: string[] = [];
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        if (canChangeStatus(employee, ticket(from), to)) allowed.push(`${from}→${to}`);
      }
    }
    expect(allowed.sort()).toEqual(['resolved→closed', 'resolved→in_progress']);
    expect(allowedStatuses(otherEmployee, ticket('resolved'))).toEqual([]);
  });

  test('when the requester replies, then waiting and resolved go back in progress', () => {
    expect(statusAfterRequesterReply('waiting')).toBe('in_progress');
    expect(statusAfterRequesterReply('resolved')).toBe('in_progress');
    expect(statusAfterRequesterReply('new')).toBe('new');
    expect(statusAfterRequesterReply('in_progress')).toBe('in_progress');
    expect(statusAfterRequesterReply('closed')).toBe('closed');
  });

  test('when a ticket is resolved, closed or reopened, then its timestamps follow', () => {
    const now = new Date('2026-11-24T10:00:00Z');
    expect(timestampsFor('resolved', now)).toEqual({ resolvedAt: now, closedAt: null });
    expect(timestampsFor('closed', now)).toEqual({ closedAt: now });
    expect(timestampsFor('in_progress', now)).toEqual({ resolvedAt: null, closedAt: null });
  });

  test('when a resolved ticket is older than AUTO_CLOSE_DAYS, then it is due to close', () => {
    const resolvedAt = new Date('2026-11-01T10:00:00Z');
    const justBefore = new Date('2026-11-08T09:59:59Z');
    const justAfter = new Date('2026-11-08T10:00:00Z');
    expect(isDueForAutoClose({ status: 'resolved', resolvedAt }, justBefore, 7)).toBe(false);
    expect(isDueForAutoClose({ status: 'resolved', resolvedAt }, justAfter, 7)).toBe(true);
    expect(isDueForAutoClose({ status: 'in_progress', resolvedAt }, justAfter, 7)).toBe(false);
  });

  test('when staff reply publicly for the first time, then it is the first response', () => {
    const fresh = { ...ticket('new'), firstResponseAt: null };
    expect(isFirstResponse(technician, fresh, false)).toBe(true);
    expect(isFirstResponse(technician, fresh, true)).toBe(false);
    expect(isFirstResponse(employee, fresh, false)).toBe(false);
    expect(isFirstResponse(technician, { ...fresh, firstResponseAt: new Date() }, false)).toBe(
      false,
    );
  });
});
