/**
 * Store settings keys of federation (STYLE.md §14: keys defined in one
 * module). All are small JSON values in `LogStore` settings, one per peer,
 * written only by the {@link Federator}. Fork evidence is not here: it has
 * typed tables (forks.ts).
 *
 * issue 9: the pull, push, cosigned and times values below are evidence and
 * moved into typed store tables (store migration 3: cursors, own_cosigned,
 * cosigned_times — written forward-only or insert-only, never as
 * read-modify-write JSON); their keys remain only for what versions up to
 * schema 2 wrote, which the migration moves.
 *
 *     federation/pull/<P>      {size, frontier: [b64 …]}   P's log scanned and verified up to size
 *                                                          (frontier: RFC 6962 compact range [0, size),
 *                                                          largest subtree first, to extend the scan)
 *     federation/push/<P>      {size}                      our entries for P pushed up to our size
 *     federation/cosigned/<P>  {size, note}                our latest checkpoint cosigned by P's witness:
 *                                                          our log signature + P's cosignature (text)
 *     federation/times/<P>     {<cosigner>: [[size, t] …]}  when counterparts cosigned sizes of P's log
 *                                                          (t: POSIX seconds), for deadline bounds
 *                                                          (deadlines/cosigned.ts)
 */
export const pullKey = (party: string): string => `federation/pull/${party}`;
export const pushKey = (party: string): string => `federation/push/${party}`;
export const cosignedKey = (party: string): string => `federation/cosigned/${party}`;
export const timesKey = (party: string): string => `federation/times/${party}`;

