// Demo identities, so that the quick start can log in: the first demo professional with a fixed
// e-CPS (TOTP) secret, the first demo patient with a password and codes sent to the outbox, the
// demo relying party and the bootstrap admin client. Fixed secrets: demo data only.
import type { Patient, Practitioner } from '@medplum/fhirtypes';
import { demoEntries } from '../demo/seed.ts';
import type { FhirCore } from '../fhir/core.ts';
import { Accounts } from './accounts.ts';
import { INS_SYSTEMS, RPPS_SYSTEM } from './claims.ts';
import { Clients, ensureAdminClient } from './clients.ts';
import { createOtpSender } from './otp-sender.ts';
import { masterKey, Sealer } from './secrets.ts';

export const DEMO_TOTP_SECRET = 'KNXWG3DFFVSGK3LPFVSWG4DTFVTG64TNMF2GS33O';
export const DEMO_PATIENT_PASSWORD = 'socle-demo-patient';
export const DEMO_CLIENT = {
  clientId: 'socle-demo',
  secret: 'socle-demo-secret',
  redirectUris: ['http://localhost:8080/demo/callback', 'http://127.0.0.1:*'],
};

export interface AuthDemo {
  professional?: { idNatPs: string; practitionerId: string; totpSecret: string };
  patient?: { ins: string; patientId: string; password: string; contact: string };
  client: typeof DEMO_CLIENT;
}

export async function seedAuthDemo(core: FhirCore): Promise<AuthDemo> {
  const sealer = new Sealer(masterKey(core.config, core.db));
  const clients = new Clients(core.db, sealer);
  const accounts = new Accounts(core.db, sealer, createOtpSender(core.config.authOtpOutbox));
  await ensureAdminClient(clients, core.config);
  await clients.upsert({
    ...DEMO_CLIENT,
    name: 'Application de démonstration',
    issuers: ['pro', 'patient'],
    postLogoutRedirectUris: DEMO_CLIENT.redirectUris,
    scopes: ['openid', 'scope_all', 'profile', 'ins', 'offline_access'],
    grantTypes: ['authorization_code', 'refresh_token'],
    authMethod: 'client_secret_basic',
  });
  const result: AuthDemo = { client: DEMO_CLIENT };

  // The demo's first professional and patient (any, when the store holds other data).
  const firsts = demoEntries(1).map((e) => e.resource!);
  const identifierOf = (type: string, systems: string[]) =>
    (firsts.find((r) => r.resourceType === type) as Practitioner | Patient).identifier!.find((i) => systems.includes(i.system!))!;
  const pick = async (type: string, systems: string[]) => {
    const demo = identifierOf(type, systems);
    const stored =
      (await core.search(type, { identifier: `${demo.system}|${demo.value}`, _count: '1' })).matches[0] ??
      (await core.search(type, { identifier: systems.map((s) => `${s}|`).join(','), _count: '1' })).matches[0];
    const value = stored && (JSON.parse(stored.json) as Practitioner | Patient).identifier?.find((i) => systems.includes(i.system ?? ''))?.value;
    return stored && value ? { id: stored.id, value } : undefined;
  };

  const practitioner = await pick('Practitioner', [RPPS_SYSTEM]);
  if (practitioner) {
    await accounts.upsert({ kind: 'professional', login: practitioner.value, resourceId: practitioner.id, totpSecret: DEMO_TOTP_SECRET, secondFactor: 'totp' });
    result.professional = { idNatPs: practitioner.value, practitionerId: practitioner.id, totpSecret: DEMO_TOTP_SECRET };
  }
  const patient = await pick('Patient', INS_SYSTEMS);
  if (patient) {
    const contact = 'patient.demo@example.test';
    await accounts.upsert({ kind: 'patient', login: patient.value, resourceId: patient.id, password: DEMO_PATIENT_PASSWORD, secondFactor: 'otp', contact });
    result.patient = { ins: patient.value, patientId: patient.id, password: DEMO_PATIENT_PASSWORD, contact };
  }
  return result;
}
