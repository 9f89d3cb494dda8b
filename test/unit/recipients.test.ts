import { recipientsFor, type Parties, type Person } from '../../src/notifications/recipients';

const person = (id: number, over: Partial<Person> = {}): Person => ({
  id,
  email: `p${id}@example.com`,
  name: `P${id}`,
  role: 'employee',
  active: true,
  locale: 'fr',
  prefs: {},
  ...over,
});
const requester = person(1);
const tech = person(2, { role: 'technician' });
const tech2 = person(3, { role: 'technician' });
const admin = person(4, { role: 'admin' });
const off = person(5, { role: 'technician', active: false });

const parties = (over: Partial<Parties> = {}): Parties => ({
  requester,
  assignee: null,
  categoryDefault: null,
  technicians: [tech, tech2],
  ...over,
});
const who = (list: ReturnType<typeof recipientsFor>) =>
  list.map((r) => `${r.person.id}:${r.kind}`).sort();

describe('who gets what', () => {
  test('when a requester files a ticket, then they get an acknowledgement and every technician is told', () => {
    expect(who(recipientsFor({ type: 'created', actorId: 1 }, parties()))).toEqual([
      '1:ticket_acknowledged',
      '2:ticket_created',
      '3:ticket_created',
    ]);
  });

  test('when the category has a default assignee, then only they are told among staff', () => {
    expect(
      who(
        recipientsFor(
          { type: 'created', actorId: 1 },
          parties({ categoryDefault: tech2, assignee: tech2 }),
        ),
      ),
    ).toEqual(['1:ticket_acknowledged', '3:ticket_created']);
  });

  test('when a technician files on behalf of an employee, then the technician is not emailed', () => {
    expect(who(recipientsFor({ type: 'created', actorId: 2 }, parties()))).toEqual([
      '1:ticket_acknowledged',
      '3:ticket_created',
    ]);
  });

  test('when a ticket is assigned, then the new assignee is told, unless they took it themselves', () => {
    expect(
      who(
        recipientsFor(
          { type: 'assigned', actorId: admin.id, assigneeId: 2 },
          parties({ assignee: tech }),
        ),
      ),
    ).toEqual(['2:ticket_assigned']);
    expect(
      recipientsFor({ type: 'assigned', actorId: 2, assigneeId: 2 }, parties({ assignee: tech })),
    ).toEqual([]);
  });

  test('when staff reply publicly, then the requester is told', () => {
    expect(who(recipientsFor({ type: 'reply', actorId: 2 }, parties({ assignee: tech })))).toEqual([
      '1:reply_to_requester',
    ]);
  });

  test('when the requester replies, then the assignee is told, or every technician when nobody is assigned', () => {
    expect(who(recipientsFor({ type: 'reply', actorId: 1 }, parties({ assignee: tech })))).toEqual([
      '2:reply_to_staff',
    ]);
    expect(who(recipientsFor({ type: 'reply', actorId: 1 }, parties()))).toEqual([
      '2:reply_to_staff',
      '3:reply_to_staff',
    ]);
  });

  test('when the status becomes waiting, resolved or closed, then the requester is told; other statuses, nobody', () => {
    for (const to of ['waiting', 'resolved', 'closed'] as const) {
      expect(
        who(recipientsFor({ type: 'status', actorId: 2, to }, parties({ assignee: tech }))),
      ).toEqual(['1:status_changed']);
    }
    for (const to of ['new', 'in_progress'] as const) {
      expect(
        recipientsFor({ type: 'status', actorId: 2, to }, parties({ assignee: tech })),
      ).toEqual([]);
    }
  });

  test('when the system closes a ticket, then the requester is told', () => {
    expect(who(recipientsFor({ type: 'status', actorId: null, to: 'closed' }, parties()))).toEqual([
      '1:status_changed',
    ]);
  });

  test('when the requester confirms the fix, then they are not emailed about their own action', () => {
    expect(
      recipientsFor({ type: 'status', actorId: 1, to: 'closed' }, parties({ assignee: tech })),
    ).toEqual([]);
  });

  test('when an internal note is written, then only the assignee is told, never the requester', () => {
    expect(who(recipientsFor({ type: 'note', actorId: 4 }, parties({ assignee: tech })))).toEqual([
      '2:note_added',
    ]);
    expect(recipientsFor({ type: 'note', actorId: 2 }, parties({ assignee: tech }))).toEqual([]);
    expect(recipientsFor({ type: 'note', actorId: 4 }, parties({ assignee: requester }))).toEqual(
      [],
    );
  });

  test('when a recipient is deactivated or opted out, then they get nothing', () => {
    expect(
      who(recipientsFor({ type: 'created', actorId: 1 }, parties({ technicians: [tech, off] }))),
    ).toEqual(['1:ticket_acknowledged', '2:ticket_created']);
    const quiet = person(1, { prefs: { reply: false } });
    expect(
      recipientsFor({ type: 'reply', actorId: 2 }, parties({ requester: quiet, assignee: tech })),
    ).toEqual([]);
    const noAck = person(1, { prefs: { created: false } });
    expect(
      who(recipientsFor({ type: 'created', actorId: 1 }, parties({ requester: noAck }))),
    ).toEqual(['2:ticket_created', '3:ticket_created']);
  });

  test('when replies are off but status changes on, then a reply that sets waiting is sent as a status change', () => {
    const statusOnly = person(1, { prefs: { reply: false } });
    expect(
      who(
        recipientsFor(
          { type: 'reply', actorId: 2, toStatus: 'waiting' },
          parties({ requester: statusOnly, assignee: tech }),
        ),
      ),
    ).toEqual(['1:status_changed']);
    const nothing = person(1, { prefs: { reply: false, status: false } });
    expect(
      recipientsFor(
        { type: 'reply', actorId: 2, toStatus: 'waiting' },
        parties({ requester: nothing, assignee: tech }),
      ),
    ).toEqual([]);
  });

  test('when the assignee is deactivated, then a requester reply goes to the technicians instead', () => {
    expect(who(recipientsFor({ type: 'reply', actorId: 1 }, parties({ assignee: off })))).toEqual([
      '2:reply_to_staff',
      '3:reply_to_staff',
    ]);
  });
});
