// The practitioners' own pages: their participation in the SAS (or refusal), and the "agenda SAS"
// where a practitioner or a structure without connected scheduling software (SOS Médecins, CPTS)
// enters availability by hand — FHIR Schedule and Slot with the SAS profiles, through the core.
import type { Schedule, Slot } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { withContext } from '../../../access/context.ts';
import { PLATFORM } from '../../../access/principal.ts';
import { FhirError } from '../../../fhir/outcome.ts';
import { dateSas, instantParis } from '../editeur/temps.ts';
import type { Offre } from '../recherche/offres.ts';
import { enregistrer } from '../statistiques/index.ts';
import { exigerUtilisateur, html, type Formulaire, type Portail } from './acces.ts';
import { dateHeure, esc, page } from './pages.ts';
import type { Utilisateur } from './session.ts';

const PROFIL_SCHEDULE = 'http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur';
const PROFIL_SLOT = 'http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur';
const TYPE_CRENEAU = 'https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau';
const CONSULTATIONS = { AMB: 'Au cabinet', HH: 'À domicile', VR: 'Téléconsultation' } as const;
const TYPES = { SNP: 'Réservé à la régulation (SNP)', PUBLIC: 'Public', PRO: 'Professionnels' } as const;

/** Records a practitioner's decision (and the statistics event). */
export async function declarerParticipation(p: Portail, idnat: string, participe: boolean, motif: string | undefined, par: string): Promise<void> {
  await p.core.db.query(
    `INSERT INTO sas_participation (idnat, participe, motif, modifie_par) VALUES ($1, $2, $3, $4)
     ON CONFLICT (idnat) DO UPDATE SET participe = EXCLUDED.participe, motif = EXCLUDED.motif, modifie_par = EXCLUDED.modifie_par, modifie_le = now()`,
    [idnat, participe, motif || null, par],
  );
  const [offre] = await p.index.trouver({ idnats: [idnat] });
  await enregistrer(p.core.db, { type: participe ? 'participation' : 'refus', departement: offre?.commune?.departement, acteur: par, idnat });
}

/** The agendas a professional manages: their own places of practice, and the services of their structures. */
async function agendas(p: Portail, u: Utilisateur): Promise<Offre[]> {
  const miens = (await p.index.trouver({ idnats: [u.idnat] })).filter((o) => o.type === 'ps');
  const structures = [...new Set(miens.map((o) => o.organisation).filter((x): x is string => !!x))];
  return [...miens, ...(structures.length > 0 ? await p.index.servicesDe(structures) : [])];
}

export function routesProfessionnel(p: Portail) {
  return async (app: FastifyInstance) => {
    app.get('/sas/participation', async (req: FastifyRequest<{ Querystring: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, false);
      if (!u) return reply;
      const { rows } = await p.core.db.query<{ participe: boolean; motif: string | null; modifie_le: Date }>('SELECT participe, motif, modifie_le FROM sas_participation WHERE idnat = $1', [u.idnat]);
      const d = rows[0];
      const etat = d ? `Vous avez déclaré ${d.participe ? 'participer' : 'ne pas participer'} au SAS le ${dateHeure(d.modifie_le.toISOString())}.` : "Vous n'avez pas encore déclaré votre participation au SAS.";
      const radio = (v: string, texte: string, checked: boolean) =>
        `<div class="fr-fieldset__element"><div class="fr-radio-group"><input type="radio" id="participe-${v}" name="participe" value="${v}"${checked ? ' checked' : ''} required><label class="fr-label" for="participe-${v}">${texte}</label></div></div>`;
      const corps = `<h1>Ma participation au SAS</h1>
<p>${esc(etat)}</p>
<p>Les professionnels participants apparaissent en premier dans les recherches des régulateurs.</p>
<form method="post" action="/sas/participation">
<input type="hidden" name="csrf" value="${esc(u.csrf)}">
<fieldset class="fr-fieldset" aria-labelledby="participation-legende"><legend class="fr-fieldset__legend" id="participation-legende">Participez-vous au service d'accès aux soins ?</legend>
${radio('oui', 'Je participe au SAS', d?.participe === true)}${radio('non', 'Je ne participe pas au SAS', d?.participe === false)}
</fieldset>
<div class="fr-input-group"><label class="fr-label" for="motif">Commentaire<span class="fr-hint-text">Facultatif, par exemple le motif d'un refus</span></label><textarea class="fr-input" id="motif" name="motif" maxlength="500">${esc(d?.motif ?? '')}</textarea></div>
<button class="fr-btn" type="submit">Enregistrer</button>
</form>`;
      const alerte = req.query.enregistre ? { type: 'success' as const, texte: 'Votre choix est enregistré.' } : undefined;
      return html(reply, 200, page({ titre: 'Ma participation', utilisateur: u, actif: '/sas/participation', alerte }, corps));
    });

    app.post('/sas/participation', async (req: FastifyRequest<{ Body: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, false);
      if (!u) return reply;
      const choix = req.body?.participe;
      if (choix !== 'oui' && choix !== 'non') return html(reply, 400, page({ titre: 'Ma participation', utilisateur: u, alerte: { type: 'error', texte: 'Choisissez si vous participez ou non.' } }, '<p><a class="fr-link" href="/sas/participation">Retour</a></p>'));
      await declarerParticipation(p, u.idnat, choix === 'oui', req.body.motif?.slice(0, 500), u.idnat);
      return reply.redirect('/sas/participation?enregistre=1', 303);
    });

    app.get('/sas/agenda', async (req: FastifyRequest<{ Querystring: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, false);
      if (!u) return reply;
      const liste = await agendas(p, u);
      const parAgenda = await creneauxDe(p, liste);
      const nom = (o: Offre) => (o.type === 'ps' ? `Mon agenda — ${o.structure ?? o.adresse ?? o.cle}` : `${o.nom} (structure)`);
      const options = (m: Record<string, string>) => Object.entries(m).map(([v, t]) => `<option value="${v}">${esc(t)}</option>`).join('');
      const select = (id: string, label: string, opts: string) => `<div class="fr-select-group"><label class="fr-label" for="${id}">${label}</label><select class="fr-select" id="${id}" name="${id}" required>${opts}</select></div>`;
      const input = (id: string, label: string, type: string) => `<div class="fr-input-group"><label class="fr-label" for="${id}">${label}</label><input class="fr-input" type="${type}" id="${id}" name="${id}" required></div>`;
      const listes = liste
        .map((o) => {
          const slots = parAgenda.get(o.cle) ?? [];
          return `<h2 class="fr-h5">${esc(nom(o))}</h2>${slots.length === 0 ? '<p>Aucun créneau à venir.</p>' : `<ul>${slots
            .map((s) => `<li>${esc(dateHeure(s.start))} – ${esc(dateHeure(s.end))} (${esc(CONSULTATIONS[(s.serviceType?.[0]?.coding?.[0]?.code ?? 'AMB') as keyof typeof CONSULTATIONS] ?? '')}) <form method="post" action="/sas/agenda/retirer" class="fr-displayed-inline"><input type="hidden" name="csrf" value="${esc(u.csrf)}"><input type="hidden" name="slot" value="${esc(s.id!)}"><button class="fr-btn fr-btn--sm fr-btn--tertiary" type="submit" aria-label="Retirer le créneau du ${esc(dateHeure(s.start))}">Retirer</button></form></li>`)
            .join('')}</ul>`}`;
        })
        .join('\n');
      const corps = `<h1>Agenda SAS</h1>
<p>Sans logiciel d'agenda connecté à la plateforme, déclarez ici vos disponibilités : les régulateurs les voient et y réservent des rendez-vous.</p>
${liste.length === 0 ? "<p>Aucun lieu d'exercice ni structure ne vous est rattaché dans l'annuaire.</p>" : `<form method="post" action="/sas/agenda" class="fr-mb-4w">
<input type="hidden" name="csrf" value="${esc(u.csrf)}">
${select('agenda', 'Agenda', liste.map((o) => `<option value="${esc(o.cle)}">${esc(nom(o))}</option>`).join(''))}
<div class="fr-grid-row fr-grid-row--gutters"><div class="fr-col-6 fr-col-md-3">${input('date', 'Date', 'date')}</div><div class="fr-col-6 fr-col-md-3">${input('heure', 'Heure de début', 'time')}</div>
<div class="fr-col-6 fr-col-md-2">${select('duree', 'Durée', options({ 15: '15 min', 20: '20 min', 30: '30 min', 45: '45 min', 60: '1 h' }))}</div>
<div class="fr-col-6 fr-col-md-2">${select('consultation', 'Consultation', options(CONSULTATIONS))}</div>
<div class="fr-col-12 fr-col-md-2">${select('type', 'Visibilité', options(TYPES))}</div></div>
<button class="fr-btn" type="submit">Ajouter le créneau</button></form>`}
${listes}`;
      const alerte = req.query.erreur ? { type: 'error' as const, texte: String(req.query.erreur) } : req.query.ajoute ? { type: 'success' as const, texte: 'Le créneau est ajouté.' } : undefined;
      return html(reply, 200, page({ titre: 'Agenda SAS', utilisateur: u, actif: '/sas/agenda', alerte }, corps));
    });

    app.post('/sas/agenda', async (req: FastifyRequest<{ Body: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, false);
      if (!u) return reply;
      const f = req.body ?? {};
      const o = (await agendas(p, u)).find((a) => a.cle === f.agenda);
      const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(f.date ?? '');
      const h = /^(\d{2}):(\d{2})$/.exec(f.heure ?? '');
      const duree = Number(f.duree);
      const erreur = (t: string) => reply.redirect(`/sas/agenda?erreur=${encodeURIComponent(t)}`, 303);
      if (!o) return erreur("Cet agenda n'est pas le vôtre.");
      if (!d || !h || !(duree >= 5 && duree <= 240)) return erreur('Date, heure ou durée invalide.');
      if (!(f.consultation! in CONSULTATIONS) || !(f.type! in TYPES)) return erreur('Type de consultation ou visibilité invalide.');
      const debut = instantParis(+d[1], +d[2], +d[3], +h[1], +h[2]);
      if (debut.getTime() < Date.now()) return erreur('Le créneau doit commencer dans le futur.');
      try {
        await ajouterCreneau(p, o, debut, new Date(debut.getTime() + duree * 60_000), f.consultation!, f.type!);
      } catch (err) {
        if (err instanceof FhirError) return erreur(`Créneau refusé : ${err.message}`);
        throw err;
      }
      return reply.redirect('/sas/agenda?ajoute=1', 303);
    });

    app.post('/sas/agenda/retirer', async (req: FastifyRequest<{ Body: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, false);
      if (!u) return reply;
      const mes = await creneauxDe(p, await agendas(p, u));
      const slot = [...mes.values()].flat().find((s) => s.id === req.body?.slot);
      if (slot) await withContext({ principal: PLATFORM }, () => p.core.delete('Slot', slot.id!));
      return reply.redirect('/sas/agenda', 303);
    });
  };
}

/** The Schedule of an agenda (created on first use), then the slot. */
async function ajouterCreneau(p: Portail, o: Offre, debut: Date, fin: Date, consultation: string, type: string): Promise<string> {
  return withContext({ principal: PLATFORM }, async () => {
    const existant = await p.core.search('Schedule', { actor: o.cle, _count: '1' });
    let scheduleId = existant.matches[0]?.id;
    if (!scheduleId) {
      const actor = o.type === 'ps' ? [{ reference: `Practitioner/${o.practitionerId}` }, { reference: o.cle }] : [{ reference: o.cle }];
      const schedule: Schedule = { resourceType: 'Schedule', meta: { profile: [PROFIL_SCHEDULE] }, active: true, actor, comment: 'Agenda SAS' };
      scheduleId = (await p.core.create(schedule)).stored.id;
    }
    const slot: Slot = {
      resourceType: 'Slot',
      meta: { profile: [PROFIL_SLOT], security: [{ system: TYPE_CRENEAU, code: type }] },
      serviceType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: consultation }] }],
      appointmentType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'ROUTINE' }] },
      schedule: { reference: `Schedule/${scheduleId}` },
      status: 'free',
      start: dateSas(debut),
      end: dateSas(fin),
      comment: 'Agenda SAS : réservation sur la plateforme',
    };
    return (await p.core.create(slot)).stored.id;
  });
}

async function creneauxDe(p: Portail, liste: Offre[]): Promise<Map<string, Slot[]>> {
  const out = new Map<string, Slot[]>();
  if (liste.length === 0) return out;
  const schedules = await p.core.search('Schedule', { actor: liste.map((o) => o.cle).join(','), _count: '100' });
  for (const m of schedules.matches) {
    const s = JSON.parse(m.json) as Schedule;
    const cle = s.actor.map((a) => a.reference).find((r) => liste.some((o) => o.cle === r));
    if (!cle) continue;
    const slots = await p.core.search('Slot', { schedule: `Schedule/${m.id}`, start: `ge${new Date().toISOString()}`, _sort: 'start', _count: '200' });
    out.set(cle, [...(out.get(cle) ?? []), ...slots.matches.map((x) => JSON.parse(x.json) as Slot)]);
  }
  return out;
}

