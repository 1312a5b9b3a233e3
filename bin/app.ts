#!/usr/bin/env node
import { buildApp } from './build-app';
import { runApp } from './run-app';

// `npx cdk synth` (optionally `-c ddkConfig=<path>`): synthesizes the delivery pipeline of ddk.json.
runApp(() => buildApp().app.synth());
