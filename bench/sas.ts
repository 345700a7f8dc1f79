// SAS slot aggregation benchmark: `disponibilites` over 25 simulated vendors × 25 practitioners
// (625 practitioners, 25 GET /Slot calls per search), one vendor hanging, one returning resources
// that break the SAS profiles, the others answering after a latency drawn in 100–1000 ms. Prints
// the p50/p95/max end-to-end latency, the share of the healthy vendors' slots returned, and what
// happened to the two faulty vendors.
//
//   npm run bench:sas -- [--runs 30] [--deadline 1300] [--seed 7]
//
// The vendors run in a child process, so that their work does not share the aggregator's event loop.
// Each one sits behind a small proxy that computes its agenda once for the (fixed) search window and
// then answers with the vendor's latency: what is measured is the aggregator, not the simulator's
// agenda generation. The aggregator's answer cache is off (SOCLE_SAS_CACHE_MS=0): every search calls
// every vendor. The deadline (SOCLE_SAS_DEADLINE_MS) is 1300 ms by default here: the healthy
// vendors answer within 1 s, and the hanging one must not hold a search longer than the deadline.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { positiveInt, prng } from './support.ts';

const EDITEURS = 25;
const PAR_EDITEUR = 25;

interface Vendeur {
  id: string;
  url: string;
  rpps: string[];
  faute: 'none' | 'hang' | 'invalid';
  latenceMs: number;
}

// The same file runs the vendors' process, told so by this variable.
const ROLE_VENDEURS = 'SOCLE_BENCH_SAS_VENDEURS';
if (process.env[ROLE_VENDEURS]) await vendeurs(JSON.parse(process.env[ROLE_VENDEURS]) as { seed: number; maintenant: string });
else await principal();

async function principal(): Promise<void> {
  const { values: args } = parseArgs({
    options: { runs: { type: 'string', default: '30' }, deadline: { type: 'string', default: '1300' }, seed: { type: 'string', default: '7' }, help: { type: 'boolean', default: false } },
  });
  if (args.help) {
    console.log('usage: npm run bench:sas -- [--runs 30] [--deadline 1300] [--seed 7]');
    return;
  }
  const runs = positiveInt(args.runs, '--runs');
  const deadline = positiveInt(args.deadline, '--deadline');
  const seed = positiveInt(args.seed, '--seed');
  const maintenant = new Date();

  const enfant = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [ROLE_VENDEURS]: JSON.stringify({ seed, maintenant: maintenant.toISOString() }) },
  });
  const liste = await new Promise<Vendeur[]>((resolve, reject) => {
    enfant.once('message', (m) => resolve(m as Vendeur[]));
    enfant.once('error', reject);
    enfant.once('exit', (code) => reject(new Error(`the vendors' process exited (${code})`)));
  });

  Object.assign(process.env, { SOCLE_SAS_CACHE_MS: '0', SOCLE_SAS_DEADLINE_MS: String(deadline), SOCLE_SAS_V1_RETRY_MS: '0' });
  const { default: Fastify } = await import('fastify');
  const { loadConfig, vendoredPackages } = await import('../src/config.ts');
  const { openDatabase } = await import('../src/db/index.ts');
  const { createFhirCore } = await import('../src/fhir/core.ts');
  const { createLogger } = await import('../src/log.ts');
  const { registerAgregateur } = await import('../src/services/sas/agregateur/index.ts');
  const { fenetre, requeteSlots } = await import('../src/services/sas/agregateur/requetes.ts');
  const config = loadConfig({}, { dataDir: '', fhirPackages: vendoredPackages(), logLevel: 'silent', demo: false });
  const log = createLogger('silent');
  const db = await openDatabase({});
  const fhir = await createFhirCore(db, config, log);
  const app = Fastify();
  const agregateur = await registerAgregateur(app, fhir, config, log);
  for (const v of liste) await agregateur.editeurs.enregistrer({ id: v.id, nom: v.id, baseUrl: v.url, type: 'R01', rpps: v.rpps });
  const rpps = liste.flatMap((v) => v.rpps);

  // The reference: every Slot the healthy vendors hold in the window, asked directly with the aggregator's own query
  // (identifiers in registry order), which also has each proxy compute its answer once.
  const f = fenetre(maintenant);
  const sains = liste.filter((v) => v.faute === 'none');
  const attendus = new Set<string>();
  await Promise.all(
    [...sains, ...liste.filter((v) => v.faute === 'invalid')].map(async (v) => {
      const bundle = (await (await fetch(v.url + requeteSlots(v.rpps.map((r) => `8${r}`).sort(), f, false))).json()) as { entry?: { resource: { resourceType: string; id: string } }[] };
      if (v.faute === 'none') for (const e of bundle.entry ?? []) if (e.resource.resourceType === 'Slot') attendus.add(`${v.id}:${e.resource.id}`);
    }),
  );

  const durees: number[] = [];
  const statuts = new Map<string, Map<string, number>>();
  let retournes = 0;
  let invalidesGardes = 0;
  let invalidesRejetes = 0;
  let premier = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const d = await agregateur.disponibilites(rpps, { debut: maintenant });
    const ms = performance.now() - t0;
    if (i === 0) premier = ms;
    durees.push(ms);
    const ids = new Set([...d.parPraticien.values()].flat().map((c) => c.id));
    retournes += [...attendus].filter((id) => ids.has(id)).length;
    for (const r of d.rapports) {
      const v = liste.find((x) => x.id === r.editeur)!;
      const cle = v.faute === 'none' ? 'sains' : v.id;
      const parStatut = statuts.get(cle) ?? new Map<string, number>();
      parStatut.set(r.statut, (parStatut.get(r.statut) ?? 0) + 1);
      statuts.set(cle, parStatut);
      if (v.faute === 'invalid') {
        invalidesGardes += r.creneaux;
        invalidesRejetes += r.rejets.filter((x) => x.ressource.startsWith('Slot/')).length;
      }
    }
  }
  durees.sort((a, b) => a - b);
  const centile = (p: number) => durees[Math.min(durees.length - 1, Math.ceil((p / 100) * durees.length) - 1)];
  const f0 = (n: number) => n.toFixed(0);
  console.log(`SAS aggregation: ${EDITEURS} vendors × ${PAR_EDITEUR} practitioners = ${rpps.length} practitioners per search, ${runs} searches, deadline ${deadline} ms, cache off`);
  console.log(`  vendors: ${sains.length} healthy (latency ${Math.min(...sains.map((v) => v.latenceMs))}–${Math.max(...sains.map((v) => v.latenceMs))} ms), 1 hanging, 1 returning invalid resources`);
  console.log(`  end-to-end latency: p50 ${f0(centile(50))} ms, p95 ${f0(centile(95))} ms, max ${f0(durees[durees.length - 1])} ms (first search ${f0(premier)} ms, profiles checked cold)`);
  console.log(`  slots returned from healthy vendors: ${((100 * retournes) / (attendus.size * runs)).toFixed(1)} % of ${attendus.size} per search`);
  console.log(`  hanging vendor never held a search beyond the deadline: ${durees[durees.length - 1] <= deadline + 250 ? 'yes' : 'NO'} (max ${f0(durees[durees.length - 1])} ms vs ${deadline} ms)`);
  for (const [cle, parStatut] of statuts) console.log(`  ${cle}: ${[...parStatut].map(([s, n]) => `${s} ×${n}`).join(', ')}`);
  console.log(`  invalid vendor: ${f0(invalidesGardes / runs)} conforming slots kept, ${f0(invalidesRejetes / runs)} slots rejected and reported per search`);
  console.log(`  target p95 < 1500 ms: ${centile(95) < 1500 ? 'met' : 'NOT met'}`);

  await agregateur.close();
  await app.close();
  await db.close();
  enfant.kill();
}

/** The 25 vendors, in their own process: simulators behind proxies that answer with each vendor's latency. */
async function vendeurs({ seed, maintenant }: { seed: number; maintenant: string }): Promise<void> {
  const { startVendorSim } = await import('../src/services/sas/editeur/index.ts');
  const hasard = prng(seed);
  const now = () => new Date(maintenant);
  const liste: Vendeur[] = [];
  for (let i = 0; i < EDITEURS; i++) {
    const faute = i === 0 ? 'hang' : i === 1 ? 'invalid' : 'none';
    const sim = await startVendorSim({ seed: `bench-${seed}-${i}`, praticiens: PAR_EDITEUR, fault: faute, now });
    const latenceMs = Math.round(100 + hasard() * 900);
    const memoire = new Map<string, Promise<{ statut: number; type: string; corps: Buffer }>>();
    const proxy = createServer(async (req, res) => {
      const debut = Date.now();
      const url = req.url ?? '/';
      let reponse = memoire.get(url);
      if (!reponse) {
        reponse = fetch(sim.url + url).then(async (r) => ({ statut: r.status, type: r.headers.get('content-type') ?? '', corps: Buffer.from(await r.arrayBuffer()) }));
        memoire.set(url, reponse);
      }
      try {
        const r = await reponse;
        await new Promise((ok) => setTimeout(ok, Math.max(0, latenceMs - (Date.now() - debut))));
        res.writeHead(r.statut, { 'content-type': r.type }).end(r.corps);
      } catch (err) {
        memoire.delete(url);
        res.writeHead(502).end((err as Error).message);
      }
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    liste.push({ id: `editeur-${String(i + 1).padStart(2, '0')}`, url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, rpps: sim.praticiens.map((p) => p.rpps), faute, latenceMs });
  }
  process.send!(liste);
  // Ends with the benchmark.
  process.on('disconnect', () => process.exit(0));
}
