#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DdkConfig, DeliveryPipelineStack, DeliveryPlan, SampleApplication } from '../lib';
import { runApp } from './run-app';

/*
 * The default app: ddk.json (or -c ddkConfig=<path>) → validated config → delivery plan →
 * the CICD stack, checked by cdk-nag's AwsSolutions pack and CloudFormation validation.
 */
runApp(() => {
  const app = new App();
  const file = app.node.tryGetContext('ddkConfig') ?? 'ddk.json';
  const config = DdkConfig.fromFile(file);
  for (const w of config.warnings) process.stderr.write(`[Warning] ${w}\n`);
  const plan = DeliveryPlan.fromConfig(config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  new DeliveryPipelineStack(app, `${plan.name}-pipeline`, { plan, application: new SampleApplication() });
  app.synth();
});
