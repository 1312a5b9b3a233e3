import { Finding, FindingSink } from '../findings';
import type { StackTemplate } from '../synthesize';

/*
 * CloudFormation's documented quotas for a template ("AWS CloudFormation quotas"): 500 resources,
 * 200 outputs, 200 parameters, 200 mappings, logical ids of at most 255 alphanumeric characters,
 * a description of at most 1,024 bytes, and a template body of at most 51,200 bytes when passed
 * in the request or 1 MB from S3. Every template here reaches CloudFormation from S3 (CDK assets,
 * pipeline artifacts), so the S3 limit applies; it is checked as 1,000,000 bytes, the smaller
 * reading of "1 MB".
 */

/** CloudFormation's documented template quotas. */
export const CLOUDFORMATION = {
  resources: 500,
  outputs: 200,
  parameters: 200,
  mappings: 200,
  logicalIdLength: 255,
  descriptionBytes: 1024,
  templateBytesFromS3: 1_000_000,
} as const;

type Input = Pick<StackTemplate, 'displayName' | 'template'> & { readonly bytes?: number };

/** A template within CloudFormation's quotas. */
export function checkTemplateQuotas(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const t = stack.template ?? {};
  const count = (section: string) => Object.keys(t[section] ?? {}).length;
  const limits: Array<[string, number]> = [['Resources', CLOUDFORMATION.resources], ['Outputs', CLOUDFORMATION.outputs], ['Parameters', CLOUDFORMATION.parameters], ['Mappings', CLOUDFORMATION.mappings]];
  for (const [section, max] of limits) {
    if (count(section) > max) sink.add('cloudformation.template-quota', section, `${count(section)} ${section.toLowerCase()}; CloudFormation allows ${max} per template`);
  }
  for (const section of ['Resources', 'Outputs', 'Parameters', 'Mappings', 'Conditions']) {
    for (const id of Object.keys(t[section] ?? {})) {
      if (!/^[A-Za-z0-9]+$/.test(id) || id.length > CLOUDFORMATION.logicalIdLength) {
        sink.add('cloudformation.logical-id', `${section}.${id}`, `logical id is not 1–${CLOUDFORMATION.logicalIdLength} alphanumeric characters`);
      }
    }
  }
  if (typeof t.Description === 'string' && Buffer.byteLength(t.Description) > CLOUDFORMATION.descriptionBytes) {
    sink.add('cloudformation.template-quota', 'Description', `description of ${Buffer.byteLength(t.Description)} bytes; CloudFormation allows ${CLOUDFORMATION.descriptionBytes}`);
  }
  const bytes = stack.bytes ?? Buffer.byteLength(JSON.stringify(t));
  if (bytes > CLOUDFORMATION.templateBytesFromS3) {
    sink.add('cloudformation.template-size', 'template', `template of ${bytes} bytes; CloudFormation accepts at most ${CLOUDFORMATION.templateBytesFromS3} from S3`);
  }
  return sink.findings;
}
