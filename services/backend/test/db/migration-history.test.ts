import { describe, expect, it } from 'vitest';
import { compareWithJournal, type AppliedRow, type JournalEntry } from '../../src/db/migrations.ts';
import { SchemaDivergedError } from '../../src/errors.ts';

const journal: JournalEntry[] = [
  { tag: '0000_init', when: 1000 },
  { tag: '0001_settings', when: 2000 },
  { tag: '0002_plugins', when: 3000 },
];
const row = (createdAt: number): AppliedRow => ({ createdAt, hash: `${createdAt}`.padEnd(64, 'a') });

describe('compareWithJournal: the database\'s applied migrations against this release\'s journal', () => {
  it('counts the pending migrations of a database that is this release\'s prefix', () => {
    expect(compareWithJournal([], journal)).toEqual({ schema: 'current', pending: 3 });
    expect(compareWithJournal([row(1000), row(2000)], journal)).toEqual({ schema: 'current', pending: 1 });
    expect(compareWithJournal([row(1000), row(2000), row(3000)], journal)).toEqual({ schema: 'current', pending: 0 });
  });

  it('calls a database with migrations after this release\'s last one ahead, naming them', () => {
    const comparison = compareWithJournal([row(1000), row(2000), row(3000), row(4000)], journal);
    expect(comparison).toEqual({ schema: 'ahead', unknown: [`unknown (generated ${new Date(4000).toISOString()}, hash 4000aaaaaaaa)`] });
  });

  it('refuses a database with an unknown migration in the middle, naming it and the tag this release has there', () => {
    const diverged = () => compareWithJournal([row(1000), row(1500), row(2000), row(3000)], journal);
    expect(diverged).toThrow(SchemaDivergedError);
    expect(diverged).toThrow(`unknown (generated ${new Date(1500).toISOString()}, hash 1500aaaaaaaa), where this release has 0001_settings`);
  });

  it('refuses a database that lacks one of this release\'s migrations but has a later one', () => {
    expect(() => compareWithJournal([row(1000), row(3000)], journal)).toThrow(/has not applied 0001_settings, which this release ships before 0002_plugins, yet it has applied 0002_plugins \(hash 3000aaaaaaaa\)/);
  });
});
