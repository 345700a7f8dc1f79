import { loadConfig } from '../config.ts';
import type { Command } from './index.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'Start the platform (HTTP on PORT, embedded database in SOCLE_DATA_DIR unless DATABASE_URL is set)',
  usage: 'socle start',
  async run() {
    // Imported here so that other commands do not load the server.
    const { createPlatform } = await import('../server.ts');
    const config = loadConfig();
    const platform = await createPlatform(config);
    if (config.demo) {
      const { seedDemo } = await import('../demo/seed.ts');
      const loaded = await seedDemo(platform.fhir);
      if (loaded) platform.log.info({ loaded }, 'demo data loaded (SOCLE_DEMO=false to start empty)');
      // Demo accounts and clients, so that the quick start can log in (idempotent).
      const { seedAuthDemo } = await import('../auth/index.ts');
      await seedAuthDemo(platform.fhir);
    }
    // A port already taken must not leave the demo's vendor simulators and timers running.
    await platform.app.listen({ port: config.port, host: config.host }).catch(async (err) => {
      await platform.close();
      throw err;
    });
    platform.log.info({ url: config.baseUrl, database: platform.db.kind }, 'Socle is listening');
    if (config.demo) void import('../referentiels/annuaire/demo.ts').then((m) => m.chargerAnnuaireDemo(platform)).catch((err) => platform.log.warn({ err }, 'demo directory not imported'));
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        platform.log.info({ signal }, 'shutting down');
        platform.close().then(resolve, (err) => {
          platform.log.error({ err }, 'shutdown failed');
          resolve();
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    return 0;
  },
};
