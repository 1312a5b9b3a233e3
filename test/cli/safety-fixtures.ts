import { exampleDoc } from './helpers';

/** The example with a guarded production stage: a window, a change review, alarms in two places. */
export function safetyDoc(strategy = 'codepipeline-trunk'): any {
  const doc = exampleDoc();
  doc.pipeline.strategy = strategy;
  doc.pipeline.executionMode = 'QUEUED';
  doc.environments['prod-eu'].alarms = ['api-5xx'];
  const prod = doc.pipeline.stages[1];
  prod.window = { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' };
  prod.changeReview = true;
  prod.alarms = { names: ['latency-p99'], cicd: ['pipeline-canary'], soakMinutes: 15 };
  return doc;
}
