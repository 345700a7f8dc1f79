import type { Command } from './index.ts';

export const terminologyCommand: Command = {
  name: 'terminology',
  summary: 'Load CodeSystems, ValueSets and ConceptMaps from FHIR packages (.tgz or folders), folders of JSON files or Bundles',
  usage: 'socle terminology load <package.tgz|folder|bundle.json> [...]',
  async run(args) {
    const [action, ...paths] = args;
    if (action !== 'load' || paths.length === 0) {
      console.error(`Usage: ${this.usage}`);
      return 2;
    }
    const { loadConfig } = await import('../config.ts');
    const { createPlatform } = await import('../server.ts');
    const { loadTerminology, readTerminologySource } = await import('../terminology/loader.ts');
    const platform = await createPlatform(loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }));
    let failed = 0;
    try {
      for (const path of paths) {
        const started = Date.now();
        const resources = await readTerminologySource(path);
        const progress = process.stderr.isTTY ? (done: number, total: number) => process.stderr.write(`\r${path}: ${done}/${total}`) : undefined;
        const report = await loadTerminology(platform.fhir, resources, progress);
        if (progress) process.stderr.write('\n');
        const types = Object.entries(report.byType).map(([type, n]) => `${n} ${type}`).join(', ') || 'no terminology resource';
        console.log(
          `${path}: ${types} (${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged, ${report.skipped} other resources skipped) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        for (const error of report.errors) console.error(`  not loaded: ${error}`);
        failed += report.errors.length;
      }
      return failed ? 1 : 0;
    } finally {
      await platform.close();
    }
  },
};
