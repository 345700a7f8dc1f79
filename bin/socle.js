#!/usr/bin/env node
// The `socle` command: loads the TypeScript sources through tsx so a checkout runs without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
