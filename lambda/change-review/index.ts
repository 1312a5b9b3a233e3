import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient, DescribeTypeCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { isObj, show, str } from '../../lib/input-values';
import { CodePipelineJobResults } from '../../lib/reviews/adapters';
import { parseSafetyParameters } from '../../lib/safety/alarm-watch';
import {
  ChangeReviewError, isStackMissing, reviewStage, s3ConsoleUrl, sessionName, TargetReader,
} from '../../lib/safety/change-review';
import { readNestedAssemblies, Template, ZipSource } from '../../lib/safety/cloud-assembly';
import { readSafetyStages } from '../../lib/safety/settings';
import {
  CHANGE_REVIEW_VARIABLES, REPORT_BUCKET_VARIABLE, reportKey, SAFETY_STAGES_VARIABLE, SafetyActionParameters, SafetyStages, SafetyTarget,
} from '../../lib/safety/shared';
import { CODEPIPELINE_TEXT_LIMITS, fit } from '../../lib/status-checks/gate';
import { JobHandlerOutcome, jobAnsweringHandler } from '../job-handler';

/*
 * The change review: a CodePipeline Lambda invoke action in the CICD account. A thin adapter over
 * lib/safety/change-review.ts: reads the job (UserParameters = SafetyActionParameters, one input
 * artifact = the zipped cloud assembly, read with the function's own role by byte ranges: one
 * HeadObject for its size and ETag, then ranged GetObjects of only the zip's end records, central
 * directory and the entries the review needs — the count is in lib/safety/cloud-assembly.ts; the
 * artifact is never held whole), assumes each target's
 * CDK lookup role, reads the deployed templates (GetTemplate, Original) and resource schemas
 * (DescribeType), writes the report (JSON) to the report bucket, and answers the job with the
 * output variables Summary, ReportUrl and ReportUri; any failure fails the job with what, where
 * and how to fix. The raw event is never logged (it carries artifact credentials).
 *
 * IAM the function needs: s3:GetObject on the artifact bucket's objects (it authorizes HeadObject
 * and ranged GetObject too: S3 has no separate action for either), s3:PutObject on
 * <bucket>/ddk-change-reviews/*, kms:Decrypt and kms:GenerateDataKey on the artifact key,
 * sts:AssumeRole on the targets' lookup roles, codepipeline:PutJobSuccessResult and
 * codepipeline:PutJobFailureResult (resource "*": IAM has no resource type for them).
 * Through the lookup role: cloudformation:GetTemplate and cloudformation:DescribeType.
 */

const logger = new Logger({ serviceName: 'ddk-pipelines-change-review' });

/** Everything the handler uses from outside (tests give mocked SDK clients the same way). */
export interface HandlerDependencies {
  readonly stages: SafetyStages;
  readonly bucket: string;
  /** The CICD region (the report's console link). */
  readonly region: string;
  readonly s3: S3Client;
  readonly sts: STSClient;
  readonly codePipeline: CodePipelineClient;
  /** A CloudFormation client of `region` with the given credentials. */
  cloudFormation(region: string, credentials: Credentials): CloudFormationClient;
  now(): Date;
}

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

const FIX_SETTINGS = 'The ChangeReview construct writes it. Fix: redeploy the pipeline stack';

/** The dependencies from the function's environment. */
export function environmentDependencies(env: NodeJS.ProcessEnv = process.env): HandlerDependencies {
  const stages = readSafetyStages(env);
  const bucket = str(env[REPORT_BUCKET_VARIABLE]);
  if (!bucket) throw new Error(`environment variable ${REPORT_BUCKET_VARIABLE} is not set; expected the report bucket's name. ${FIX_SETTINGS}`);
  const region = str(env.AWS_REGION) ?? str(env.AWS_DEFAULT_REGION);
  if (!region) throw new Error('environment variable AWS_REGION is not set (Lambda sets it)');
  return {
    stages,
    bucket,
    region,
    s3: new S3Client({}),
    sts: new STSClient({}),
    codePipeline: new CodePipelineClient({}),
    cloudFormation: (r, credentials) => new CloudFormationClient({ region: r, credentials, maxAttempts: 5 }),
    now: () => new Date(),
  };
}

/** The job's id, parameters and input artifact, or why they are unusable. */
interface ParsedJob {
  readonly id: string;
  readonly accountId?: string;
  readonly parameters?: SafetyActionParameters;
  readonly artifact?: { readonly bucket: string; readonly key: string };
  readonly problem?: string;
}

function parseJob(event: unknown): ParsedJob | undefined {
  const job = isObj(event) ? event['CodePipeline.job'] : undefined;
  if (!isObj(job) || typeof job.id !== 'string') return undefined;
  const id = job.id;
  const accountId = str(job.accountId);
  const data = isObj(job.data) ? job.data : {};
  const action = isObj(data.actionConfiguration) ? data.actionConfiguration : {};
  const configuration = isObj(action.configuration) ? action.configuration : {};
  const raw = configuration.UserParameters;
  const parsed = parseSafetyParameters(typeof raw === 'string' ? raw : undefined);
  if (!parsed.ok) {
    return { id, accountId, problem: `UserParameters ${show(raw)} is not the JSON {"pipeline","stage","executionId"} the ChangeReview action is built with. Fix: redeploy the pipeline stack` };
  }
  const artifacts = Array.isArray(data.inputArtifacts) ? data.inputArtifacts : [];
  const first = artifacts.find(isObj);
  const s3 = first && isObj(first.location) && isObj(first.location.s3Location) ? first.location.s3Location : undefined;
  const bucket = s3 ? str(s3.bucketName) : undefined;
  const key = s3 ? str(s3.objectKey) : undefined;
  const parameters = parsed.value;
  if (!bucket || !key) {
    return { id, accountId, parameters, problem: `the action has no input artifact in S3 (inputArtifacts[0].location.s3Location: ${show(first?.location)}); expected the synth output (the cloud assembly). Fix: redeploy the pipeline stack` };
  }
  return { id, accountId, parameters, artifact: { bucket, key } };
}

const FIX_ARTIFACT = 'Fix: the function needs s3:GetObject on the artifact bucket and kms:Decrypt on its key (the ChangeReview construct grants both); retry the stage';

function artifactError(bucket: string, key: string, e: unknown): ChangeReviewError {
  return new ChangeReviewError(`Change review cannot read the synth artifact s3://${bucket}/${key}: ${(e as Error).name}: ${(e as Error).message}. ${FIX_ARTIFACT}`);
}

/**
 * The synth artifact as a zip read by byte ranges: HeadObject for its size and ETag, then one
 * GetObject per range (`Range: bytes=start-end`, both inclusive; S3 serves one range per request)
 * with `IfMatch` the ETag, so every range comes from the same object version (a changed object
 * fails with 412 PreconditionFailed instead of mixing two zips).
 */
async function artifactSource(deps: HandlerDependencies, bucket: string, key: string): Promise<ZipSource> {
  let size: number | undefined;
  let etag: string | undefined;
  try {
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    size = head.ContentLength;
    etag = head.ETag;
  } catch (e) {
    throw artifactError(bucket, key, e);
  }
  if (size === undefined || !etag) throw artifactError(bucket, key, new Error(`HeadObject returned no ${size === undefined ? 'ContentLength' : 'ETag'}`));
  return {
    size,
    async read(start, end) {
      try {
        const out = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}`, IfMatch: etag }));
        if (!out.Body) throw new Error(`the object has no body for bytes ${start}-${end}`);
        return await out.Body.transformToByteArray();
      } catch (e) {
        // thrown inside the review, which prefixes "Change review of stage <stage> cannot read the synth artifact: "
        throw new Error(`GetObject s3://${bucket}/${key} bytes ${start}-${end}: ${(e as Error).name}: ${(e as Error).message}. ${FIX_ARTIFACT}`);
      }
    },
  };
}

/** A reader of one target through its lookup role: one AssumeRole, clients per region. */
function targetReader(deps: HandlerDependencies, parameters: SafetyActionParameters) {
  return async (target: SafetyTarget): Promise<TargetReader> => {
    const out = await deps.sts.send(new AssumeRoleCommand({
      RoleArn: target.lookupRoleArn,
      RoleSessionName: sessionName(parameters.pipeline, parameters.stage),
      DurationSeconds: 900,
    }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('AssumeRole returned no credentials');
    const credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    const clients = new Map<string, CloudFormationClient>();
    const client = (region: string) => {
      if (!clients.has(region)) clients.set(region, deps.cloudFormation(region, credentials));
      return clients.get(region)!;
    };
    return {
      async deployedTemplate(stackName, region) {
        let body: string | undefined;
        try {
          body = (await client(region).send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }))).TemplateBody;
        } catch (e) {
          if (isStackMissing(e)) return undefined;
          throw e;
        }
        if (body === undefined) throw new Error(`GetTemplate returned no TemplateBody for ${stackName}`);
        let template: unknown;
        try {
          template = JSON.parse(body);
        } catch {
          throw new Error(`the deployed template of ${stackName} is not JSON (a YAML template deployed outside the CDK?); the review compares JSON templates. Fix: deploy the stack once with the CDK`);
        }
        if (!isObj(template)) throw new Error(`the deployed template of ${stackName} is not a JSON object`);
        return template as Template;
      },
      async typeSchema(type, region) {
        const out2 = await client(region).send(new DescribeTypeCommand({ Type: 'RESOURCE', TypeName: type }));
        if (!out2.Schema) throw new Error(`DescribeType returned no Schema for ${type}`);
        return out2.Schema;
      },
    };
  };
}

async function fail(deps: HandlerDependencies, jobId: string, message: string, context?: Context): Promise<void> {
  await new CodePipelineJobResults(deps.codePipeline).fail(jobId, message, context?.awsRequestId);
}

/** Reviews one job and answers it. Returns what it did (for the logs and tests). */
export async function runChangeReviewJob(event: unknown, deps: HandlerDependencies, context?: Context): Promise<JobHandlerOutcome> {
  const job = parseJob(event);
  if (!job) throw new Error(`the change review is invoked by CodePipeline jobs only; got ${show(Object.keys(isObj(event) ? event : {}))}`);
  const input = `CodePipeline job ${job.id}`;
  if (job.problem || !job.parameters || !job.artifact) {
    const message = `The change review is misconfigured: ${job.problem}`;
    await fail(deps, job.id, message, context);
    return { input, summaries: [message] };
  }
  const p = job.parameters;
  const stage = deps.stages[p.stage];
  if (!stage || !Array.isArray(stage.targets)) {
    const message = `The change review is misconfigured: stage "${p.stage}" is not in ${SAFETY_STAGES_VARIABLE} (it has ${Object.keys(deps.stages).join(', ') || 'no stages'}). ${FIX_SETTINGS}`;
    await fail(deps, job.id, message, context);
    return { input, summaries: [message] };
  }
  try {
    const assembly = await artifactSource(deps, job.artifact.bucket, job.artifact.key);
    const report = await reviewStage(
      { parameters: p, stage, assembly, cicdAccount: job.accountId },
      { reader: targetReader(deps, p), now: deps.now, readAssemblies: readNestedAssemblies },
    );
    const key = reportKey(p.pipeline, p.executionId, p.stage);
    try {
      await deps.s3.send(new PutObjectCommand({
        Bucket: deps.bucket,
        Key: key,
        Body: JSON.stringify(report, null, 2),
        ContentType: 'application/json',
      }));
    } catch (e) {
      throw new ChangeReviewError(`Change review cannot write its report to s3://${deps.bucket}/${key}: ${(e as Error).name}: ${(e as Error).message}. `
        + 'Fix: the function needs s3:PutObject on the report prefix and kms:GenerateDataKey on the bucket\'s key (the ChangeReview construct grants both); retry the stage');
    }
    const outputVariables = {
      [CHANGE_REVIEW_VARIABLES.summary]: report.summary,
      [CHANGE_REVIEW_VARIABLES.reportUrl]: s3ConsoleUrl(deps.bucket, key, deps.region),
      [CHANGE_REVIEW_VARIABLES.reportUri]: `s3://${deps.bucket}/${key}`,
    };
    await deps.codePipeline.send(new PutJobSuccessResultCommand({
      jobId: job.id,
      executionDetails: { summary: fit(report.summary, CODEPIPELINE_TEXT_LIMITS.summary), percentComplete: 100 },
      outputVariables,
    }));
    return { input, summaries: [report.summary] };
  } catch (e) {
    const message = e instanceof ChangeReviewError ? e.message : `Change review of stage ${p.stage} failed: ${(e as Error).name}: ${(e as Error).message}`;
    logger.error('change review failed', { jobId: job.id, error: message });
    await fail(deps, job.id, message, context);
    return { input, summaries: [message] };
  }
}

let deps: HandlerDependencies | undefined;

export const handler = jobAnsweringHandler('change review', logger, () => {
  deps ??= environmentDependencies();
  return deps;
}, (event, d) => runChangeReviewJob(event, d));
