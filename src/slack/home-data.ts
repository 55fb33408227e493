import type { CommitRef } from '../domain/index.js';
import type { Db } from '../engine/db.js';

export interface HomeData {
  userEmail: string;
  lines: {
    line: string;
    platform: CommitRef[];
    trains: { number: number; state: string; commits: CommitRef[]; ticket: { state: 'pending' | 'verified' } | null }[];
  }[];
  now: Date;
}

/** A person's own commits waiting or riding live trains, and their tickets, across lines. */
export async function loadHomeData(db: Db, email: string, now: Date): Promise<HomeData> {
  const commits = await db.commit.findMany({
    where: { authorEmail: email, state: { in: ['platform', 'train'] } },
    include: { line: { select: { name: true } }, train: { select: { number: true, state: true } } },
    orderBy: [{ lineId: 'asc' }, { position: 'asc' }],
    take: 500,
  });
  const tickets = await db.ticket.findMany({
    where: { authorEmail: email, train: { state: { in: ['delivering', 'verifying'] } } },
    include: { train: { select: { number: true, state: true, line: { select: { name: true } } } } },
  });
  const byLine = new Map<string, HomeData['lines'][number]>();
  const lineOf = (name: string) => {
    let l = byLine.get(name);
    if (!l) byLine.set(name, (l = { line: name, platform: [], trains: [] }));
    return l;
  };
  const trainOf = (name: string, number: number, state: string) => {
    const l = lineOf(name);
    let t = l.trains.find((x) => x.number === number);
    if (!t) l.trains.push((t = { number, state, commits: [], ticket: null }));
    return t;
  };
  for (const c of commits) {
    const ref: CommitRef = { sha: c.sha, authorName: c.authorName, authorEmail: c.authorEmail, message: c.message, verifiedBy: c.verifiedBy, verifiedAt: c.verifiedAt };
    if (c.state === 'platform' || !c.train) lineOf(c.line.name).platform.push(ref);
    else trainOf(c.line.name, c.train.number, c.train.state).commits.push(ref);
  }
  for (const k of tickets) trainOf(k.train.line.name, k.train.number, k.train.state).ticket = { state: k.state };
  return { userEmail: email, lines: [...byLine.values()], now };
}
