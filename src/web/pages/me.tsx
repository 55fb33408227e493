/**
 * `GET /me`: my commits (waiting, on a train, deployed today), my pending
 * verifications, the trains I am the engineer of (docs/behaviour.md §7).
 * A pending verification the rule would accept now has a Verify button
 * (src/web/actions); otherwise it links to its train page.
 */

import type { VNode } from 'preact';
import { type MeJson, type MyCommitJson, readMe } from '../../engine/read/me.js';
import { meVerifyButtons } from '../actions/page-actions.js';
import type { SignedIn } from '../auth/session.js';
import type { PageResult, WebContext } from '../context.js';
import { firstLine, lineHref, ShortSha, TableWrap, Time, TrainLink, TrainState, trainHref, Where } from './parts.js';

export async function mePage(web: WebContext, me: SignedIn): Promise<PageResult> {
  const data = await readMe(web.engine, me.email);
  const verify = await meVerifyButtons(web, me, data.verifications);
  return { title: 'My changes', nav: 'me', live: '*', body: <Me data={data} verify={verify} /> };
}

export function Me({ data, verify }: { data: MeJson; verify?: Map<string, VNode> }) {
  return (
    <>
      <h1>My changes</h1>
      <p class="muted">
        {'Commits, verifications and trains of '}
        <strong class="email">{data.email}</strong>, across every line.
      </p>
      <section aria-labelledby="me-verify">
        <h2 id="me-verify">Waiting for my verification</h2>
        {data.verifications.length === 0 ? (
          <p class="muted">Nothing to verify.</p>
        ) : (
          <TableWrap label="My pending verifications">
            <table class="stack">
              <thead>
                <tr>
                  <th scope="col">Train</th>
                  <th scope="col">Line</th>
                  <th scope="col">Ticket</th>
                  <th scope="col">My commits</th>
                  <th scope="col">Asked</th>
                  <th scope="col">Verify</th>
                </tr>
              </thead>
              <tbody>
                {data.verifications.map((v) => (
                  <tr key={`${v.line} ${v.train}`}>
                    <td class="nowrap">
                      <TrainLink line={v.line} n={v.train} /> <TrainState state={v.trainState} />
                    </td>
                    <td>
                      <a href={lineHref(v.line)}>{v.line}</a>
                    </td>
                    <td data-label="Ticket">
                      {v.ticket ? v.ticketUrl && /^https?:\/\//i.test(v.ticketUrl) ? <a href={v.ticketUrl}>{v.ticket}</a> : v.ticket : <span class="muted">none</span>}
                    </td>
                    <td class="shas" data-label="My commits">
                      {v.shas.map((s) => (
                        <ShortSha key={s} sha={s} />
                      ))}
                    </td>
                    <td class="nowrap">{v.requestedAt ? <Time at={v.requestedAt} /> : ''}</td>
                    <td class="main">
                      {verify?.get(`${v.line} ${v.train}`) ?? (
                        <a class="button" href={trainHref(v.line, v.train)}>
                          Verify on the train page
                        </a>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
      <section aria-labelledby="me-engineer">
        <h2 id="me-engineer">Trains I am the engineer of</h2>
        {data.engineerOf.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul class="plain">
            {data.engineerOf.map((t) => (
              <li key={`${t.line} ${t.number}`}>
                <a href={lineHref(t.line)}>{t.line}</a> <TrainLink line={t.line} n={t.number} /> <TrainState state={t.state} /> head <ShortSha sha={t.headSha} />
                {t.blocked && <span class="why">{` · blocked: ${t.blocked}`}</span>}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="me-commits">
        <h2 id="me-commits">My commits</h2>
        {data.commits.length === 0 ? <p class="muted">No commit of mine is waiting, on a train, or deployed today.</p> : <CommitTable commits={data.commits} />}
      </section>
    </>
  );
}

function CommitTable({ commits }: { commits: MyCommitJson[] }) {
  return (
    <TableWrap label="My commits">
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">SHA</th>
            <th scope="col">Message</th>
            <th scope="col">Line</th>
            <th scope="col">Where it is</th>
          </tr>
        </thead>
        <tbody>
          {commits.map((c) => (
            <tr key={`${c.line} ${c.sha}`}>
              <td>
                <ShortSha sha={c.sha} />
              </td>
              <td class="message main">{firstLine(c.message)}</td>
              <td>
                <a href={lineHref(c.line)}>{c.line}</a>
              </td>
              <td class="main">
                <Where c={c} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
