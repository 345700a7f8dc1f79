import type { Command } from './index.ts';

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 'Rebuild the search index (all types, or the types named), e.g. after adding a SearchParameter',
  usage: 'socle reindex [ResourceType ...]',
  async run(args) {
    const { loadConfig } = await import('../config.ts');
    const { createPlatform } = await import('../server.ts');
    const { reindex } = await import('../fhir/reindex.ts');
    const { storedResourceTypes } = await import('../fhir/definitions.ts');
    const platform = await createPlatform(loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }));
    try {
      const started = Date.now();
      const counts = await reindex(platform.db, args.length > 0 ? args : storedResourceTypes(), (type, done) => {
        process.stderr.write(`\r${type}: ${done}`);
      });
      process.stderr.write('\n');
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      console.log(`${total} resources reindexed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    } finally {
      await platform.close();
    }
  },
};
