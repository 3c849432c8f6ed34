/**
 * Pending amendments (GET /v1/accord/proposals): for each, what it changes,
 * who approved (and whether with the key of the version in force), the
 * quorum need/have, the consents still missing, and — for an admin of a
 * party the proposal still needs — an Approve button. Approve opens a modal
 * dialog that repeats the changes and asks to confirm; only then is
 * POST /v1/accord/proposals/{digest}/approve sent. The node's refusal is
 * shown in the dialog in words (accord:problem.<code>), with its detail.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../../api.js';
import { Empty } from '../../components/feedback.js';
import { ChangeList } from './changes.js';
import type { ProposalView } from './model.js';

/** A node problem in words: the accord page's own words for governance codes, the common ones otherwise. */
export function ProblemBox({ error }: { error: ApiError | undefined }) {
  const { t } = useTranslation('accord');
  const { t: tc } = useTranslation();
  if (error === undefined) return null;
  const own = t(`problem.${error.code}`, { defaultValue: '' });
  const common = tc(`errors.${error.code}`, { defaultValue: '' });
  return (
    <div className="error-box" role="alert" data-testid="accord-problem" data-code={error.code}>
      <strong>
        <span aria-hidden="true">⚠ </span>
        {own !== '' ? own : common !== '' ? common : tc('errors.generic')}
      </strong>
      <div className="error-detail">
        {error.detail !== '' ? error.detail : error.title}
        <code className="error-code"> {error.code}</code>
      </div>
    </div>
  );
}

/** POST …/approve for `digest`. */
export function approveProposal(digest: string): Promise<{ index: number }> {
  return api<{ index: number }>(`/v1/accord/proposals/${encodeURIComponent(digest)}/approve`, { method: 'POST', body: {} });
}

function ApproveDialog({ p, onClose, onDone }: { p: ProposalView; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation('accord');
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    const d = ref.current;
    if (d !== null && !d.open) d.showModal();
  }, []);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await approveProposal(p.digest);
      onDone();
      ref.current?.close();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError({ status: 0, detail: String(err) }));
    } finally {
      setBusy(false);
    }
  }
  return (
    <dialog ref={ref} className="ack-dialog approve-dialog" aria-labelledby="approve-title" data-testid="approve-dialog" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <h2 id="approve-title">{t('approve.title', { version: p.version })}</h2>
        <p>{t('approve.intro')}</p>
        <p className="mono digest">{p.digest}</p>
        <ChangeList changes={p.changes} testId="approve-changes" />
        {p.recovery !== undefined ? <p className="notice">⚠ {t('proposal.recovery', { party: p.recovery.party, from: p.recovery.suspectFrom })}</p> : null}
        <ProblemBox error={error} />
        <div className="ack-actions">
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="approve-confirm" autoFocus>
            <span aria-hidden="true">✓ </span>
            {busy ? t('approve.sending') : t('approve.confirm')}
          </button>
          <button type="button" className="btn" onClick={() => ref.current?.close()}>
            {t('approve.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}

function ProposalCard({ p, partyName, onApproved }: { p: ProposalView; partyName: (id: string) => string; onApproved: () => void }) {
  const { t } = useTranslation('accord');
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState(false);
  const headId = `proposal-${p.digest.slice(0, 12)}`;
  return (
    <article className="card proposal" aria-labelledby={headId} data-testid="proposal" data-version={p.version} data-status={p.status}>
      <h3 id={headId}>
        {t('proposal.heading', { version: p.version })} <span className={`badge proposal-${p.status}`}>{t(`status.${p.status}`)}</span>
      </h3>
      <dl className="kv">
        <dt>{t('proposal.digest')}</dt>
        <dd className="mono digest">{p.digest}</dd>
        <dt>{t('proposal.proposer')}</dt>
        <dd>
          {partyName(p.proposer.party)} · <span className="mono">{t('proposal.at', { party: p.proposer.party, index: p.proposer.index })}</span>
        </dd>
        {p.rationale !== undefined ? (
          <>
            <dt>{t('proposal.rationale')}</dt>
            <dd className="rationale">{p.rationale}</dd>
          </>
        ) : null}
      </dl>
      {p.recovery !== undefined ? (
        <p className="notice" role="note">
          ⚠ {t('proposal.recovery', { party: p.recovery.party, from: p.recovery.suspectFrom })}
        </p>
      ) : null}
      <h4>{t('proposal.changes')}</h4>
      <ChangeList changes={p.changes} testId="proposal-changes" />
      <h4>{t('proposal.approvals')}</h4>
      <p data-testid="proposal-quorum">
        <span className={`badge ${p.quorum.met ? 'state-acknowledged' : 'state'}`}>{t('proposal.quorum', { have: p.quorum.have, need: p.quorum.need })}</span>
      </p>
      <ul className="approvals" data-testid="proposal-approvals">
        {p.approvedBy.map((a) => (
          <li key={a.party}>
            ✓ {partyName(a.party)} <span className="muted">({a.prior ? t('proposal.approvedPrior') : t('proposal.approvedPlain')})</span>
          </li>
        ))}
        {p.waitingOn.map((id) => (
          <li key={id} className="muted">
            … {t('proposal.waiting', { party: partyName(id) })}
          </li>
        ))}
      </ul>
      <p data-testid="proposal-consents">
        {p.consents.need.length === 0
          ? t('proposal.noConsents')
          : p.consents.missing.length === 0
            ? `✓ ${t('proposal.consentsAll', { parties: p.consents.need.join(', ') })}`
            : `⚠ ${t('proposal.consentsMissing', { parties: p.consents.missing.join(', ') })}`}
      </p>
      {p.canApprove && !done ? (
        <button type="button" className="btn btn-primary" onClick={() => setOpen(true)} data-testid="approve">
          {t('approve.button', { version: p.version })}
        </button>
      ) : p.blocked !== undefined && p.status === 'pending' ? (
        <p className="muted">{t(`blocked.${p.blocked}`)}</p>
      ) : null}
      {done ? <p role="status">✓ {t('approve.done')}</p> : null}
      {open ? (
        <ApproveDialog
          p={p}
          onClose={() => setOpen(false)}
          onDone={() => {
            setDone(true);
            onApproved();
          }}
        />
      ) : null}
    </article>
  );
}

export function Proposals({ items, error, partyName, onApproved }: { items: readonly ProposalView[] | undefined; error: ApiError | undefined; partyName: (id: string) => string; onApproved: () => void }) {
  const { t } = useTranslation('accord');
  // Pending (and approved, activating) first; active and refused ones folded away.
  const open = (items ?? []).filter((p) => p.status === 'pending' || p.status === 'complete');
  const done = (items ?? []).filter((p) => p.status === 'active' || p.status === 'refused');
  return (
    <section className="card" aria-labelledby="acc-proposals" data-testid="proposals">
      <h2 id="acc-proposals">{t('proposals')}</h2>
      {error !== undefined ? (
        error.status === 404 ? (
          <p className="muted">{t('noGovernance')}</p>
        ) : (
          <ProblemBox error={error} />
        )
      ) : items === undefined ? null : (
        <>
          {open.length === 0 ? (
            <Empty>{t('noProposals')}</Empty>
          ) : (
            <div className="stack">
              {open.map((p) => (
                <ProposalCard key={p.digest} p={p} partyName={partyName} onApproved={onApproved} />
              ))}
            </div>
          )}
          {done.length > 0 ? (
            <details data-testid="earlier-proposals">
              <summary>{t('earlierProposals', { n: done.length })}</summary>
              <div className="stack">
                {done.map((p) => (
                  <ProposalCard key={p.digest} p={p} partyName={partyName} onApproved={onApproved} />
                ))}
              </div>
            </details>
          ) : null}
        </>
      )}
    </section>
  );
}
