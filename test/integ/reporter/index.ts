import type { CheckReport } from '../../../lib/cli/status-check-api';
import { resolveEndpoint, resolveSigningRegion, StatusCheckApi } from '../../../lib/cli/status-check-api';
export { API_ENDPOINT_ENV } from '../../../lib/cli/status-check-api';

/*
 * The deployment test's reporter: a Lambda function the assertions invoke to report a status
 * check through the status-check API, signed with SigV4 by the function's own role, with the
 * same client `ddk-pipelines checks report` uses (lib/cli/status-check-api.ts). Going through API
 * Gateway (IAM authorization, request validation, the Lambda integration) is the point: invoking
 * the API function directly would skip all of it.
 */

/** What the reporter answers; the assertions match it. */
export type ReporterResult =
  | { readonly ok: true; readonly answer: unknown }
  | { readonly ok: false; readonly message: string };

/**
 * Reports one check. An answer other than 2xx, or no answer, is returned as `ok: false` with the
 * client's message (status, API message), so a failed assertion shows why.
 */
export const handler = async (event: CheckReport): Promise<ReporterResult> => {
  try {
    // DDK_PIPELINES_API (API_ENDPOINT_ENV), as for the CLI: the CICD stack's StatusChecksApiEndpoint
    const endpoint = resolveEndpoint(undefined, process.env);
    const api = new StatusCheckApi({ endpoint: endpoint.toString(), region: resolveSigningRegion(endpoint, undefined, process.env) });
    return { ok: true, answer: await api.reportCheck(event) };
  } catch (e) {
    return { ok: false, message: (e as Error).message ?? String(e) };
  }
};
