import { ApiOptions, apiFor } from './checks';
import { CliError, columns, Io, printJson, Style } from './io';
import { commandTarget, CommandTarget } from './project';
import { StatusCheckApi } from './status-check-api';
import { SourceKind } from '../model';
import { ReviewRecord, reviewIdForBranch, reviewIdForPullRequest, reviewStackPrefix } from '../reviews/shared';

/*
 * `reviews` and `reviews destroy`: the review deployments of a pipeline (one per pull request),
 * read and destroyed through the status-check API (SigV4-signed, as the checks commands):
 * `GET /reviews?pipeline=<name>` → {reviews: ReviewRecord[]}, `POST /reviews/destroy`
 * {pipeline, reviewId, reason} → 202 {review}.
 */

/** Options of `reviews` (the list). */
export interface ReviewsOptions extends ApiOptions {
  /**
   * Also show destroyed review deployments.
   *
   * @default false
   */
  readonly all?: boolean;
}

/** Options of `reviews destroy`. */
export interface ReviewDestroyOptions extends ApiOptions {
  /** The CodeCommit pull request's number (`--pr`); its review id is `pr<N>`. */
  readonly pr?: string;
  /** The pull request's source branch (`--branch`), for connection sources. */
  readonly branch?: string;
  /**
   * Why, recorded with who asked.
   *
   * @default DEFAULT_DESTROY_REASON
   */
  readonly reason?: string;
}

/** The reason recorded when `reviews destroy` is given no `--reason`. */
export const DEFAULT_DESTROY_REASON = 'destroyed by hand with ddk-pipelines reviews destroy';

type ReviewTarget = CommandTarget<ApiOptions>;

/** `GET /reviews?pipeline=`: every review deployment the controller recorded for the pipeline. */
export async function fetchReviews(api: StatusCheckApi, pipeline: string): Promise<ReviewRecord[]> {
  const r = await api.send({ method: 'GET', path: '/reviews', query: { pipeline } }) as { reviews?: unknown } | undefined;
  if (!r || !Array.isArray(r.reviews)) {
    throw new CliError(`status-check API: GET /reviews answered without a "reviews" list (${JSON.stringify(r ?? null).slice(0, 200)}); `
      + 'expected {"reviews": [...]}. Fix: deploy the pipeline stack of this version of ddk-pipelines (its API serves /reviews)');
  }
  return r.reviews as ReviewRecord[];
}

/**
 * The error of a request to a /reviews route, with a hint when API Gateway's answer says the
 * route does not exist (an API deployed before review deployments answers 403 "Missing
 * Authentication Token" for routes it does not have).
 */
function routeHint(e: unknown, target: ReviewTarget): unknown {
  if (!CliError.isCliError(e) || !/answered 403 .*Missing Authentication Token/.test(e.message)) return e;
  const section = target.plan && !target.plan.review ? ` ${target.file} has no pipeline.review section either.` : '';
  return new CliError(`${e.message}. API Gateway answers this for a route the deployed API does not have: the API of ${target.pipeline} `
    + `may predate review deployments.${section} Fix: add "review": {"environment": "<environment id>"} to "pipeline" in ${target.file} and deploy the pipeline stack`, e.exitCode);
}

/** A pull request as the user names it: `#12 feature/x` (CodeCommit), or the source branch. */
export function pullRequestLabel(r: Pick<ReviewRecord, 'pullRequest' | 'sourceBranch'>): string {
  return r.pullRequest !== undefined ? `#${r.pullRequest} ${r.sourceBranch ?? ''}`.trimEnd() : r.sourceBranch ?? '-';
}

/** The `reviews destroy` flag that names a review deployment: `--pr 12` or `--branch feature/x`. */
export function destroyFlag(r: Pick<ReviewRecord, 'pullRequest' | 'sourceBranch' | 'reviewId'>): string {
  if (r.pullRequest !== undefined) return `--pr ${r.pullRequest}`;
  return r.sourceBranch !== undefined ? `--branch ${r.sourceBranch}` : `(id ${r.reviewId})`;
}

const short = (commit: string | undefined) => (commit ? commit.slice(0, 7) : '-');

/**
 * The commit of a review deployment: the one deployed (deployed), being built (deploying), else
 * the one asked for; `a → b` when a newer commit waits for the next build.
 */
export function reviewCommit(r: ReviewRecord): string {
  const current = r.state === 'deploying' ? r.build?.commit ?? r.requestedCommit
    : r.state === 'queued' || r.state === 'refused' ? r.requestedCommit
      : r.deployedCommit ?? r.build?.commit ?? r.requestedCommit;
  const waiting = r.state !== 'destroyed' && r.state !== 'destroying' && r.state !== 'refused'
    && r.requestedCommit !== undefined && current !== undefined && r.requestedCommit !== current;
  return waiting ? `${short(current)} → ${short(r.requestedCommit)}` : short(current);
}

/** The stacks of a review deployment: their ids after the review's prefix, or their number when many. */
export function reviewStacks(r: ReviewRecord): string {
  const stacks = r.stacks ?? [];
  if (stacks.length === 0) return r.stacks === undefined ? '-' : '0';
  if (stacks.length > 3) return `${stacks.length} stacks`;
  const prefix = r.stackPrefix ? `${r.stackPrefix}-` : '';
  return stacks.map(s => (prefix !== '' && s.startsWith(prefix) ? s.slice(prefix.length) : s)).join(', ');
}

/** Time since `iso`, in one unit: `42s`, `5m`, `3h` (under 48 hours), `4d`; `-` when unknown. */
export function age(iso: string | undefined, now: number): string {
  const t = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Colours a review state: deployed green, failed/refused red, in progress yellow, destroyed dim. */
export function colourReviewState(state: string, s: Style): string {
  if (state === 'deployed') return s.green(state);
  if (state === 'failed' || state === 'refused') return s.red(state);
  if (state === 'queued' || state === 'deploying' || state === 'destroying') return s.yellow(state);
  if (state === 'destroyed') return s.dim(state);
  return state;
}

/** The table of review deployments (newest update first). */
export function renderReviews(reviews: ReviewRecord[], s: Style, now: number): string[] {
  const byBranch = reviews.every(r => r.pullRequest === undefined);
  const header = [byBranch ? 'BRANCH' : 'PULL REQUEST', 'COMMIT', 'STATE', 'STACKS', 'AGE', 'URL'].map(h => s.dim(h));
  const rows = reviews.map(r => [
    pullRequestLabel(r),
    reviewCommit(r),
    colourReviewState(String(r.state ?? '-'), s),
    reviewStacks(r),
    age(r.updatedAt, now),
    r.url ?? '-',
  ]);
  return columns([header, ...rows]);
}

const newestFirst = (a: ReviewRecord, b: ReviewRecord) => String(b.updatedAt ?? '').localeCompare(String(a.updatedAt ?? ''));

/** `reviews [ddk.json]`: the live (with --all: every) review deployment of a pipeline. */
export async function reviewsCommand(file: string | undefined, options: ReviewsOptions, io: Io, now: () => number = Date.now): Promise<number> {
  const target = commandTarget(file, options, io.cwd);
  const { pipeline, plan } = target;
  const api = await apiFor(target.options, io);
  let reviews: ReviewRecord[];
  try {
    reviews = await io.progress('reading review deployments', () => fetchReviews(api, pipeline));
  } catch (e) {
    throw routeHint(e, target);
  }
  const shown = (options.all ? reviews : reviews.filter(r => r.state !== 'destroyed')).sort(newestFirst);
  if (options.json) {
    printJson(io, { reviews: shown });
    return 0;
  }
  const hidden = reviews.length - shown.length;
  const hiddenNote = hidden > 0 ? ` (${hidden} destroyed; --all shows ${hidden === 1 ? 'it' : 'them'})` : '';
  if (shown.length === 0) {
    if (plan && !plan.review) {
      io.out(`no review deployments of ${pipeline}${hiddenNote}: ${target.file} has no pipeline.review section, so pull requests get none. `
        + `Fix: add "review": {"environment": "<environment id>"} to "pipeline" in ${target.file} and deploy the pipeline\n`);
    } else {
      const into = plan?.review ? ` into ${plan.review.branches.join(', ')}` : '';
      io.out(`no ${options.all ? '' : 'live '}review deployments of ${pipeline}${hiddenNote}: a pull request${into} gets one when it is opened or updated\n`);
    }
    return 0;
  }
  const live = shown.filter(r => r.state !== 'destroyed').length;
  io.out(`review deployments of ${io.style.bold(pipeline)} (${live} live${options.all ? `, ${shown.length - live} destroyed` : ''})${hiddenNote}\n`);
  io.out(`${renderReviews(shown, io.style, now()).join('\n')}\n`);
  for (const r of shown) {
    if (r.message && (r.state === 'failed' || r.state === 'refused')) io.out(`${pullRequestLabel(r)}: ${r.state}: ${r.message}\n`);
  }
  if (plan?.review && plan.review.ttlHours > 0) {
    io.out(`a review deployment not updated for ${plan.review.ttlHours} h is destroyed (pipeline.review.ttlHours)\n`);
  }
  const kind = plan?.source.kind;
  io.out(`destroy one by hand: ddk-pipelines reviews destroy ${kind === SourceKind.CONNECTION || (kind === undefined && shown.every(r => r.pullRequest === undefined))
    ? '--branch <source branch>' : '--pr <number>'}\n`);
  return 0;
}

/** The review id `reviews destroy` names, from `--pr` or `--branch` (exactly one). */
export function destroyedReviewId(options: Pick<ReviewDestroyOptions, 'pr' | 'branch'>): { reviewId: string; label: string } {
  const { pr, branch } = options;
  if (pr !== undefined && branch !== undefined) {
    throw new CliError('--pr and --branch both given; expected one of them. Fix: pass --pr <number> for a CodeCommit pull request, or --branch <source branch> for a connection source', 2);
  }
  if (pr === undefined && branch === undefined) {
    throw new CliError('no review deployment named; expected --pr <number> (CodeCommit) or --branch <source branch> (connection sources). '
      + 'Fix: pass one; `ddk-pipelines reviews` lists the review deployments', 2);
  }
  if (pr !== undefined) {
    const number = pr.trim().replace(/^#/, '');
    try {
      return { reviewId: reviewIdForPullRequest(number), label: `#${number}` };
    } catch {
      throw new CliError(`--pr: "${pr}" is not a pull request number; expected CodeCommit's numeric pull request id, e.g. --pr 12`, 2);
    }
  }
  const name = branch!.trim().replace(/^refs\/heads\//, '');
  if (name === '') throw new CliError('--branch is empty; expected the pull request\'s source branch, e.g. --branch feature/login', 2);
  return { reviewId: reviewIdForBranch(name), label: `branch ${name}` };
}

/** Refuses the flag the pipeline's source kind cannot name a review deployment by. */
function checkSourceKind(options: ReviewDestroyOptions, target: ReviewTarget): void {
  const source = target.plan?.source;
  if (source === undefined) return;
  if (options.pr !== undefined && source.kind === SourceKind.CONNECTION) {
    throw new CliError(`--pr: the source of ${target.pipeline} is a connection (${source.repository}, pipeline.source.connection in ${target.file}); `
      + 'CodePipeline\'s pull-request trigger gives a build the source branch, not the pull request number, so its review deployments are known by branch. '
      + 'Fix: pass --branch <the pull request\'s source branch> (`ddk-pipelines reviews` lists them)', 2);
  }
  if (options.branch !== undefined && source.kind === SourceKind.CODECOMMIT) {
    throw new CliError(`--branch: the source of ${target.pipeline} is CodeCommit (${source.repository}, pipeline.source.codecommit in ${target.file}), `
      + 'whose review deployments are known by pull request number. Fix: pass --pr <number> (`ddk-pipelines reviews` lists them)', 2);
  }
}

/**
 * The error for a review deployment the API does not know (404), naming the ones that exist as
 * the flags that name them. When they cannot be read (the 404 is about the pipeline, say), the
 * API's own answer is the error.
 */
async function notFound(e: CliError, api: StatusCheckApi, pipeline: string, label: string, reviewId: string): Promise<CliError> {
  let existing: ReviewRecord[];
  try {
    existing = await fetchReviews(api, pipeline);
  } catch {
    return e;
  }
  const what = `no review deployment ${label} (id ${reviewId}) of ${pipeline} (POST /reviews/destroy answered 404)`;
  if (existing.length === 0) return new CliError(`${what}; ${pipeline} has no review deployments. Fix: check --pipeline, or open a pull request to get one`);
  const list = [...existing].sort(newestFirst).map(r => `${destroyFlag(r)} (${r.reviewId}, ${r.state})`).join(', ');
  return new CliError(`${what}; the review deployments of ${pipeline}: ${list}. Fix: pass one of these`);
}

/**
 * `reviews destroy [ddk.json] (--pr N | --branch name)`: asks the review controller to delete a
 * review deployment's stacks (`POST /reviews/destroy`).
 */
export async function reviewDestroyCommand(file: string | undefined, options: ReviewDestroyOptions, io: Io): Promise<number> {
  if ((options as { all?: unknown }).all) {
    throw new CliError('--all lists destroyed review deployments; `reviews destroy` has no use for it. Fix: leave it out (`ddk-pipelines reviews --all` lists them)', 2);
  }
  const { reviewId, label } = destroyedReviewId(options);
  if (options.reason !== undefined && options.reason.trim() === '') {
    throw new CliError('--reason is empty; expected why the review deployment is destroyed (kept with who asked). Fix: pass --reason <text>, or leave it out', 2);
  }
  const reason = options.reason ?? DEFAULT_DESTROY_REASON;
  const target = commandTarget(file, options, io.cwd);
  checkSourceKind(options, target);
  const { pipeline } = target;
  const api = await apiFor(target.options, io);
  let response: { review?: ReviewRecord } | undefined;
  try {
    response = await io.progress(`destroying review deployment ${reviewId}`,
      () => api.send({ method: 'POST', path: '/reviews/destroy', body: { pipeline, reviewId, reason } })) as { review?: ReviewRecord } | undefined;
  } catch (e) {
    if (CliError.isCliError(e) && / answered 404 /.test(e.message)) throw await notFound(e, api, pipeline, label, reviewId);
    throw routeHint(e, target);
  }
  if (options.json) {
    printJson(io, response ?? { pipeline, reviewId, reason });
    return 0;
  }
  const review = response?.review;
  const name = `${label} (${reviewId}) of ${pipeline}`;
  if (review?.state === 'destroyed') {
    io.out(`review deployment ${name} is already destroyed\n`);
    return 0;
  }
  const prefix = review?.stackPrefix ?? reviewStackPrefix(pipeline, reviewId);
  const where = target.plan?.review ? ` in ${target.plan.review.target.id} (${target.plan.review.target.account} / ${target.plan.review.target.region})` : '';
  io.out(`destroying review deployment ${name}: the review controller deletes its stacks ${prefix}-*${where}, dependents first.\n`
    + '`ddk-pipelines reviews --all` shows it as destroyed when none is left\n');
  return 0;
}
