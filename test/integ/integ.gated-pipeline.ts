#!/usr/bin/env node
import { gatedPipelineIntegApp, integEnvironment, OFFLINE_ENVIRONMENT } from './gated-pipeline';

/*
 * The deployment test of a gated pipeline, as a CDK integ-tests app (integ-runner's file naming).
 * Deploy it into your own account with `bash test/integ/verify-on-account.sh` (README: "Verify on
 * your own account"); `npm test` synthesizes it offline and compares it with its snapshot
 * (test/integ/gated-pipeline.test.ts).
 */
const env = integEnvironment(process.env);
if (env.account === OFFLINE_ENVIRONMENT.account) {
  process.stderr.write(`[integ] neither CDK_INTEG_ACCOUNT nor CDK_DEFAULT_ACCOUNT names an AWS account (no credentials?): synthesizing for the placeholder account ${env.account} in ${env.region}. Deploying needs credentials for the account to test in.\n`);
}
gatedPipelineIntegApp(env).app.synth();
