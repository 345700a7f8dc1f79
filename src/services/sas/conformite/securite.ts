// Transport and entry checks: TLS 1.2+, mutual TLS, CapabilityStatement, and the V2 booking entry (origin).
import { ouvrirPki } from '../../../pki/pki.ts';
import { appeler, type Identite } from './client.ts';
import { exiger, messageErreur, Saut } from './journal.ts';
import { deType, type Contexte } from './outils.ts';

export async function verifierCapacite(ctx: Contexte): Promise<void> {
  await ctx.journal.verifier('CapabilityStatement', 'metadata', 'GET [base]/metadata → 200 CapabilityStatement (optional)', async () => {
    const r = await ctx.appeler('/metadata');
    exiger(r.statut === 200, `HTTP ${r.statut}`);
    exiger(r.json?.resourceType === 'CapabilityStatement', `the answer is a ${r.json?.resourceType ?? 'non-FHIR body'}, not a CapabilityStatement`);
  }, true);
}

/** `chemin` is a Slot search of the checked practitioner: what the kit calls to probe the TLS layer. */
export async function verifierTls(ctx: Contexte, chemin: string, identite: Identite | undefined, ca: string | undefined): Promise<void> {
  const g = 'Sécurité (TLS, mTLS)';
  const url = `${ctx.base}${chemin}`;
  if (!url.startsWith('https:')) {
    ctx.journal.sauter(g, 'tls', 'TLS 1.2+ and mutual TLS', 'the base URL is not https');
    return;
  }
  await ctx.journal.verifier(g, 'tls-version', 'TLS 1.2 or later negotiated; TLS 1.0/1.1 refused', async () => {
    const r = await appeler(url, { identite, ca });
    exiger(r.protocole === 'TLSv1.2' || r.protocole === 'TLSv1.3', `negotiated ${r.protocole}`);
    const ancien = await appeler(url, { identite, ca, tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } })
      .then((x) => `HTTP ${x.statut}`, () => undefined);
    exiger(!ancien, `a TLS 1.1 connection was accepted (${ancien})`);
    return `${r.protocole}`;
  });
  await ctx.journal.verifier(g, 'mtls-valide', 'with the SAS client certificate → 200', async () => {
    if (!identite) throw new Saut('no client certificate given (--cert, --key)');
    const r = await appeler(url, { identite, ca });
    exiger(r.statut === 200, `HTTP ${r.statut}`);
  });
  await ctx.journal.verifier(g, 'mtls-sans-certificat', 'without a client certificate → TLS failure or 4xx', async () => {
    const r = await appeler(url, { identite: null, ca }).catch((e: Error) => e);
    if (r instanceof Error) return `refused: ${messageErreur(r)}`;
    exiger(r.statut >= 400 && r.statut < 500, `HTTP ${r.statut}: the server answered without a client certificate`);
  });
  await ctx.journal.verifier(g, 'mtls-autorite-inconnue', 'with a certificate from an unknown authority → TLS failure or 4xx', async () => {
    const etrangere = await ouvrirPki();
    const cert = await etrangere.emettreOrganisation('SAS-CONFORMITE', { identifiant: '3' + '0'.repeat(14), nom: 'Autorité inconnue' }, 1);
    const r = await appeler(url, { identite: { ...cert }, ca }).catch((e: Error) => e);
    if (r instanceof Error) return `refused: ${messageErreur(r)}`;
    exiger(r.statut >= 400 && r.statut < 500, `HTTP ${r.statut}: a certificate from an unknown authority was accepted`);
  });
}

/** V2: the booking URL of Slot.comment must not open the agenda without `origin` (error or login page). */
export async function verifierV2(ctx: Contexte, bundle: any, identite: Identite | undefined, ca: string | undefined): Promise<void> {
  const g = 'Flux V2 accès à la réservation';
  const lien = deType(bundle, 'Slot').map((s) => s.comment).find((c) => typeof c === 'string' && /^https?:\/\//.test(c));
  const v = (id: string, titre: string, fn: () => unknown) => ctx.journal.verifier(g, id, titre, fn);
  await v('sans-origine', 'booking URL without origin → error or login page', async () => {
    if (!lien) throw new Saut('no Slot.comment URL to follow');
    const r = await appeler(lien, { identite, ca, entetes: { Accept: 'text/html' } });
    const connexion = /type=["']?password|connexion|se connecter|login/i.test(r.texte);
    exiger(r.statut >= 300 || connexion, `HTTP ${r.statut} without origin and no login form: the booking page opened without the SAS context`);
  });
  await v('avec-origine', 'booking URL with origin=sas → page or redirection to the login', async () => {
    if (!lien) throw new Saut('no Slot.comment URL to follow');
    const r = await appeler(`${lien}${lien.includes('?') ? '&' : '?'}origin=sas`, { identite, ca, entetes: { Accept: 'text/html' } });
    exiger(r.statut < 400, `HTTP ${r.statut}`);
  });
}
